// What scripts/cpython-sources.mjs and scripts/base-libraries.mjs share: reading a suite's
// `Sources` index from a Debian mirror and taking a source package's .dsc and pristine upstream
// tarball (the .orig) with their sha256 and size out of its stanza.

import { Buffer } from 'node:buffer';
import process from 'node:process';
import { gunzipSync } from 'node:zlib';

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

export async function download(url) {
  const response = await globalThis.fetch(url, { signal: globalThis.AbortSignal.timeout(300_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** The stanzas of a deb822 file as maps of field to value (continuation lines joined with \n). */
export function stanzas(text) {
  const out = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map();
    let last = null;
    for (const line of block.split('\n')) {
      if (line.startsWith(' ') && last !== null) fields.set(last, `${fields.get(last)}\n${line.slice(1)}`);
      else {
        const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (m === null) continue;
        last = m[1];
        fields.set(last, m[2]);
      }
    }
    if (fields.size > 0) out.push(fields);
  }
  return out;
}

/** The stanzas of one suite's main/source/Sources.gz. */
export async function suiteSources(mirror, suite) {
  const url = `${mirror}/dists/${suite}/main/source/Sources.gz`;
  process.stderr.write(`reading ${url}\n`);
  return stanzas(gunzipSync(await download(url)).toString('utf8'));
}

/**
 * The .dsc and the .orig of a stanza: { directory, dsc, dscSha256, orig, origSha256, origSize },
 * or null when it lists no such pair (a native package). `origPattern` picks among several
 * .orig files (sqlite3 also ships its web pages as one).
 */
export function poolFiles(fields, origPattern = /\.orig\.tar\.(gz|xz|bz2)$/) {
  const files = new Map();
  for (const line of (fields.get('Checksums-Sha256') ?? '').split('\n')) {
    const m = /^([0-9a-f]{64}) (\d+) (\S+)$/.exec(line.trim());
    if (m !== null) files.set(m[3], { sha256: m[1], size: Number(m[2]) });
  }
  const dsc = [...files.keys()].find((f) => f.endsWith('.dsc'));
  const orig = [...files.keys()].find((f) => origPattern.test(f));
  if (dsc === undefined || orig === undefined) return null;
  return {
    directory: fields.get('Directory'),
    dsc,
    dscSha256: files.get(dsc).sha256,
    orig,
    origSha256: files.get(orig).sha256,
    origSize: files.get(orig).size,
  };
}

/** Debian revisions of one upstream version: the larger, compared as numbers where they are numbers. */
export function newerRevision(a, b) {
  return a.localeCompare(b, 'en', { numeric: true }) > 0;
}
