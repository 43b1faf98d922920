// The bundle rules: how `pyrelo check`, the service's predictions and checks, and `pyrelo build`'s
// verify step see the files of a pyrelo bundle (a folder holding pyrelo.json). A plain folder's
// files are checked on their own; a bundle's are checked the way its interpreter really loads
// them (docs/loader-model.md, "Bundle rules"):
// - a library (an extension module, an abi3 module, a library of a `*.libs/` folder, anything
//   without PT_INTERP, and one with a PT_INTERP that is a library all the same: bundle-file-role.ts)
//   is dlopened into a process of the bundle's interpreter, with RTLD_LOCAL and
//   RTLD_NOW as Python and ctypes do: the interpreter and its dependencies are the global scope,
//   searched before the library's own. So the Python C API an extension leaves undefined, or a
//   libm function a wheel calls without listing libm, is found there, as in the real process;
// - with --libc bundle, the interpreter starts through the bundled loader (--library-path
//   lib/pyrelo-glibc, --inhibit-cache), as its launcher starts it;
// - a library named by --preload-only (manifest preloadOnly) is checked as LD_PRELOAD loads it
//   into the interpreter at start-up, not as dlopened (loader-model.md, "LD_PRELOAD"); when the
//   interpreter's launcher is a script (--libc bundle), the host's shell its shebang names starts
//   first with the same LD_PRELOAD, under the host's loader, and must survive the library too;
// - a library the bundle was allowed to ship without (manifest allowMissing) makes the files that
//   need it warnings where the host lacks it (allowed-missing.ts);
// - an absolute RUNPATH or RPATH element is a problem: it names a folder of the build host, and on
//   a target it either finds nothing or, worse, something else.

import { closeSync, existsSync, lstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ElfFile, isElf } from '../elf/elf-file.js';
import type { LoadReport, Problem } from '../loader/types.js';
import type { CheckOptions } from '../loader/check.js';
import { readManifest, type LocaleNeed } from '../bundle/manifest.js';
import { nonOriginElements } from '../bundle/origin-relative.js';
import { GLIBC_DIR, LIBEXEC_DIR } from '../bundle/layout.js';
import { isBundleLibrary } from './bundle-file-role.js';
import { excuseAllowedMissing } from './allowed-missing.js';

export interface BundleContext {
  readonly root: string;
  /** From pyrelo.json: 'bundle' means the programs start through the bundled loader. */
  readonly libc: 'host' | 'bundle';
  /** The interpreter's ELF file (a local path), into which libraries are dlopened; null when the bundle has none. */
  readonly interpreter: string | null;
  /** From pyrelo.json's allowMissing: sonames the bundle was built without (allowed-missing.ts). */
  readonly allowMissing: ReadonlySet<string>;
  /**
   * From pyrelo.json's preloadOnly (`pyrelo build --preload-only`), as local paths: libraries only
   * ever loaded with LD_PRELOAD, checked as preloaded into the interpreter, not dlopened.
   */
  readonly preloadOnly: ReadonlySet<string>;
  /**
   * The host's shell that runs the interpreter's launcher script (its shebang: `/bin/sh` for a
   * --libc bundle bundle's bin/python3, libc-bundle.ts); null when the interpreter is started
   * directly (--libc host) or the bundle has no preloadOnly file to check against it.
   */
  readonly launcherShell: string | null;
  /** From pyrelo.json's locales: what the application needs compiled on the host (compat/host-locales.ts). */
  readonly locales: readonly LocaleNeed[];
}

/**
 * The bundle folder (holding pyrelo.json) a path is, or lies in; null when none. `known` remembers
 * the answer for every folder walked, so a thousand files of one folder cost one walk.
 */
export function enclosingBundle(path: string, known = new Map<string, string | null>()): string | null {
  const walked: string[] = [];
  let found: string | null = null;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const answer = known.get(dir);
    if (answer !== undefined) {
      found = answer;
      break;
    }
    walked.push(dir);
    if (existsSync(join(dir, 'pyrelo.json'))) {
      found = dir;
      break;
    }
    if (dir === '/') break;
  }
  for (const dir of walked) known.set(dir, found);
  return found;
}

function isElfFile(path: string): boolean {
  return existsSync(path) && lstatSync(path).isFile() && isElf(path);
}

/**
 * The interpreter ELF: the manifest's python.executable, which with --libc bundle is a launcher
 * script whose ELF lies in libexec/ under the same name. A bundle whose manifest cannot be read is
 * searched for bin/python3.N or libexec/python3.N.
 */
function interpreterOf(root: string, manifestExecutable: string | null): string | null {
  const candidates =
    manifestExecutable === null
      ? ['bin', LIBEXEC_DIR].flatMap((d) =>
          existsSync(join(root, d))
            ? readdirSync(join(root, d))
                .filter((n) => /^python3\.\d+$/.test(n))
                .sort()
                .map((n) => join(d, n))
            : [],
        )
      : [manifestExecutable, join(LIBEXEC_DIR, basename(manifestExecutable))];
  return candidates.map((rel) => join(root, rel)).find(isElfFile) ?? null;
}

/** The longest shebang line read; the kernel reads no more than 256 bytes of it either. */
const SHEBANG_BYTES = 256;

/**
 * The program a launcher script's shebang names (`#!/bin/sh` gives /bin/sh), read from the
 * manifest's executable; null when that is no script (an ELF interpreter, --libc host) or absent.
 */
function shebangProgram(root: string, manifestExecutable: string | null): string | null {
  if (manifestExecutable === null) return null;
  const path = join(root, manifestExecutable);
  if (!existsSync(path) || !lstatSync(path).isFile()) return null;
  const head = Buffer.alloc(SHEBANG_BYTES);
  const fd = openSync(path, 'r');
  let read: number;
  try {
    read = readSync(fd, head, 0, SHEBANG_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  const line = head.subarray(0, read).toString('latin1').split('\n')[0]!;
  const m = /^#!\s*(\/\S+)/.exec(line);
  return m === null ? null : m[1]!;
}

/**
 * The bundles the checked paths are or lie in. A file checked on its own still loads its
 * libraries from the rest of its bundle, so the caller lays whole bundles over the host.
 */
export function bundlesAmong(paths: readonly string[]): BundleContext[] {
  const known = new Map<string, string | null>();
  const roots = [...new Set(paths.map((p) => enclosingBundle(p, known)).filter((r): r is string => r !== null))];
  return roots.map((root) => {
    try {
      const manifest = readManifest(root);
      return bundleContext(
        root,
        manifest.libc,
        manifest.python.executable,
        (manifest.allowMissing ?? []).map((a) => a.soname),
        manifest.preloadOnly ?? [],
        manifest.locales ?? [],
      );
    } catch {
      // An unreadable manifest is not the check's subject: check the files as they are.
      return bundleContext(root, 'host', null);
    }
  });
}

/** A bundle as its manifest describes it, or will: the build verifies before it writes pyrelo.json. */
export function bundleContext(
  root: string,
  libc: 'host' | 'bundle',
  executable: string | null,
  allowMissing: readonly string[] = [],
  preloadOnly: readonly string[] = [],
  locales: readonly LocaleNeed[] = [],
): BundleContext {
  return {
    root,
    libc,
    interpreter: interpreterOf(root, executable),
    allowMissing: new Set(allowMissing),
    preloadOnly: new Set(preloadOnly.map((p) => join(root, p))),
    launcherShell: preloadOnly.length === 0 ? null : shebangProgram(root, executable),
    locales,
  };
}

function bundleOf(localFile: string, bundles: readonly BundleContext[]): BundleContext | undefined {
  return bundles.find((b) => localFile.startsWith(`${b.root}/`));
}

/**
 * How a bundle's file is checked: a library as dlopened into the interpreter, and with --libc
 * bundle every program as the launcher starts it (the bundled loader with --library-path
 * lib/pyrelo-glibc and --inhibit-cache; see src/builder/libc-bundle.ts). `toHostPath` maps local
 * paths to the paths the checked host sees them under.
 */
export function bundleCheckOptions(
  localFile: string,
  bundles: readonly BundleContext[],
  toHostPath: (p: string) => string = (p) => p,
): CheckOptions {
  const bundle = bundleOf(localFile, bundles);
  if (bundle === undefined) return {};
  const into =
    bundle.interpreter === null
      ? {}
      : {
          dlopenInto: toHostPath(bundle.interpreter),
          ...(isBundleLibrary(bundle.root, localFile) ? { asLibrary: true } : {}),
          ...(bundle.preloadOnly.has(localFile)
            ? { preloaded: true, ...(bundle.launcherShell === null ? {} : { launcherShell: bundle.launcherShell }) }
            : {}),
        };
  if (bundle.libc !== 'bundle') return into;
  const dir = join(bundle.root, GLIBC_DIR);
  const loader = existsSync(dir) ? readdirSync(dir).find((n) => n.startsWith('ld-linux')) : undefined;
  return {
    ...into,
    libraryPath: toHostPath(dir),
    inhibitCache: true,
    ...(loader === undefined ? {} : { loader: toHostPath(join(dir, loader)) }),
  };
}

function runpathProblems(file: string): Problem[] {
  const elf = ElfFile.open(file);
  try {
    const dynamic = elf.dynamic();
    return nonOriginElements({ runpath: dynamic?.runpath ?? null, rpath: dynamic?.rpath ?? null }).map(
      ({ tag, element }) => ({
        kind: 'absolute-runpath' as const,
        severity: 'error' as const,
        object: file,
        message: `${file}: ${tag} element ${element} is not $ORIGIN-relative (names a folder of the build host)`,
      }),
    );
  } finally {
    elf.close();
  }
}

/** The report as it applies inside its bundle. `localFile` is the file's path on this machine. */
export function applyBundleRules(report: LoadReport, localFile: string, bundles: readonly BundleContext[]): LoadReport {
  const bundle = bundleOf(localFile, bundles);
  if (bundle === undefined || report.kind === 'foreign') return report;
  const problems = excuseAllowedMissing([...report.problems, ...runpathProblems(localFile)], bundle.allowMissing);
  return {
    ...report,
    problems,
    loads: problems.every((p) => p.severity !== 'error' && p.allowedMissing === undefined),
  };
}
