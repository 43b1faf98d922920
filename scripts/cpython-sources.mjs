#!/usr/bin/env node
// Regenerates data/cpython-sources.json: every CPython source package (python3.X) in the Debian
// archive's `Sources` indexes of the suites below, one entry per upstream version (the newest
// Debian revision of it), with the .dsc and the pristine upstream tarball (the .orig) and their
// sha256 as the index lists them. `pyrelo build --python 3.13` picks from this file
// (src/builder/cpython-catalog.ts), fetches the .dsc and the .orig from a mirror and checks both.
//
//   node scripts/cpython-sources.mjs [MIRROR]      (default: http://deb.debian.org/debian)
//
// Only the index files are read (Sources.gz of each suite's main component), never the pool.

import { writeFileSync, renameSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { DEFAULT_MIRROR, newerRevision, poolFiles, suiteSources } from './debian-sources.mjs';

const MIRROR = (process.argv[2] ?? process.env.PYRELO_MIRROR ?? DEFAULT_MIRROR).replace(/\/+$/, '');
/**
 * Oldest first: a version in several suites is named with each. forky (testing) is read too: it
 * holds older 3.14 and 3.15 releases than sid, which a mirror lagging behind sid may still serve.
 */
const SUITES = ['bookworm', 'trixie', 'forky', 'sid'];
const OUTPUT = fileURLToPath(new URL('../data/cpython-sources.json', import.meta.url));

/** Debian's version comparison is not needed: compare the upstream parts as Python versions. */
function pythonVersion(upstream) {
  // 3.15.0~a1 is Debian's spelling of upstream's 3.15.0a1 (~ sorts before the release).
  return upstream.replace('~', '');
}

function versionKey(version) {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?$/.exec(version);
  if (m === null) return null;
  const stage = { a: 0, b: 1, rc: 2, undefined: 3 }[m[4]];
  return [Number(m[1]), Number(m[2]), Number(m[3]), stage, Number(m[5] ?? 0)];
}

function compareKeys(a, b) {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const byVersion = new Map();
for (const suite of SUITES) {
  for (const fields of await suiteSources(MIRROR, suite)) {
    const name = fields.get('Package');
    if (!/^python3\.\d+$/.test(name ?? '')) continue;
    const debianVersion = fields.get('Version');
    const upstream = /^(?:\d+:)?(.+)-[^-]+$/.exec(debianVersion)?.[1];
    if (upstream === undefined) continue;
    const version = pythonVersion(upstream);
    if (versionKey(version) === null || !version.startsWith(`${name.slice('python'.length)}.`)) continue;
    const files = poolFiles(fields);
    if (files === null) continue;
    const entry = { version, package: name, debianVersion, suites: [suite], ...files };
    const known = byVersion.get(version);
    if (known === undefined) byVersion.set(version, entry);
    else if (newerRevision(debianVersion, known.debianVersion))
      byVersion.set(version, { ...entry, suites: [...new Set([...known.suites, suite])] });
    else if (!known.suites.includes(suite)) known.suites.push(suite);
  }
}

const versions = [...byVersion.values()].sort((a, b) => compareKeys(versionKey(a.version), versionKey(b.version)));
const data = {
  source:
    "Debian's Sources indexes (" +
    `${SUITES.map((s) => `dists/${s}/main/source/Sources.gz`).join(', ')}) of ${MIRROR}` +
    `, read ${new Date().toISOString().slice(0, 10)} by scripts/cpython-sources.mjs`,
  versions,
};
const temporary = `${OUTPUT}.tmp-${process.pid}`;
writeFileSync(temporary, `${JSON.stringify(data, null, 2)}\n`);
renameSync(temporary, OUTPUT);
process.stderr.write(`${versions.map((v) => `${v.version} (${v.suites.join(', ')})`).join(', ')}\n`);
