// Step "graft": every library an ELF of the bundle needs and the bundle does not hold is copied
// into lib/pyrelo-grafted/, found where glibc's loader would find it on the build host (pyrelo's
// loader emulation), unless the graft policy says every target has it (glibc's own libraries).

import { chmodSync, copyFileSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../loader/check.js';
import { RootHostView } from '../loader/root-host.js';
import { loaderConfigForRoot } from '../inventory/root-config.js';
import type { GraftedLibrary } from '../bundle/manifest.js';
import type { BundleElf } from './bundle-elves.js';
import type { GraftPolicy } from './graft-policy.js';

export const GRAFT_DIR = 'lib/pyrelo-grafted';

export interface GraftResult {
  readonly summary: string;
  readonly grafted: GraftedLibrary[];
  /** Needs the build host itself cannot satisfy: "FILE: NAME". */
  readonly unresolved: string[];
}

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

export async function graftLibraries(bundle: string, elves: readonly BundleElf[], policy: GraftPolicy): Promise<GraftResult> {
  const view = new RootHostView('/', loaderConfigForRoot('/'));
  const wanted = new Map<string, { origin: string; neededBy: Set<string> }>();
  const unresolved: string[] = [];
  for (const elf of elves) {
    if (!elf.dynamic) continue;
    const report = checkFile(view, elf.path, {});
    for (const object of report.objects.slice(1)) {
      if (policy.assumed(object.name) || (object.path !== null && policy.assumed(basename(object.path)))) continue;
      if (object.path === null) {
        unresolved.push(`${elf.rel}: ${object.name}`);
        continue;
      }
      if (object.path.startsWith(`${bundle}/`)) continue;
      const loader = object.loader === null ? elf.rel : (report.objects[object.loader]?.path ?? elf.rel);
      const entry = wanted.get(object.name) ?? { origin: object.path, neededBy: new Set<string>() };
      entry.neededBy.add(loader.startsWith(`${bundle}/`) ? loader.slice(bundle.length + 1) : loader.startsWith('/') ? `${GRAFT_DIR}/${basename(loader)}` : loader);
      wanted.set(object.name, entry);
    }
  }
  if (wanted.size > 0) mkdirSync(join(bundle, GRAFT_DIR), { recursive: true });
  const names = [...wanted.keys()].sort();
  const owners = await debianPackages([...new Set(names.flatMap((n) => [wanted.get(n)!.origin, realpathSync(wanted.get(n)!.origin)]))]);
  const grafted: GraftedLibrary[] = [];
  for (const name of names) {
    const { origin, neededBy } = wanted.get(name)!;
    const target = join(bundle, GRAFT_DIR, name);
    copyFileSync(realpathSync(origin), target);
    chmodSync(target, 0o644);
    grafted.push({
      path: `${GRAFT_DIR}/${name}`,
      soname: name,
      origin,
      debianPackage: owners.get(normalPath(origin)) ?? owners.get(normalPath(realpathSync(origin))) ?? null,
      neededBy: [...neededBy].sort(),
    });
  }
  const unresolvedText = unresolved.length === 0 ? '' : `; not found on the build host either: ${unresolved.join(', ')}`;
  return { summary: `grafted ${grafted.length} libraries into ${GRAFT_DIR}${grafted.length > 0 ? ` (${names.join(' ')})` : ''}${unresolvedText}`, grafted, unresolved };
}
