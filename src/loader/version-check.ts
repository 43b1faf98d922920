// docs/loader.md section 5.
// glibc's _dl_check_all_versions() (elf/dl-version.c): every Verneed of every loaded object is
// matched against the Verdef records of the object it names.

import type { LoadedObject, Problem } from './types.js';

/** find_needed(): the loaded object a Verneed's vn_file names (by path or by a name it was requested under). */
export function findNeeded(file: string, objects: readonly LoadedObject[]): LoadedObject | undefined {
  return objects.find((o) => o.path === file || o.aliases.includes(file));
}

/**
 * Checks versions for every object in load order, returning ld.so's messages. `only` limits the
 * requirers to those positions (a dlopen checks the objects it mapped anew).
 */
export function checkVersions(objects: readonly LoadedObject[], only?: ReadonlySet<number>): Problem[] {
  const problems: Problem[] = [];
  for (const requirer of objects) {
    if (only !== undefined && !only.has(requirer.index)) continue;
    const object = requirer.object;
    if (object === null) continue;
    const requiredBy = requirer.path ?? requirer.name;
    for (const need of object.versionNeeds) {
      const provider = findNeeded(need.file, objects);
      // A faked map (library not found) is skipped in trace mode; the missing library is reported already.
      if (provider === undefined || provider.object === null) continue;
      const providerName = provider.path ?? provider.name;
      if (provider.object.versionDefinitions.length === 0) {
        if (need.versions.length > 0) {
          problems.push({
            kind: 'no-version-information',
            severity: 'warning',
            object: providerName,
            requiredBy,
            message: `${providerName}: no version information available (required by ${requiredBy})`,
          });
        }
        continue;
      }
      for (const version of need.versions) {
        const defined = provider.object.versionDefinitions.some(
          (d) => d.hash === version.hash && d.name === version.name,
        );
        if (defined) continue;
        problems.push(
          version.weak
            ? {
                kind: 'weak-version',
                severity: 'warning',
                object: providerName,
                requiredBy,
                version: version.name,
                message: `${providerName}: weak version \`${version.name}' not found (required by ${requiredBy})`,
              }
            : {
                kind: 'missing-version',
                severity: 'error',
                object: providerName,
                requiredBy,
                version: version.name,
                message: `${providerName}: version \`${version.name}' not found (required by ${requiredBy})`,
              },
        );
      }
    }
  }
  return problems;
}
