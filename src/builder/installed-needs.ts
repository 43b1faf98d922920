// Where each ELF of the bundle finds its own DT_NEEDED entries in the tree as pip installed it,
// before pyrelo touches any RUNPATH. ld.so searches the needs of an object without DT_RUNPATH
// with the DT_RPATH of the object that loaded it, and of its loader, up the chain (README,
// `pyrelo check`, "What the emulation covers"): auditwheel's repaired wheels rely on it, e.g.
// scipy.libs/libgfortran-….so NEEDs libquadmath-….so from the same folder, has no search path of
// its own, and is found only through the extension module's RPATH `$ORIGIN/../../scipy.libs`.
// A file checked on its own misses such a need; so every need is taken as resolved in any context
// the bundle's own files load it in, which the runpath step (runpath.ts) then writes into the
// object's own RUNPATH and the graft step (graft.ts) consults for what a lone check misses.

import { relative, resolve } from 'node:path';
import { checkFile } from '../loader/check.js';
import type { HostView } from '../loader/host-view.js';
import type { BundleElf } from './bundle-elves.js';

/** Bundle-relative ELF -> DT_NEEDED name -> the path (absolute, normalized, on the build host) it resolves to. */
export type InstalledNeeds = ReadonlyMap<string, ReadonlyMap<string, string>>;

/**
 * Each dynamic ELF of `elves` checked as the first object of a process on `view` (the build host),
 * every DT_NEEDED edge of every object of the bundle recorded with where it led. When contexts
 * disagree, a file of the bundle wins over one of the build host: that is the one the bundle ships.
 */
export function resolveInstalledNeeds(bundle: string, elves: readonly BundleElf[], view: HostView): InstalledNeeds {
  const inBundle = (path: string): boolean => path.startsWith(`${bundle}/`);
  const needs = new Map<string, Map<string, string>>();
  for (const elf of elves) {
    if (!elf.dynamic) continue;
    const report = checkFile(view, elf.path, {});
    // Paths as ld.so opened them (`…/pkg/../pkg.libs/x`), normalized: bundle membership is read from them.
    const opened = (index: number): string | null => {
      const path = report.objects[index]?.path ?? null;
      return path === null ? null : resolve(path);
    };
    for (const edge of report.edges) {
      const from = opened(edge.from);
      const to = opened(edge.to);
      if (from === null || to === null || !inBundle(from)) continue;
      const rel = relative(bundle, from);
      const known = needs.get(rel) ?? new Map<string, string>();
      const before = known.get(edge.name);
      if (before === undefined || (!inBundle(before) && inBundle(to))) known.set(edge.name, to);
      needs.set(rel, known);
    }
  }
  return needs;
}
