// Step "runpath": every ELF of the bundle finds what it needs from the bundle through a DT_RUNPATH
// made of $ORIGIN-relative folders, so the bundle works wherever it is moved.
//
// Why DT_RUNPATH and not DT_RPATH: RPATH is inherited: ld.so also searches the program's RPATH for
// the needs of every library without a RUNPATH, host libraries included, and it is searched before
// LD_LIBRARY_PATH, so the bundle would leak into libraries it does not own and users could not
// override it. RUNPATH applies to the object's own needs only, which is exactly the bundle's
// intent; the price is that every ELF needs its own, grafted libraries included, and covering
// every folder where its own DT_NEEDED entries resolved in the installed tree, also those it
// found only through the RPATH of the object that loads it (installed-needs.ts: auditwheel's
// libgfortran finds its libquadmath that way). So no object depends on another's search path.
//
// Debug symbols are stripped before patching and never after: strip rewrites the file and may
// lay out the dynamic section patchelf grew differently.

import { chmodSync, existsSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { isElf } from '../elf/elf-file.js';
import type { BundleElf } from './bundle-elves.js';
import { hasDebugSections, loadSegmentProblems } from './elf-layout.js';
import type { GraftPolicy } from './graft-policy.js';
import { isOriginRelative } from '../bundle/origin-relative.js';

/** soname -> folders (relative to the bundle root) that hold a library of that name. */
export type Providers = Map<string, string[]>;

/** Libraries a RUNPATH may point at: those in the library folders (not extension modules). */
export function findProviders(elves: readonly BundleElf[], libraryDirs: readonly string[]): Providers {
  const providers: Providers = new Map();
  for (const elf of elves) {
    const dir = dirname(elf.rel);
    if (!libraryDirs.includes(dir)) continue;
    for (const name of new Set([elf.rel.slice(dir.length + 1), ...(elf.soname ? [elf.soname] : [])])) {
      const list = providers.get(name) ?? [];
      if (!list.includes(dir)) list.push(dir);
      providers.set(name, list);
    }
  }
  return providers;
}

function originRelative(fromDir: string, toDir: string): string {
  const rel = relative(fromDir, toDir);
  return rel === '' ? '$ORIGIN' : `$ORIGIN/${rel}`;
}

/**
 * The bundle folder (relative to the bundle root) of `path`, where `need` resolved, when it is in
 * the bundle and holds a file of that name (a RUNPATH search looks for the name, not the DT_SONAME).
 */
function resolvedFolder(bundle: string, need: string, path: string | undefined): string | null {
  if (path === undefined || !path.startsWith(`${bundle}/`)) return null;
  const folder = dirname(path);
  return existsSync(join(folder, need)) ? relative(bundle, folder) : null;
}

/**
 * The RUNPATH an ELF should have: its existing $ORIGIN elements (a wheel's own `.libs` folder)
 * followed by the bundle folders that provide its needs; absolute elements are dropped. `dlopened`:
 * the names it dlopens at run time (the manifest's run-time needs), which ld.so searches with the
 * caller's RUNPATH as it searches a DT_NEEDED (docs/loader-model.md, "dlopen"). `resolved`: where
 * its needs resolved in the installed tree (installed-needs.ts), RPATH inherited from its loaders
 * included; a need resolved to a file of the bundle gets that file's folder, before `providers`.
 */
export function plannedRunpath(
  bundle: string,
  elf: BundleElf,
  providers: Providers,
  policy: GraftPolicy,
  dlopened: readonly string[] = [],
  resolved: ReadonlyMap<string, string> = new Map(),
): string | null {
  const existing = [elf.runpath, elf.rpath]
    .filter((p): p is string => p !== null)
    .flatMap((p) => p.split(':'))
    .filter(isOriginRelative);
  const elements = [...new Set(existing)];
  const dir = dirname(elf.rel);
  const foundThroughExisting = (need: string): boolean =>
    elements.some((e) => {
      const expanded = e.replace(/^\$\{?ORIGIN\}?/, join(bundle, dir));
      return existsSync(join(expanded, need));
    });
  for (const need of [...elf.needed, ...dlopened]) {
    if (policy.assumed(need) || need.includes('/') || foundThroughExisting(need)) continue;
    const found = resolvedFolder(bundle, need, resolved.get(need));
    if (found !== null) {
      const element = originRelative(dir, found);
      if (!elements.includes(element)) elements.push(element);
      continue;
    }
    const dirs = providers.get(need);
    if (dirs === undefined || dirs.length === 0) continue;
    const element = originRelative(dir, dirs[0]!);
    if (!elements.includes(element)) elements.push(element);
  }
  return elements.length === 0 ? null : elements.join(':');
}

export interface StripResult {
  /** Files strip rewrote. */
  readonly stripped: number;
  /** ELF files with nothing to strip, left byte for byte as they were. */
  readonly untouched: number;
  /** ELF files strip would have broken (loadSegmentProblems), kept unstripped (paths as given). */
  readonly refused: string[];
}

/**
 * `strip --strip-unneeded` (debug information and the static symbol table, .symtab, as Debian
 * ships its libraries; .dynsym, which the loader and dlsym use, stays), but only where there is
 * debug information, and never into a file ld.so would refuse. The .symtab is 1.2 MB of a bare
 * runtime (0.7 MB of it libpython's); without it a debugger or perf names static functions by
 * address only, as with any distribution's Python. Why: auditwheel repairs wheels with patchelf,
 * and strip rewrites any file it is
 * given, even with nothing to remove, moving the segments patchelf added; numpy 2.4's
 * numpy.libs/libscipy_openblas64_ then failed to load with "ELF load command address/offset not
 * page-aligned". So ELF files without .debug sections are not touched at all, and the others are
 * stripped into a copy that replaces them only when its LOAD segments are still loadable.
 * Static libraries (ar archives, kept by --no-slim) are stripped in place of debug information
 * only: their symbols are what linking against them needs.
 */
export async function stripDebug(paths: readonly string[]): Promise<StripResult> {
  const archives: string[] = [];
  const candidates: string[] = [];
  let untouched = 0;
  for (const path of paths) {
    if (!isElf(path)) archives.push(path);
    else if (hasDebugSections(path)) candidates.push(path);
    else untouched += 1;
  }
  // One call per chunk: strip accepts many files.
  for (let i = 0; i < archives.length; i += 200)
    await execa('strip', ['--strip-debug', '--', ...archives.slice(i, i + 200)]);
  const refused: string[] = [];
  let stripped = archives.length;
  for (const given of candidates) {
    const path = realpathSync(given); // a link stays a link; its file is stripped
    const copy = `${path}.pyrelo-strip`;
    await execa('strip', ['--strip-unneeded', '-o', copy, '--', path]);
    if (loadSegmentProblems(copy).length > 0 && loadSegmentProblems(path).length === 0) {
      rmSync(copy);
      refused.push(given);
      continue;
    }
    chmodSync(copy, statSync(path).mode & 0o7777);
    renameSync(copy, path);
    stripped += 1;
  }
  return { stripped, untouched, refused };
}

/** Sets (or removes) the RUNPATH; returns true when the file changed. */
export async function applyRunpath(elf: BundleElf, runpath: string | null): Promise<boolean> {
  const current = elf.runpath ?? null;
  if (runpath === current && elf.rpath === null) return false;
  if (runpath === null) {
    if (current === null && elf.rpath === null) return false;
    await execa('patchelf', ['--remove-rpath', elf.path]);
  } else {
    // Without --force-rpath patchelf writes DT_RUNPATH (and turns an existing DT_RPATH into one).
    await execa('patchelf', ['--set-rpath', runpath, elf.path]);
  }
  return true;
}
