// pyrelo.json, the manifest at the top of every bundle: what is in it (every file with its
// checksum and mode), what its ELF files need from the target (sonames, symbol versions, glibc and
// kernel floors), what was grafted in from the build host, and which Python and packages it holds.
// Nothing in it depends on when or where it was built, so two builds of the same inputs give the
// same bytes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError } from './errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { manifestNameProblem, quoteName } from './bundle-name.js';
import { localeNameProblem, normalizeLocale } from './locale-name.js';

export const MANIFEST_NAME = 'pyrelo.json';
export const MANIFEST_FORMAT = 'pyrelo-bundle/1';

export type LibcPolicy = 'host' | 'bundle';

export interface BundleFile {
  /** Relative to the bundle root, `/`-separated, never `..` or absolute. */
  readonly path: string;
  readonly type: 'file' | 'symlink';
  /** Permission bits, e.g. 0o755. */
  readonly mode: number;
  /** Regular files only. */
  readonly size?: number;
  readonly sha256?: string;
  /** Symlinks only: the link text, relative and inside the bundle. */
  readonly target?: string;
}

export interface ElfNeeds {
  readonly path: string;
  /** DT_NEEDED, in order. */
  readonly needed: readonly string[];
  /** Symbol versions needed, per providing soname (Verneed). */
  readonly versions: Readonly<Record<string, readonly string[]>>;
  /** DT_RUNPATH after the build; every element is $ORIGIN-relative. */
  readonly runpath: string | null;
}

export interface GraftedLibrary {
  /** Where it lies in the bundle. */
  readonly path: string;
  readonly soname: string;
  /** Where it came from on the build host. */
  readonly origin: string;
  /** The Debian package that owns `origin` (`dpkg -S`), when the build host could tell. */
  readonly debianPackage: string | null;
  /** The bundle files that needed it. */
  readonly neededBy: readonly string[];
}

/**
 * A library the smoke run (`pyrelo build --smoke`) opened at run time by name, invisible to
 * DT_NEEDED (`ctypes.CDLL("libmagic.so.1")`, a module's own `dlopen`): the bundle needs it on a
 * target like a DT_NEEDED entry of `caller`.
 */
export interface RuntimeNeed {
  /** What dlopen was asked for: a name without a slash, or an absolute path outside the bundle. */
  readonly name: string;
  /** The bundle file that called dlopen. */
  readonly caller: string;
  /** Where the build grafted it (the caller's RUNPATH names that folder); null: the target must provide it. */
  readonly grafted: string | null;
}

/**
 * A library `pyrelo build --allow-missing SONAME` let the bundle ship without: needed, found neither
 * in the bundle nor on the build host (or left there on purpose), never grafted. The files needing
 * it load only where the target provides it; the checks report them as warnings, not failures.
 */
export interface AllowedMissing {
  readonly soname: string;
  /** The bundle files whose DT_NEEDED names it. */
  readonly neededBy: readonly string[];
}

/**
 * A locale the application needs from the target (issue 19): declared (`pyrelo build --locale`,
 * `[tool.pyrelo] locales`), or set by the smoke run. Glibc reads locales from the host in both libc
 * modes, so a target that has not compiled it fails setlocale.
 */
export interface LocaleNeed {
  /** As declared or as the smoke run asked for it: "de_DE.UTF-8". */
  readonly name: string;
  readonly declared: boolean;
  /**
   * The smoke run's setlocale succeeded with it on the build host: the smoke command depends on it,
   * so a target without it is an error, not a warning.
   */
  readonly smoke: boolean;
}

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
}

export interface BuildStep {
  readonly name: string;
  /** One line saying what the step did, free of times and build-host paths. */
  readonly summary: string;
}

export interface SlimCategory {
  readonly category: string;
  readonly files: number;
  readonly bytes: number;
  /**
   * The folders removed, relative to the bundle root, where the category lists them (package tests,
   * `--slim-package-tests`). Absent for the other categories and in older manifests.
   */
  readonly paths?: readonly string[];
}

/** The build of a CPython pyrelo compiled from source (src/builder/python-source.ts). */
export interface PythonBuildRecord {
  /** "3.13.5", as the interpreter reports it. */
  readonly version: string;
  /** The tarball's file name, and for --python VERSION the Debian source package it came from. */
  readonly source: string;
  readonly sourceSha256: string;
  /** ./configure's arguments (but --prefix, a path in the build cache) and LDFLAGS. */
  readonly configure: readonly string[];
  /** platform.python_compiler() of the result: "GCC 12.2.0". */
  readonly compiler: string;
  /**
   * The libraries pyrelo compiled and linked into it, with their Debian source versions
   * ("openssl 3.5.7-1~deb13u2"); absent when the build host's were used (and in older manifests).
   */
  readonly libraries?: readonly string[];
}

/** `-r FILE` as the build read it (src/builder/lock-file.ts): which lock file the packages came from. */
export interface LockRecord {
  /** "requirements": a pip requirements file (hashes pinned with --hash when `hashes`). */
  readonly kind: 'requirements';
  /** Its file name (not its path: the same file gives the same manifest on every machine). */
  readonly file: string;
  readonly sha256: string;
  /** True when the file pins hashes, so pip installed every package hash-checked. */
  readonly hashes: boolean;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  /**
   * --prompt when given, else what the bundle installs: PROJECT's name (its `[project] name`, a
   * wheel's distribution name, a requirement's name), else the first --entry, or "bundle"
   * (src/builder/project-name.ts).
   */
  readonly name: string;
  /**
   * PROJECT's version, as installed. Absent without PROJECT (only -r requirements), and in
   * manifests written before pyrelo recorded it.
   */
  readonly version?: string;
  readonly python: {
    readonly version: string;
    /** The interpreter, relative to the bundle root (bin/python3.11). */
    readonly executable: string;
    readonly packages: readonly InstalledPackage[];
    /** How the interpreter was compiled, when pyrelo compiled it (--python VERSION, --python-source). */
    readonly build?: PythonBuildRecord;
    /** The `-r` lock file the packages came from; absent without -r and in older manifests. */
    readonly lock?: LockRecord;
  };
  readonly libc: LibcPolicy;
  /** Highest GLIBC_x.y any ELF of the bundle needs; null when none needs one. */
  readonly glibcFloor: string | null;
  readonly kernelFloor: string | null;
  readonly entryPoints: Readonly<Record<string, string>>;
  /**
   * The smoke command (`pyrelo build --smoke`): an argv whose first element is a program relative
   * to the bundle root (`["bin/smoke"]`, `["bin/python3", "-c", "import ssl"]`). A bundle "runs"
   * on a host only when it exits 0 there. Absent: the agent imports the standard library instead.
   */
  readonly smoke?: readonly string[];
  readonly steps: readonly BuildStep[];
  readonly slimmed: readonly SlimCategory[];
  readonly grafted: readonly GraftedLibrary[];
  /** What the smoke run opened at run time (present when the build ran one; older bundles have none). */
  readonly runtimeNeeds?: readonly RuntimeNeed[];
  /** Locales declared or set by the smoke run (absent when none, and in older manifests). */
  readonly locales?: readonly LocaleNeed[];
  /** --allow-missing (absent when none was given, and in older manifests). */
  readonly allowMissing?: readonly AllowedMissing[];
  /**
   * --preload-only: library files (relative to the bundle root) only ever loaded with LD_PRELOAD,
   * checked as preloaded into the interpreter (compat/bundle-rules.ts). Absent when none was given.
   */
  readonly preloadOnly?: readonly string[];
  readonly elf: readonly ElfNeeds[];
  readonly files: readonly BundleFile[];
}

const SHA256 = /^[0-9a-f]{64}$/;
const VERSION = /^\d+(\.\d+)*$/;
/** A Python package version, generously (PEP 440 and the legacy forms pip still installs). */
const PACKAGE_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,99}$/;

type Json = unknown;

class Checker {
  constructor(readonly source: string) {}

  fail(where: string, detail: string): never {
    throw new BundleError(this.source, `invalid manifest: ${where}: ${detail}`);
  }

  object(value: Json, where: string): Record<string, Json> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(where, 'expected an object');
    return value as Record<string, Json>;
  }

  array(value: Json, where: string): Json[] {
    if (!Array.isArray(value)) this.fail(where, 'expected an array');
    return value;
  }

  string(value: Json, where: string): string {
    if (typeof value !== 'string') this.fail(where, 'expected a string');
    return value;
  }

  nullableString(value: Json, where: string): string | null {
    return value === null ? null : this.string(value, where);
  }

  integer(value: Json, where: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      this.fail(where, 'expected a non-negative integer');
    return value;
  }

  /** A path relative to the bundle root that cannot leave it. */
  relativePath(value: Json, where: string): string {
    const path = this.string(value, where);
    if (!isSafeRelativePath(path)) this.fail(where, `unsafe path ${JSON.stringify(path)}`);
    return path;
  }

  version(value: Json, where: string): string | null {
    const v = this.nullableString(value, where);
    if (v !== null && !VERSION.test(v)) this.fail(where, `not a version: ${JSON.stringify(v)}`);
    return v;
  }

  stringList(value: Json, where: string): string[] {
    return this.array(value, where).map((v, i) => this.string(v, `${where}[${i}]`));
  }
}

/** Relative, `/`-separated, no empty, `.` or `..` component, no NUL. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * Whether a symlink at `linkPath` with text `target` stays inside the bundle root: `..` only as a
 * leading run that does not climb above the root. `a/../b` is refused even though it looks inside:
 * if `a` is itself a link to `.`, the kernel would climb out of the root.
 */
export function symlinkStaysInside(linkPath: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  const firstName = parts.findIndex((p) => p !== '..');
  const leading = firstName === -1 ? parts.length : firstName;
  if (parts.slice(leading).includes('..')) return false;
  return leading <= linkPath.split('/').length - 1;
}

function checkFileEntry(c: Checker, value: Json, where: string): BundleFile {
  const o = c.object(value, where);
  const path = c.relativePath(o.path, `${where}.path`);
  const mode = c.integer(o.mode, `${where}.mode`);
  if (mode > 0o7777) c.fail(`${where}.mode`, `not permission bits: ${mode}`);
  if (o.type === 'file') {
    const sha256 = c.string(o.sha256, `${where}.sha256`);
    if (!SHA256.test(sha256)) c.fail(`${where}.sha256`, 'expected 64 lowercase hex digits');
    return { path, type: 'file', mode, size: c.integer(o.size, `${where}.size`), sha256 };
  }
  if (o.type === 'symlink') {
    const target = c.string(o.target, `${where}.target`);
    if (!symlinkStaysInside(path, target)) c.fail(`${where}.target`, `symlink ${path} -> ${target} leaves the bundle`);
    return { path, type: 'symlink', mode, target };
  }
  return c.fail(`${where}.type`, `expected "file" or "symlink", got ${JSON.stringify(o.type)}`);
}

function checkElf(c: Checker, value: Json, where: string): ElfNeeds {
  const o = c.object(value, where);
  const versionsObject = c.object(o.versions, `${where}.versions`);
  const versions: Record<string, string[]> = {};
  for (const [soname, list] of Object.entries(versionsObject))
    versions[soname] = c.stringList(list, `${where}.versions.${soname}`);
  const runpath = c.nullableString(o.runpath, `${where}.runpath`);
  if (runpath !== null) {
    for (const element of runpath.split(':')) {
      if (!element.startsWith('$ORIGIN'))
        c.fail(`${where}.runpath`, `element ${JSON.stringify(element)} is not $ORIGIN-relative`);
    }
  }
  return {
    path: c.relativePath(o.path, `${where}.path`),
    needed: c.stringList(o.needed, `${where}.needed`),
    versions,
    runpath,
  };
}

function checkGraft(c: Checker, value: Json, where: string): GraftedLibrary {
  const o = c.object(value, where);
  return {
    path: c.relativePath(o.path, `${where}.path`),
    soname: c.string(o.soname, `${where}.soname`),
    origin: c.string(o.origin, `${where}.origin`),
    debianPackage: c.nullableString(o.debianPackage, `${where}.debianPackage`),
    neededBy: c.stringList(o.neededBy, `${where}.neededBy`),
  };
}

function checkRuntimeNeed(c: Checker, value: Json, where: string, files: ReadonlySet<string>): RuntimeNeed {
  const o = c.object(value, where);
  const name = c.string(o.name, `${where}.name`);
  if (name === '' || name.includes('\0') || (name.includes('/') && !name.startsWith('/'))) {
    c.fail(`${where}.name`, `expected a library name or an absolute path, got ${JSON.stringify(name)}`);
  }
  const caller = c.relativePath(o.caller, `${where}.caller`);
  if (!files.has(caller)) c.fail(`${where}.caller`, `${caller} is not in files`);
  const grafted = o.grafted === null ? null : c.relativePath(o.grafted, `${where}.grafted`);
  if (grafted !== null && !files.has(grafted)) c.fail(`${where}.grafted`, `${grafted} is not in files`);
  return { name, caller, grafted };
}

/** What DT_NEEDED may name and --allow-missing accepts: a file name, no path, no blank or control character. */
export function isSonameLike(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 255 &&
    name !== '.' &&
    name !== '..' &&
    !/[/\s]/.test(name) &&
    [...name].every((ch) => ch.charCodeAt(0) > 0x1f && ch.charCodeAt(0) !== 0x7f)
  );
}

function checkAllowedMissing(c: Checker, value: Json, where: string, files: ReadonlySet<string>): AllowedMissing {
  const o = c.object(value, where);
  const soname = c.string(o.soname, `${where}.soname`);
  if (!isSonameLike(soname)) c.fail(`${where}.soname`, `not a library name: ${JSON.stringify(soname.slice(0, 60))}`);
  const neededBy = c.array(o.neededBy, `${where}.neededBy`).map((n, i) => c.relativePath(n, `${where}.neededBy[${i}]`));
  for (const n of neededBy) if (!files.has(n)) c.fail(`${where}.neededBy`, `${n} is not in files`);
  return { soname, neededBy };
}

function checkLocaleNeed(c: Checker, value: Json, where: string): LocaleNeed {
  const o = c.object(value, where);
  const name = c.string(o.name, `${where}.name`);
  const problem = localeNameProblem(name);
  if (problem !== null) c.fail(`${where}.name`, `${JSON.stringify(name.slice(0, 60))}: ${problem}`);
  if (typeof o.declared !== 'boolean') c.fail(`${where}.declared`, 'expected true or false');
  if (typeof o.smoke !== 'boolean') c.fail(`${where}.smoke`, 'expected true or false');
  return { name, declared: o.declared as boolean, smoke: o.smoke as boolean };
}

function checkPythonBuild(c: Checker, value: unknown): PythonBuildRecord {
  const o = c.object(value, 'python.build');
  const sourceSha256 = c.string(o.sourceSha256, 'python.build.sourceSha256');
  if (!/^[0-9a-f]{64}$/.test(sourceSha256)) c.fail('python.build.sourceSha256', 'expected a sha256 in hex');
  return {
    version: c.string(o.version, 'python.build.version'),
    source: c.string(o.source, 'python.build.source'),
    sourceSha256,
    configure: c.stringList(o.configure, 'python.build.configure'),
    compiler: c.string(o.compiler, 'python.build.compiler'),
    ...(o.libraries === undefined ? {} : { libraries: c.stringList(o.libraries, 'python.build.libraries') }),
  };
}

function checkLock(c: Checker, value: unknown): LockRecord {
  const o = c.object(value, 'python.lock');
  if (o.kind !== 'requirements') c.fail('python.lock.kind', `expected "requirements", got ${JSON.stringify(o.kind)}`);
  const file = c.string(o.file, 'python.lock.file');
  if (file === '' || file.includes('/') || file.length > 255 || [...file].some((ch) => ch.charCodeAt(0) < 0x20))
    c.fail('python.lock.file', 'expected a file name');
  const sha256 = c.string(o.sha256, 'python.lock.sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) c.fail('python.lock.sha256', 'expected a sha256 in hex');
  if (typeof o.hashes !== 'boolean') c.fail('python.lock.hashes', 'expected true or false');
  return { kind: 'requirements', file, sha256, hashes: o.hashes as boolean };
}

/** Checks a parsed pyrelo.json; `source` names it in errors. */
export function validateManifest(value: unknown, source: string): Manifest {
  const c = new Checker(source);
  const o = c.object(value, 'manifest');
  if (o.format !== MANIFEST_FORMAT)
    c.fail('format', `expected ${JSON.stringify(MANIFEST_FORMAT)}, got ${JSON.stringify(o.format)}`);
  const python = c.object(o.python, 'python');
  const packages = c.array(python.packages, 'python.packages').map((p, i) => {
    const po = c.object(p, `python.packages[${i}]`);
    return {
      name: c.string(po.name, `python.packages[${i}].name`),
      version: c.string(po.version, `python.packages[${i}].version`),
    };
  });
  if (o.libc !== 'host' && o.libc !== 'bundle')
    c.fail('libc', `expected "host" or "bundle", got ${JSON.stringify(o.libc)}`);
  const entryPointsObject = c.object(o.entryPoints, 'entryPoints');
  const entryPoints: Record<string, string> = {};
  for (const [name, target] of Object.entries(entryPointsObject))
    entryPoints[name] = c.string(target, `entryPoints.${name}`);
  let smoke: string[] | undefined;
  if (o.smoke !== undefined) {
    smoke = c.stringList(o.smoke, 'smoke');
    if (smoke.length === 0) c.fail('smoke', 'expected a program and its arguments, got an empty list');
    c.relativePath(smoke[0], 'smoke[0]');
  }
  const files = c.array(o.files, 'files').map((f, i) => checkFileEntry(c, f, `files[${i}]`));
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) c.fail('files', `${file.path} listed twice`);
    seen.add(file.path);
  }
  const elf = c.array(o.elf, 'elf').map((e, i) => checkElf(c, e, `elf[${i}]`));
  for (const e of elf) if (!seen.has(e.path)) c.fail('elf', `${e.path} is not in files`);
  const grafted = c.array(o.grafted, 'grafted').map((g, i) => checkGraft(c, g, `grafted[${i}]`));
  for (const g of grafted) if (!seen.has(g.path)) c.fail('grafted', `${g.path} is not in files`);
  if (smoke !== undefined && !seen.has(smoke[0]!)) c.fail('smoke[0]', `${smoke[0]} is not in files`);
  const name = c.string(o.name, 'name');
  const nameProblem = manifestNameProblem(name);
  if (nameProblem !== null) c.fail('name', `${quoteName(name)}: ${nameProblem}`);
  let version: string | undefined;
  if (o.version !== undefined) {
    version = c.string(o.version, 'version');
    if (!PACKAGE_VERSION.test(version))
      c.fail('version', `not a package version: ${JSON.stringify(version.slice(0, 60))}`);
  }
  const runtimeNeeds =
    o.runtimeNeeds === undefined
      ? undefined
      : c.array(o.runtimeNeeds, 'runtimeNeeds').map((n, i) => checkRuntimeNeed(c, n, `runtimeNeeds[${i}]`, seen));
  const locales =
    o.locales === undefined
      ? undefined
      : c.array(o.locales, 'locales').map((l, i) => checkLocaleNeed(c, l, `locales[${i}]`));
  if (locales !== undefined && new Set(locales.map((l) => normalizeLocale(l.name))).size !== locales.length)
    c.fail('locales', 'a locale listed twice');
  const allowMissing =
    o.allowMissing === undefined
      ? undefined
      : c.array(o.allowMissing, 'allowMissing').map((a, i) => checkAllowedMissing(c, a, `allowMissing[${i}]`, seen));
  if (allowMissing !== undefined && new Set(allowMissing.map((a) => a.soname)).size !== allowMissing.length)
    c.fail('allowMissing', 'a soname listed twice');
  const preloadOnly =
    o.preloadOnly === undefined
      ? undefined
      : c.array(o.preloadOnly, 'preloadOnly').map((p, i) => {
          const path = c.relativePath(p, `preloadOnly[${i}]`);
          if (!seen.has(path)) c.fail(`preloadOnly[${i}]`, `${path} is not in files`);
          return path;
        });
  if (preloadOnly !== undefined && new Set(preloadOnly).size !== preloadOnly.length)
    c.fail('preloadOnly', 'a path listed twice');
  return {
    format: MANIFEST_FORMAT,
    name,
    ...(version !== undefined ? { version } : {}),
    python: {
      version: c.version(python.version, 'python.version') ?? c.fail('python.version', 'missing'),
      executable: c.relativePath(python.executable, 'python.executable'),
      packages,
      ...(python.build !== undefined ? { build: checkPythonBuild(c, python.build) } : {}),
      ...(python.lock !== undefined ? { lock: checkLock(c, python.lock) } : {}),
    },
    libc: o.libc as LibcPolicy,
    glibcFloor: c.version(o.glibcFloor, 'glibcFloor'),
    kernelFloor: c.version(o.kernelFloor, 'kernelFloor'),
    entryPoints,
    ...(smoke !== undefined ? { smoke } : {}),
    steps: c.array(o.steps, 'steps').map((s, i) => {
      const so = c.object(s, `steps[${i}]`);
      return { name: c.string(so.name, `steps[${i}].name`), summary: c.string(so.summary, `steps[${i}].summary`) };
    }),
    slimmed: c.array(o.slimmed, 'slimmed').map((s, i) => {
      const so = c.object(s, `slimmed[${i}]`);
      const paths =
        so.paths === undefined
          ? undefined
          : c.array(so.paths, `slimmed[${i}].paths`).map((p, j) => c.relativePath(p, `slimmed[${i}].paths[${j}]`));
      return {
        category: c.string(so.category, `slimmed[${i}].category`),
        files: c.integer(so.files, `slimmed[${i}].files`),
        bytes: c.integer(so.bytes, `slimmed[${i}].bytes`),
        ...(paths !== undefined ? { paths } : {}),
      };
    }),
    grafted,
    ...(runtimeNeeds !== undefined ? { runtimeNeeds } : {}),
    ...(locales !== undefined ? { locales } : {}),
    ...(allowMissing !== undefined ? { allowMissing } : {}),
    ...(preloadOnly !== undefined ? { preloadOnly } : {}),
    elf,
    files,
  };
}

/** Canonical text: fixed key order (the order of the interface), two-space indent, final newline. */
export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function parseManifest(text: string, source: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BundleError(source, `not JSON: ${(error as Error).message}`);
  }
  return validateManifest(value, source);
}

export function readManifest(bundleDir: string): Manifest {
  const path = join(bundleDir, MANIFEST_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BundleError(
      path,
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no manifest (not a pyrelo bundle)'
        : (error as Error).message,
    );
  }
  return parseManifest(text, path);
}

/** Validates before writing, so a bad manifest is never written; temp name + rename. */
export function writeManifest(bundleDir: string, manifest: Manifest): void {
  const path = join(bundleDir, MANIFEST_NAME);
  const checked = validateManifest(JSON.parse(manifestText(manifest)), path);
  writeFileAtomic(path, manifestText(checked), 0o644);
}
