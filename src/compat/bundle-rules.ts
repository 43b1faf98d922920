// `pyrelo check` on a pyrelo bundle (a folder holding pyrelo.json) knows two things a plain folder
// check does not:
// - an absolute RUNPATH or RPATH element is a problem: it names a folder of the build host, and on
//   a target it either finds nothing or, worse, something else;
// - extension modules are dlopened by the bundle's interpreter, so the Python C API they leave
//   undefined is defined by the bundle's libpython (or the interpreter executable, when it links
//   libpython statically, as Debian's does); only symbols neither defines stay problems.

import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ElfFile, isElf } from '../elf/elf-file.js';
import { SHN_UNDEF } from '../elf/constants.js';
import type { LoadReport, Problem } from '../loader/types.js';
import type { CheckOptions } from '../loader/check.js';
import { readManifest } from '../bundle/manifest.js';

export interface BundleContext {
  readonly root: string;
  /** From pyrelo.json: 'bundle' means the programs start through the bundled loader. */
  readonly libc: 'host' | 'bundle';
  /** Symbols the bundle's libpython defines. */
  readonly pythonApi: ReadonlySet<string>;
}

/**
 * The C API the interpreter offers dlopened extensions: libpython's exports, and the interpreter
 * executable's own, which ld.so searches first (Debian's python3.x links libpython statically and
 * exports it with --export-dynamic; with --libc bundle the ELF is libexec/python3.x).
 */
function libpythonSymbols(root: string): Set<string> {
  const files: string[] = [];
  const lib = join(root, 'lib');
  if (existsSync(lib)) files.push(...readdirSync(lib).filter((n) => /^libpython3\.\d+\.so\.1\.0$/.test(n)).map((n) => join(lib, n)));
  for (const dir of ['bin', 'libexec'].map((d) => join(root, d)).filter((d) => existsSync(d))) {
    for (const name of readdirSync(dir).filter((n) => /^python3\.\d+$/.test(n))) {
      const path = join(dir, name);
      if (lstatSync(path).isFile() && isElf(path)) files.push(path);
    }
  }
  const symbols = new Set<string>();
  for (const file of files) {
    const elf = ElfFile.open(file);
    try {
      for (const symbol of elf.dynamicSymbols()) if (symbol.st_shndx !== SHN_UNDEF && symbol.name !== '') symbols.add(symbol.name);
    } finally {
      elf.close();
    }
  }
  return symbols;
}

/** The bundle folder (holding pyrelo.json) a path is, or lies in; null when none. */
export function enclosingBundle(path: string): string | null {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pyrelo.json'))) return dir;
    if (dir === '/') return null;
  }
}

/**
 * The bundles the checked paths are or lie in. A file checked on its own still loads its
 * libraries from the rest of its bundle, so the caller lays whole bundles over the host.
 */
export function bundlesAmong(paths: readonly string[]): BundleContext[] {
  const roots = [...new Set(paths.map(enclosingBundle).filter((r): r is string => r !== null))];
  return roots.map((root) => ({ root, libc: manifestLibc(root), pythonApi: libpythonSymbols(root) }));
}

function manifestLibc(root: string): 'host' | 'bundle' {
  try {
    return readManifest(root).libc;
  } catch {
    return 'host'; // an unreadable manifest is not the check's subject; check the files as they are
  }
}

/**
 * How the launcher starts a bundle's programs with --libc bundle: the bundled loader with
 * --library-path lib/pyrelo-glibc and --inhibit-cache (see src/builder/libc-bundle.ts).
 */
export function bundleCheckOptions(localFile: string, bundles: readonly BundleContext[]): CheckOptions {
  const bundle = bundles.find((b) => localFile.startsWith(`${b.root}/`));
  if (bundle === undefined || bundle.libc !== 'bundle') return {};
  const dir = join(bundle.root, 'lib', 'pyrelo-glibc');
  const loader = existsSync(dir) ? readdirSync(dir).find((n) => n.startsWith('ld-linux')) : undefined;
  return { libraryPath: dir, inhibitCache: true, ...(loader === undefined ? {} : { loader: join(dir, loader) }) };
}

function runpathProblems(file: string): Problem[] {
  const elf = ElfFile.open(file);
  try {
    const dynamic = elf.dynamic();
    const problems: Problem[] = [];
    for (const [tag, value] of [['RUNPATH', dynamic?.runpath], ['RPATH', dynamic?.rpath]] as const) {
      for (const element of (value ?? '').split(':').filter((e) => e !== '')) {
        if (element.startsWith('$ORIGIN') || element.startsWith('${ORIGIN}')) continue;
        problems.push({ kind: 'absolute-runpath', severity: 'error', object: file, message: `${file}: ${tag} element ${element} is not $ORIGIN-relative (names a folder of the build host)` });
      }
    }
    return problems;
  } finally {
    elf.close();
  }
}

/** The report as it applies inside its bundle. `localFile` is the file's path on this machine. */
export function applyBundleRules(report: LoadReport, localFile: string, bundles: readonly BundleContext[]): LoadReport {
  const bundle = bundles.find((b) => localFile.startsWith(`${b.root}/`));
  if (bundle === undefined || report.kind === 'foreign') return report;
  const kept = report.problems.filter((p) => !(report.kind === 'library' && p.kind === 'undefined-symbol' && p.symbol !== undefined && bundle.pythonApi.has(p.symbol)));
  const problems = [...kept, ...runpathProblems(localFile)];
  return { ...report, problems, loads: problems.every((p) => p.severity !== 'error') };
}
