#!/usr/bin/env node
// Regenerates data/base-libraries.json: the Debian source packages of the libraries pyrelo compiles
// with zig for a base CPython it builds itself (src/builder/base-libraries.ts), each the newest
// revision the suite's `Sources` index lists, with its .dsc and pristine upstream tarball (.orig)
// and their sha256. A security update of one of them reaches the bases by running this script
// and rebuilding: the cache key of the libraries (and so of every base) hashes these entries.
//
//   node scripts/base-libraries.mjs [MIRROR]      (default: http://deb.debian.org/debian)
//
// The indexes (Sources.gz of each suite's main component) are read, and of each package's
// revisions, newest first, the first whose .dsc and .orig the mirror holds is taken (a HEAD request
// each): a mirror can list a point release's revision before its pool has the files.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { DEFAULT_MIRROR, newerRevision, poolFiles, suiteSources } from './debian-sources.mjs';

const MIRROR = (process.argv[2] ?? process.env.PYRELO_MIRROR ?? DEFAULT_MIRROR).replace(/\/+$/, '');
/** The suites whose point releases carry Debian's security fixes of these libraries, newest first. */
const SUITES = ['trixie', 'bookworm'];
const OUTPUT = fileURLToPath(new URL('../data/base-libraries.json', import.meta.url));
/**
 * name (as src/builder/base-libraries.ts knows its recipe) -> Debian source package, and the
 * suites to take it from when not SUITES: trixie's libffi .orig is a git snapshot without a
 * configure script (pyrelo does not run autoreconf), bookworm's is the release tarball.
 */
const LIBRARIES = [
  ['zlib', 'zlib'],
  ['bzip2', 'bzip2'],
  ['xz', 'xz-utils'],
  ['libffi', 'libffi', ['bookworm']],
  ['ncurses', 'ncurses'],
  ['readline', 'readline'],
  ['libuuid', 'util-linux'],
  ['sqlite', 'sqlite3'],
  ['openssl', 'openssl'],
];
/** sqlite3 ships its web pages as a second .orig (orig-www): take the source one. */
const ORIG = /\.orig\.tar\.(gz|xz|bz2)$/;

/** Every revision of each package, from every suite. */
const revisions = new Map();
for (const suite of SUITES)
  for (const fields of await suiteSources(MIRROR, suite)) {
    const pkg = fields.get('Package');
    if (!LIBRARIES.some(([, p]) => p === pkg)) continue;
    revisions.set(pkg, [...(revisions.get(pkg) ?? []), { suite, fields }]);
  }

async function onMirror(directory, file) {
  const response = await globalThis.fetch(`${MIRROR}/${directory}/${file}`, {
    method: 'HEAD',
    signal: globalThis.AbortSignal.timeout(60_000),
  });
  return response.ok;
}

const libraries = [];
for (const [name, pkg, only] of LIBRARIES) {
  const candidates = (revisions.get(pkg) ?? [])
    .filter((r) => only === undefined || only.includes(r.suite))
    .sort((a, b) => (newerRevision(a.fields.get('Version'), b.fields.get('Version')) ? -1 : 1));
  let chosen = null;
  for (const { suite, fields } of candidates) {
    const files = poolFiles(fields, ORIG);
    if (files === null) continue;
    if ((await onMirror(files.directory, files.dsc)) && (await onMirror(files.directory, files.orig))) {
      chosen = { suite, debianVersion: fields.get('Version'), files };
      break;
    }
    process.stderr.write(`${pkg} ${fields.get('Version')}: not on ${MIRROR}, trying an older revision\n`);
  }
  if (chosen === null) throw new Error(`no revision of ${pkg} in ${SUITES.join(', ')} is on ${MIRROR}`);
  // 1:1.3.dfsg+really1.3.1-1+deb13u1: upstream's version is what follows "really", else the part
  // between the epoch and the Debian revision.
  const upstream = /^(?:\d+:)?(.+)-[^-]+$/.exec(chosen.debianVersion)[1];
  const version = /really(.+)$/.exec(upstream)?.[1] ?? upstream;
  libraries.push({
    name,
    package: pkg,
    version,
    debianVersion: chosen.debianVersion,
    suite: chosen.suite,
    ...chosen.files,
  });
}
const previous = (() => {
  try {
    return JSON.parse(readFileSync(OUTPUT, 'utf8'));
  } catch {
    return {};
  }
})();
const data = {
  source:
    `Debian's Sources indexes (${SUITES.map((s) => `dists/${s}/main/source/Sources.gz`).join(', ')}) of ` +
    `${MIRROR}, read ${new Date().toISOString().slice(0, 10)} by scripts/base-libraries.mjs`,
  // The compiler is pinned by hand (see the README): kept as it was.
  zig: previous.zig,
  libraries,
};
const temporary = `${OUTPUT}.tmp-${process.pid}`;
writeFileSync(temporary, `${JSON.stringify(data, null, 2)}\n`);
renameSync(temporary, OUTPUT);
process.stderr.write(`${libraries.map((l) => `${l.package} ${l.debianVersion}`).join(', ')}\n`);
