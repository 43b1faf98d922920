// `pyrelo build --python 3.13`: the CPython source tarball of a version, from a Debian mirror
// (README, `pyrelo build`). The catalog (cpython-catalog.ts) says which .dsc and .orig to take and
// their sha256; the .dsc is fetched and must have its listed hash, the .orig must have the hash the
// .dsc lists (which the catalog must agree with), and only then is the tarball kept, in
// <cache>/sources/ under its pool name, written to a temporary name and renamed. A tarball already
// there with the right hash is used without asking the mirror, so a build from the cache is offline.
//
// The mirror is --mirror, else PYRELO_MIRROR, else Debian's own; an internal mirror or a file://
// folder laid out as the archive (pool/main/p/python3.13/…) does as well.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builderCacheRoot } from './cache-root.js';
import { MAX_ORIG_BYTES, matchingSources, type CpythonCatalog, type CpythonSource } from './cpython-catalog.js';
import { BuildInputError } from './errors.js';
import type { Progress } from './progress.js';

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** A .dsc is a few kilobytes; anything much larger is not one. */
const MAX_DSC_BYTES = 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 600_000;

export function defaultSourceCache(): string {
  return join(builderCacheRoot(), 'sources');
}

/** --mirror, else PYRELO_MIRROR, else Debian's mirror; checked to be an http(s) or file URL. */
export function chooseMirror(option: string | null | undefined, env = process.env): string {
  const given = option ?? env.PYRELO_MIRROR ?? DEFAULT_MIRROR;
  const input = option !== null && option !== undefined ? `--mirror ${given}` : `PYRELO_MIRROR ${given}`;
  if (given.length > 2000 || !/^(https?:\/\/[^\s/]+|file:\/\/)\S*$/.test(given))
    throw new BuildInputError(input, 'expected an http://, https:// or file:// URL of a Debian archive');
  return given.replace(/\/+$/, '');
}

/** A pool file could not be had: the mirror lacks it (try an older release) or could not be reached. */
export class MirrorMissError extends BuildInputError {}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes at `url`, at most `limit` of them; a MirrorMissError when there are none or too many. */
async function download(url: string, limit: number, input: string): Promise<Buffer> {
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) throw new MirrorMissError(input, `${url}: no such file`);
    if (stat.size > limit)
      throw new BuildInputError(input, `${url}: ${stat.size} bytes, more than the ${limit} expected`);
    return readFileSync(path);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new MirrorMissError(input, `${url}: cannot fetch it (${cause})`);
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new MirrorMissError(input, `${url}: HTTP ${response.status}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      throw new BuildInputError(input, `${url}: more than the ${limit} bytes expected`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** A .dsc's `Checksums-Sha256` entries: file name to hash. */
export function dscSha256Entries(dsc: string): Map<string, string> {
  const out = new Map<string, string>();
  const section = /^Checksums-Sha256:[ \t]*\n((?:[ \t].*\n?)+)/m.exec(dsc);
  if (section === null) return out;
  for (const line of section[1]!.split('\n')) {
    const m = /^[ \t]+([0-9a-f]{64}) \d+ (\S+)\s*$/.exec(line);
    if (m !== null) out.set(m[2]!, m[1]!);
  }
  return out;
}

function writeAtomic(path: string, bytes: Buffer): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
}

const WAYS_OUT =
  'use a mirror that holds an intact copy (--mirror URL or PYRELO_MIRROR), or compile a tarball you trust with ' +
  '--python-source TARBALL';

export interface FetchedSource {
  readonly entry: CpythonSource;
  readonly tarball: string;
  /** The .dsc's URL, or null when the tarball was already in the cache. */
  readonly from: string | null;
}

/** One source package's .dsc and .orig in a Debian pool, as a data file pins them. */
export type PoolSource = Pick<
  CpythonSource,
  'version' | 'directory' | 'dsc' | 'dscSha256' | 'orig' | 'origSha256' | 'origSize'
>;

/**
 * The verified .orig of a pool entry: from the cache, else from the mirror. `input` names what asked
 * for it in errors (`--python 3.13`), `label` starts the progress lines ("python-source: CPython 3.13.5").
 */
export async function fetchPoolSource(
  entry: PoolSource,
  input: string,
  label: string,
  mirror: string,
  progress: Progress,
  cache = defaultSourceCache(),
): Promise<{ tarball: string; from: string | null }> {
  const tarball = join(cache, entry.orig);
  if (existsSync(tarball) && sha256(readFileSync(tarball)) === entry.origSha256) {
    progress.note(`${label}: ${entry.orig} already fetched and checked (${tarball})`);
    return { tarball, from: null };
  }
  const base = `${mirror}/${entry.directory}`;
  const dscUrl = `${base}/${entry.dsc}`;
  progress.note(`${label}: fetching ${dscUrl}`);
  const dsc = await download(dscUrl, MAX_DSC_BYTES, input);
  const dscHash = sha256(dsc);
  if (dscHash !== entry.dscSha256)
    throw new BuildInputError(
      input,
      `${dscUrl} has sha256 ${dscHash}, the archive's index said ${entry.dscSha256}; nothing was compiled: ${WAYS_OUT}`,
    );
  const listed = dscSha256Entries(dsc.toString('utf8')).get(entry.orig);
  if (listed !== entry.origSha256)
    throw new BuildInputError(
      input,
      `${dscUrl} lists ${entry.orig} as ${listed ?? 'nothing'}, the catalog as ${entry.origSha256}; nothing ` +
        `was compiled: ${WAYS_OUT}`,
    );
  const origUrl = `${base}/${entry.orig}`;
  progress.note(`${label}: fetching ${origUrl} (${(entry.origSize / 1e6).toFixed(1)} MB)`);
  const bytes = await download(origUrl, Math.min(entry.origSize, MAX_ORIG_BYTES), input);
  const got = sha256(bytes);
  if (got !== listed)
    throw new BuildInputError(
      input,
      `${origUrl} has sha256 ${got}, its .dsc lists ${listed}; nothing was compiled: ${WAYS_OUT}`,
    );
  mkdirSync(cache, { recursive: true });
  writeAtomic(join(cache, entry.dsc), dsc);
  writeAtomic(tarball, bytes);
  return { tarball, from: dscUrl };
}

/** The verified tarball of one catalog entry: from the cache, else from the mirror. */
export async function fetchCpythonSource(
  entry: CpythonSource,
  request: string,
  mirror: string,
  progress: Progress,
  cache = defaultSourceCache(),
): Promise<FetchedSource> {
  const got = await fetchPoolSource(
    entry,
    `--python ${request}`,
    `python-source: CPython ${entry.version}`,
    mirror,
    progress,
    cache,
  );
  return { entry, ...got };
}

/**
 * The newest source matching `request` that is in the cache or on the mirror: a mirror that lacks
 * the newest release of a series (an internal one that lags, or one that keeps only some files)
 * gives the newest it has, with a note. A wrong hash stops at once: it is never skipped.
 */
export async function sourceForVersion(
  catalog: CpythonCatalog,
  request: string,
  mirror: string,
  progress: Progress,
  cache = defaultSourceCache(),
): Promise<FetchedSource> {
  const candidates = matchingSources(catalog, request);
  const misses: MirrorMissError[] = [];
  for (const entry of candidates) {
    try {
      return await fetchCpythonSource(entry, request, mirror, progress, cache);
    } catch (error) {
      if (!(error instanceof MirrorMissError)) throw error;
      misses.push(error);
      progress.note(`python-source: CPython ${entry.version}: ${error.detail}`);
    }
  }
  throw new BuildInputError(
    `--python ${request}`,
    `the mirror ${mirror} holds none of ${candidates.map((c) => c.version).join(', ')} (${misses[0]!.detail}); ` +
      'use a mirror that does (--mirror URL or PYRELO_MIRROR), or --python-source TARBALL',
  );
}
