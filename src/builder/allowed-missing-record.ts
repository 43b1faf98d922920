// The manifest's record of --allow-missing (manifest `allowMissing`): each soname with the bundle
// files whose DT_NEEDED names it. A soname nothing in the bundle needs is said and not recorded: it
// would only hide a later need nobody meant to allow.

import type { AllowedMissing } from '../bundle/manifest.js';
import type { BundleElf } from './bundle-elves.js';
import type { LoadedObject } from '../loader/types.js';

export function allowedMissingRecords(
  elves: readonly BundleElf[],
  sonames: readonly string[],
  note: (line: string) => void,
): AllowedMissing[] {
  const records: AllowedMissing[] = [];
  for (const soname of sonames) {
    const neededBy = elves
      .filter((e) => e.needed.includes(soname))
      .map((e) => e.rel)
      .sort();
    if (neededBy.length === 0) {
      note(`--allow-missing ${soname}: no file of the bundle needs it; not recorded`);
      continue;
    }
    records.push({ soname, neededBy });
  }
  return records;
}

/**
 * Whether `object` is, or was first loaded by, a library allowed missing: on a build host that has
 * it, neither it nor what it brings along is grafted or counted as coming from the build host.
 */
export function throughAllowedMissing(
  objects: readonly LoadedObject[],
  object: LoadedObject,
  allowed: ReadonlySet<string>,
): boolean {
  for (
    let at: LoadedObject | undefined = object;
    at !== undefined;
    at = at.loader === null ? undefined : objects[at.loader]
  ) {
    if (allowed.has(at.name)) return true;
  }
  return false;
}
