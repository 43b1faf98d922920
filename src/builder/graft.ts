// Step "graft": every library an ELF of the bundle needs and the bundle does not hold is copied
// into lib/pyrelo-grafted/, found where glibc's loader would find it on the build host (pyrelo's
// loader emulation), unless the graft policy says every target has it (glibc's own libraries).
// A need a file's own check cannot find is looked up where the installed tree resolved it
// (installed-needs.ts): through the DT_RPATH of the object that loads it.

import { chmodSync, copyFileSync, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../loader/check.js';
import type { HostView } from '../loader/host-view.js';
import type { GraftedLibrary } from '../bundle/manifest.js';
import type { BundleElf } from './bundle-elves.js';
import type { InstalledNeeds } from './installed-needs.js';
import type { GraftPolicy } from './graft-policy.js';
import { throughAllowedMissing } from './allowed-missing-record.js';

export const GRAFT_DIR = 'lib/pyrelo-grafted';

export interface GraftResult {
  readonly summary: string;
  readonly grafted: GraftedLibrary[];
  /** Needs the build host itself cannot satisfy: "FILE: NAME". */
  readonly unresolved: string[];
}

/** Sonames --allow-missing lets the bundle ship without: never grafted, found on the build host or not. */
export type AllowedMissingNames = ReadonlySet<string>;

/** `dpkg -S` for many paths at once; Debian's usrmerge means /lib/x and /usr/lib/x are the same file. */
async function debianPackages(paths: readonly string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  if (paths.length === 0) return owners;
  const candidates = paths.flatMap((p) => [p, p.startsWith('/usr/') ? p.slice(4) : `/usr${p}`]);
  const result = await execa('dpkg', ['-S', ...candidates], { reject: false, env: { LC_ALL: 'C' } });
  if (result.failed && result.exitCode === undefined) return owners; // no dpkg: not a Debian build host
  for (const line of result.stdout.split('\n')) {
    const match = /^(.+?): (\/.+)$/.exec(line);
    if (match === null) continue;
    const path = match[2]!;
    const normal = path.startsWith('/usr/') ? path.slice(4) : path;
    owners.set(normal, match[1]!);
  }
  return owners;
}

function normalPath(path: string): string {
  return path.startsWith('/usr/') ? path.slice(4) : path;
}

/** A library to graft that no DT_NEEDED names: one the smoke run dlopened by name (runtime-needs.ts). */
export interface ExtraGraft {
  /** The name dlopen asked for; the graft gets it as its file name, so the caller's search finds it. */
  readonly name: string;
  /** Where it lies on the build host. */
  readonly origin: string;
  readonly neededBy: readonly string[];
}

/**
 * Grafts what `elves` need from outside the bundle (as `view`, the build host, resolves it), and
 * `extra`, but for `allowMissing`. A library already in the graft
 * folder is recorded again but not copied again (a second graft pass must not undo the first's
 * strip and RUNPATH). `installed`: where needs resolved in the installed tree, for those a file's
 * own check does not find.
 */
export async function graftLibraries(
  bundle: string,
  elves: readonly BundleElf[],
  view: HostView,
  policy: GraftPolicy,
  extra: readonly ExtraGraft[] = [],
  installed: InstalledNeeds = new Map(),
  allowMissing: AllowedMissingNames = new Set(),
): Promise<GraftResult> {
  const wanted = new Map<string, { origin: string; neededBy: Set<string> }>();
  for (const e of extra) wanted.set(e.name, { origin: e.origin, neededBy: new Set(e.neededBy) });
  const unresolved: string[] = [];
  const leftOut = new Set<string>();
  const inBundle = (path: string): boolean => path.startsWith(`${bundle}/`);
  const inContext = (loader: string | null, name: string): string | null =>
    loader !== null && inBundle(loader) ? (installed.get(relative(bundle, loader))?.get(name) ?? null) : null;
  // Host libraries found only in context: their own needs are looked up from where they lie.
  const queue: Array<{ path: string; rel: string }> = elves
    .filter((e) => e.dynamic)
    .map((e) => ({ path: e.path, rel: e.rel }));
  const queued = new Set(queue.map((q) => q.path));
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const report = checkFile(view, next.path, {});
    for (const object of report.objects.slice(1)) {
      const loader = object.loader === null ? next.path : (report.objects[object.loader]?.path ?? next.path);
      const path = object.path ?? inContext(loader, object.name);
      if (policy.assumed(object.name) || (path !== null && policy.assumed(basename(path)))) continue;
      if (throughAllowedMissing(report.objects, object, allowMissing)) {
        if (allowMissing.has(object.name)) leftOut.add(object.name);
        continue;
      }
      if (path === null) {
        unresolved.push(`${next.rel}: ${object.name}`);
        continue;
      }
      if (inBundle(path)) continue;
      if (object.path === null && !queued.has(path)) {
        queued.add(path);
        queue.push({ path, rel: `${GRAFT_DIR}/${object.name}` });
      }
      const entry = wanted.get(object.name) ?? { origin: path, neededBy: new Set<string>() };
      // relative() also normalizes the path ld.so opened (`pkg/../pkg.libs/x` through `$ORIGIN/..`).
      entry.neededBy.add(
        inBundle(loader)
          ? relative(bundle, loader)
          : loader.startsWith('/')
            ? `${GRAFT_DIR}/${basename(loader)}`
            : loader,
      );
      wanted.set(object.name, entry);
    }
  }
  if (wanted.size > 0) mkdirSync(join(bundle, GRAFT_DIR), { recursive: true });
  const names = [...wanted.keys()].sort();
  const owners = await debianPackages([
    ...new Set(names.flatMap((n) => [wanted.get(n)!.origin, realpathSync(wanted.get(n)!.origin)])),
  ]);
  const grafted: GraftedLibrary[] = [];
  for (const name of names) {
    const { origin, neededBy } = wanted.get(name)!;
    const target = join(bundle, GRAFT_DIR, name);
    if (!existsSync(target)) {
      copyFileSync(realpathSync(origin), target);
      chmodSync(target, 0o644);
    }
    grafted.push({
      path: `${GRAFT_DIR}/${name}`,
      soname: name,
      origin,
      debianPackage: owners.get(normalPath(origin)) ?? owners.get(normalPath(realpathSync(origin))) ?? null,
      neededBy: [...neededBy].sort(),
    });
  }
  const unresolvedText =
    unresolved.length === 0 ? '' : `; not found on the build host either: ${unresolved.join(', ')}`;
  const leftOutText = leftOut.size === 0 ? '' : `; left out (--allow-missing): ${[...leftOut].sort().join(' ')}`;
  return {
    summary:
      `grafted ${grafted.length} libraries into ${GRAFT_DIR}${grafted.length > 0 ? ` (${names.join(' ')})` : ''}` +
      `${unresolvedText}${leftOutText}`,
    grafted,
    unresolved,
  };
}

/** The graft records of two passes as one: one entry per grafted file, needed by everything either pass saw. */
export function mergeGrafted(first: readonly GraftedLibrary[], second: readonly GraftedLibrary[]): GraftedLibrary[] {
  const byPath = new Map<string, GraftedLibrary>();
  for (const g of [...first, ...second]) {
    const known = byPath.get(g.path);
    byPath.set(
      g.path,
      known === undefined ? g : { ...known, neededBy: [...new Set([...known.neededBy, ...g.neededBy])].sort() },
    );
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}
