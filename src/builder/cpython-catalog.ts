// The CPython sources `pyrelo build --python 3.13` chooses from: data/cpython-sources.json, which
// scripts/cpython-sources.mjs regenerates from Debian's `Sources` indexes (README, `pyrelo build`).
// Each entry names a Debian source package's .dsc and its pristine upstream tarball (.orig) with
// their sha256. The file is checked entry by entry when read: it decides what is downloaded and
// which hash a download must have, so a damaged or edited file is refused, not half used.

import { readFileSync } from 'node:fs';
import { dataFile } from '../common/package-files.js';
import { BuildInputError } from './errors.js';

export interface CpythonSource {
  /** Upstream's version: "3.13.5", "3.15.0a1". */
  readonly version: string;
  /** Debian's source package: python3.13. */
  readonly package: string;
  /** "3.13.5-2+deb13u5" */
  readonly debianVersion: string;
  /** The suites whose index listed it (bookworm, trixie, forky, sid). */
  readonly suites: readonly string[];
  /** The pool folder, relative to the mirror's root: pool/main/p/python3.13. */
  readonly directory: string;
  readonly dsc: string;
  readonly dscSha256: string;
  readonly orig: string;
  readonly origSha256: string;
  readonly origSize: number;
}

export interface CpythonCatalog {
  /** Where the entries came from (the indexes and the day they were read). */
  readonly source: string;
  readonly versions: readonly CpythonSource[];
  /** The file read, for messages. */
  readonly path: string;
}

export const CATALOG_FILE = 'cpython-sources.json';

/** A version number as --python takes it: 3.13, 3.13.5, 3.15.0a1, 3.15.0rc2. */
export const VERSION_REQUEST = /^3\.(\d{1,3})(?:\.(\d{1,3})((?:a|b|rc)\d{1,3})?)?$/;
const FULL_VERSION = /^3\.\d{1,3}\.\d{1,3}(?:(?:a|b|rc)\d{1,3})?$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** A plain file name, as Debian names pool files (no slash, no leading dot). */
const POOL_FILE = /^[A-Za-z0-9][A-Za-z0-9.+~_-]{0,200}$/;
const POOL_DIR = /^pool\/[a-z0-9-]+\/[a-z0-9]+\/[a-z0-9.+-]+$/;
/** The largest .orig pyrelo downloads: CPython's are 20–30 MB. */
export const MAX_ORIG_BYTES = 200 * 1024 * 1024;

function invalid(path: string, where: string, what: string): never {
  throw new Error(`${path}: ${where}: ${what} (regenerate it with scripts/cpython-sources.mjs)`);
}

function field(path: string, where: string, o: Record<string, unknown>, name: string, pattern: RegExp): string {
  const value = o[name];
  if (typeof value !== 'string' || !pattern.test(value))
    invalid(path, `${where}.${name}`, `expected a string matching ${pattern}, got ${JSON.stringify(value)}`);
  return value;
}

function checkEntry(path: string, raw: unknown, i: number): CpythonSource {
  const where = `versions[${i}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid(path, where, 'expected an object');
  const o = raw as Record<string, unknown>;
  const version = field(path, where, o, 'version', FULL_VERSION);
  const minor = version.split('.').slice(0, 2).join('.');
  const pkg = field(path, where, o, 'package', /^python3\.\d{1,3}$/);
  if (pkg !== `python${minor}`) invalid(path, `${where}.package`, `${pkg} does not hold CPython ${version}`);
  const suites = o.suites;
  if (
    !Array.isArray(suites) ||
    suites.length === 0 ||
    !suites.every((s) => typeof s === 'string' && /^[a-z-]+$/.test(s))
  )
    invalid(path, `${where}.suites`, 'expected a list of suite names');
  const origSize = o.origSize;
  if (typeof origSize !== 'number' || !Number.isInteger(origSize) || origSize <= 0 || origSize > MAX_ORIG_BYTES)
    invalid(path, `${where}.origSize`, `expected a size in bytes up to ${MAX_ORIG_BYTES}`);
  const dsc = field(path, where, o, 'dsc', POOL_FILE);
  const orig = field(path, where, o, 'orig', POOL_FILE);
  if (!dsc.startsWith(`${pkg}_`) || !dsc.endsWith('.dsc')) invalid(path, `${where}.dsc`, `not a .dsc of ${pkg}`);
  if (!orig.startsWith(`${pkg}_`) || !/\.orig\.tar\.(gz|xz|bz2)$/.test(orig))
    invalid(path, `${where}.orig`, `not an .orig tarball of ${pkg}`);
  return {
    version,
    package: pkg,
    debianVersion: field(path, where, o, 'debianVersion', /^[0-9][A-Za-z0-9.+~-]{0,100}$/),
    suites: suites as string[],
    directory: field(path, where, o, 'directory', POOL_DIR),
    dsc,
    dscSha256: field(path, where, o, 'dscSha256', SHA256),
    orig,
    origSha256: field(path, where, o, 'origSha256', SHA256),
    origSize,
  };
}

/** Reads and checks the catalog; any fault names the file and the entry. */
export function loadCpythonCatalog(path = dataFile(CATALOG_FILE)): CpythonCatalog {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read it (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null) invalid(path, 'top level', 'expected an object');
  const o = parsed as Record<string, unknown>;
  if (typeof o.source !== 'string' || o.source === '') invalid(path, 'source', 'expected where the entries came from');
  if (!Array.isArray(o.versions)) invalid(path, 'versions', 'expected a list');
  const versions = o.versions.map((v, i) => checkEntry(path, v, i));
  const seen = new Set<string>();
  for (const v of versions) {
    if (seen.has(v.version)) invalid(path, 'versions', `${v.version} listed twice`);
    seen.add(v.version);
  }
  return { source: o.source, versions, path };
}

/** [major, minor, micro, stage (a 0, b 1, rc 2, final 3), serial]: compared in order. */
function versionKey(version: string): number[] {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?$/.exec(version)!;
  const stage = m[4] === undefined ? 3 : { a: 0, b: 1, rc: 2 }[m[4] as 'a' | 'b' | 'rc'];
  return [Number(m[1]), Number(m[2]), Number(m[3]), stage, Number(m[5] ?? 0)];
}

export function compareCpythonVersions(a: string, b: string): number {
  const ka = versionKey(a);
  const kb = versionKey(b);
  for (let i = 0; i < ka.length; i += 1) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
  return 0;
}

export function isVersionRequest(text: string): boolean {
  return VERSION_REQUEST.test(text);
}

/**
 * The entries a request matches, newest first: `3.13` every 3.13.x (final releases before
 * pre-releases, which it matches only when the series has no final release yet), `3.13.5` that
 * release alone. Unknown: a BuildInputError naming the request and the ways out.
 */
export function matchingSources(catalog: CpythonCatalog, request: string): CpythonSource[] {
  const newestFirst = [...catalog.versions].sort((a, b) => compareCpythonVersions(b.version, a.version));
  const series = request.split('.').length === 2;
  let found = series
    ? newestFirst.filter((v) => v.version.startsWith(`${request}.`))
    : newestFirst.filter((v) => v.version === request);
  if (series && found.some((v) => /^\d+\.\d+\.\d+$/.test(v.version)))
    found = found.filter((v) => /^\d+\.\d+\.\d+$/.test(v.version));
  if (found.length === 0) {
    const known = newestFirst
      .map((v) => v.version)
      .reverse()
      .join(', ');
    throw new BuildInputError(
      `--python ${request}`,
      `no CPython ${request} source is known (${catalog.path} lists ${known}); give one of those, the path of ` +
        'an interpreter, or --python-source TARBALL (a python.org Python-3.x.y.tgz, say); ' +
        'scripts/cpython-sources.mjs regenerates the list from the archive',
    );
  }
  return found;
}

/** The version --python asks for, or null when it names an interpreter (a path or a command) or is absent. */
export function requestedVersion(python: string | null | undefined): string | null {
  return python !== null && python !== undefined && isVersionRequest(python) ? python : null;
}
