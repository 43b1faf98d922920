// data/base-libraries.json: the compiler (PyPI's ziglang wheel, pinned by version and sha256) and
// the Debian source packages of the libraries pyrelo compiles with it for a base CPython it builds
// itself (base-libraries.ts). scripts/base-libraries.mjs regenerates the library entries from
// Debian's `Sources` index (README, "A base with an old glibc floor"). Checked entry by entry when
// read: it decides what is downloaded and which hash a download must have.

import { readFileSync } from 'node:fs';
import { dataFile } from '../common/package-files.js';
import type { PoolSource } from './cpython-fetch.js';
import { MAX_ORIG_BYTES } from './cpython-catalog.js';

export const BASE_LIBRARIES_FILE = 'base-libraries.json';

/** The libraries base-libraries.ts has a recipe for, in the order the data file lists them. */
export const LIBRARY_NAMES = [
  'zlib',
  'bzip2',
  'xz',
  'libffi',
  'ncurses',
  'readline',
  'libuuid',
  'sqlite',
  'openssl',
] as const;
export type LibraryName = (typeof LIBRARY_NAMES)[number];

export interface LibrarySource extends PoolSource {
  readonly name: LibraryName;
  /** Debian's source package: openssl, xz-utils, util-linux. */
  readonly package: string;
  /** "3.5.9-1~deb13u1" */
  readonly debianVersion: string;
  /** The suite whose index listed it: trixie. */
  readonly suite: string;
}

export interface ZigWheel {
  readonly file: string;
  readonly sha256: string;
}

export interface ZigPin {
  /** PyPI's package: ziglang. */
  readonly package: string;
  readonly version: string;
  /** The glibc whose symbol versions everything is linked against: "2.17". */
  readonly glibc: string;
  /** By machine (uname -m): x86_64. */
  readonly wheels: Readonly<Record<string, ZigWheel>>;
}

export interface BaseLibraries {
  readonly source: string;
  readonly zig: ZigPin;
  readonly libraries: readonly LibrarySource[];
  readonly path: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const POOL_FILE = /^[A-Za-z0-9][A-Za-z0-9.+~_-]{0,200}$/;
const POOL_DIR = /^pool\/[a-z0-9-]+\/[a-z0-9]+\/[a-z0-9.+-]+$/;
const WHEEL = /^ziglang-[0-9][A-Za-z0-9._-]{0,200}\.whl$/;

function invalid(path: string, where: string, what: string): never {
  throw new Error(`${path}: ${where}: ${what} (regenerate it with scripts/base-libraries.mjs)`);
}

function object(path: string, where: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(path, where, 'expected an object');
  return value as Record<string, unknown>;
}

function field(path: string, where: string, o: Record<string, unknown>, name: string, pattern: RegExp): string {
  const value = o[name];
  if (typeof value !== 'string' || !pattern.test(value))
    invalid(path, `${where}.${name}`, `expected a string matching ${pattern}, got ${JSON.stringify(value)}`);
  return value;
}

function checkLibrary(path: string, raw: unknown, i: number): LibrarySource {
  const where = `libraries[${i}]`;
  const o = object(path, where, raw);
  const name = field(path, where, o, 'name', /^[a-z0-9]+$/);
  if (name !== LIBRARY_NAMES[i]) invalid(path, `${where}.name`, `expected ${LIBRARY_NAMES[i]}, got ${name}`);
  const pkg = field(path, where, o, 'package', /^[a-z0-9][a-z0-9.+-]{0,100}$/);
  const dsc = field(path, where, o, 'dsc', POOL_FILE);
  const orig = field(path, where, o, 'orig', POOL_FILE);
  if (!dsc.startsWith(`${pkg}_`) || !dsc.endsWith('.dsc')) invalid(path, `${where}.dsc`, `not a .dsc of ${pkg}`);
  if (!orig.startsWith(`${pkg}_`) || !/\.orig\.tar\.(gz|xz|bz2)$/.test(orig))
    invalid(path, `${where}.orig`, `not an .orig tarball of ${pkg}`);
  const origSize = o.origSize;
  if (typeof origSize !== 'number' || !Number.isInteger(origSize) || origSize <= 0 || origSize > MAX_ORIG_BYTES)
    invalid(path, `${where}.origSize`, `expected a size in bytes up to ${MAX_ORIG_BYTES}`);
  return {
    name: name as LibraryName,
    package: pkg,
    version: field(path, where, o, 'version', /^[0-9][A-Za-z0-9.+~]{0,60}$/),
    debianVersion: field(path, where, o, 'debianVersion', /^([0-9]+:)?[0-9][A-Za-z0-9.+~-]{0,100}$/),
    suite: field(path, where, o, 'suite', /^[a-z-]+$/),
    directory: field(path, where, o, 'directory', POOL_DIR),
    dsc,
    dscSha256: field(path, where, o, 'dscSha256', SHA256),
    orig,
    origSha256: field(path, where, o, 'origSha256', SHA256),
    origSize,
  };
}

function checkZig(path: string, raw: unknown): ZigPin {
  const o = object(path, 'zig', raw);
  const wheels = object(path, 'zig.wheels', o.wheels);
  const checked: Record<string, ZigWheel> = {};
  for (const [machine, value] of Object.entries(wheels)) {
    if (!/^[a-z0-9_]+$/.test(machine)) invalid(path, 'zig.wheels', `${JSON.stringify(machine)} is not a machine`);
    const w = object(path, `zig.wheels.${machine}`, value);
    checked[machine] = {
      file: field(path, `zig.wheels.${machine}`, w, 'file', WHEEL),
      sha256: field(path, `zig.wheels.${machine}`, w, 'sha256', SHA256),
    };
  }
  return {
    package: field(path, 'zig', o, 'package', /^ziglang$/),
    version: field(path, 'zig', o, 'version', /^[0-9]+\.[0-9]+\.[0-9]+(\.[0-9a-z]+)?$/),
    glibc: field(path, 'zig', o, 'glibc', /^2\.[0-9]{1,2}$/),
    wheels: checked,
  };
}

/** Reads and checks the file; any fault names the file and the entry. */
export function loadBaseLibraries(path = dataFile(BASE_LIBRARIES_FILE)): BaseLibraries {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read it (${(error as Error).message})`);
  }
  const o = object(path, 'top level', parsed);
  if (typeof o.source !== 'string' || o.source === '') invalid(path, 'source', 'expected where the entries came from');
  if (!Array.isArray(o.libraries) || o.libraries.length !== LIBRARY_NAMES.length)
    invalid(path, 'libraries', `expected a list of ${LIBRARY_NAMES.length} entries (${LIBRARY_NAMES.join(', ')})`);
  return {
    source: o.source,
    zig: checkZig(path, o.zig),
    libraries: o.libraries.map((l, i) => checkLibrary(path, l, i)),
    path,
  };
}
