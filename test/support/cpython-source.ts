// The CPython source tarball the --python-source tests build: Debian bookworm's pristine upstream
// tarball of python3.11 (the .orig of a pinned source version), fetched from the mirror without
// touching the machine's apt sources, checked against the .dsc's Checksums-Sha256 and against the
// pinned hash, and cached OUTSIDE the checkout so CI downloads it once.
//
// The pin: bookworm's python3.11 3.11.2-6+deb12u8 (its .dsc is in the main pool). Its orig is
// Python-3.11.2.tgz from python.org byte for byte, so the hash below also names upstream's file.
// When Debian drops that .dsc from the pool, the cached tarball keeps working; a fresh machine
// needs the next version's .dsc here (its orig, shared by every 3.11.2-* upload, has the same hash).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SOURCE_CACHE = process.env.PYRELO_SOURCE_CACHE ?? '/var/cache/pyrelo/sources';
export const DEBIAN_MIRROR = process.env.PYRELO_LAB_MIRROR ?? 'http://deb.debian.org/debian';
export const POOL = 'pool/main/p/python3.11';
export const DSC = 'python3.11_3.11.2-6+deb12u8.dsc';
export const ORIG = 'python3.11_3.11.2.orig.tar.gz';
export const ORIG_SHA256 = '2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849';
export const SOURCE_VERSION = '3.11.2';

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** The `Checksums-Sha256` entries of a .dsc: file name to hash. */
export function dscSha256(dsc: string): Map<string, string> {
  const out = new Map<string, string>();
  const section = /^Checksums-Sha256:\n((?: .*\n)+)/m.exec(dsc);
  if (section === null) return out;
  for (const line of section[1]!.split('\n')) {
    const m = /^ ([0-9a-f]{64}) \d+ (\S+)$/.exec(line);
    if (m !== null) out.set(m[2]!, m[1]!);
  }
  return out;
}

function writeAtomic(path: string, bytes: Buffer | string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

/** The cached orig tarball's path; downloaded and verified when missing or damaged. */
export async function ensureCpythonSource(): Promise<string> {
  mkdirSync(SOURCE_CACHE, { recursive: true });
  const tarball = join(SOURCE_CACHE, ORIG);
  if (existsSync(tarball) && sha256(readFileSync(tarball)) === ORIG_SHA256) return tarball;
  rmSync(tarball, { force: true });
  const dsc = await download(`${DEBIAN_MIRROR}/${POOL}/${DSC}`);
  const listed = dscSha256(dsc.toString('utf8')).get(ORIG);
  if (listed !== ORIG_SHA256) throw new Error(`${DSC}: lists ${ORIG} as ${listed ?? 'nothing'}, pinned ${ORIG_SHA256}`);
  const bytes = await download(`${DEBIAN_MIRROR}/${POOL}/${ORIG}`);
  const got = sha256(bytes);
  if (got !== listed) throw new Error(`${ORIG}: sha256 ${got}, the .dsc says ${listed}`);
  writeAtomic(join(SOURCE_CACHE, DSC), dsc);
  writeAtomic(tarball, bytes);
  return tarball;
}
