// docs/loader.md section 6.
// Symbol binding as glibc's do_lookup_x()/check_match() (elf/dl-lookup.c) does it when ld.so
// relocates with LD_BIND_NOW (what `ldd -r` reports): every symbol a relocation names is looked up
// in the global scope, and a non-weak one found nowhere is an "undefined symbol".

import {
  definitionLookups,
  type IndexedVersion,
  type LoadableObject,
  type SymbolDefinition,
  type SymbolRequirement,
} from './loadable.js';
import type { LoadedObject, Problem } from './types.js';
import { findNeeded } from './version-check.js';

interface SymbolIndex {
  /** The object's definitions of a name (check_match's candidates). */
  readonly named: (name: string) => readonly SymbolDefinition[] | undefined;
  readonly versions: ReadonlyMap<number, IndexedVersion>;
}

const indexes = new WeakMap<LoadableObject, SymbolIndex>();

/** A map of every definition by name, for objects without a hash table lookup (stored inventories). */
function mapOfDefinitions(object: LoadableObject): (name: string) => readonly SymbolDefinition[] | undefined {
  const byName = new Map<string, SymbolDefinition[]>();
  for (const definition of object.definitions) {
    const list = byName.get(definition.name);
    if (list === undefined) byName.set(definition.name, [definition]);
    else list.push(definition);
  }
  return (name) => byName.get(name);
}

/** Per-object lookup tables, built once per object however many programs load it. */
function indexOf(object: LoadableObject): SymbolIndex {
  let index = indexes.get(object);
  if (index === undefined) {
    index = {
      named: definitionLookups.get(object) ?? mapOfDefinitions(object),
      versions: new Map(object.versions.map((v) => [v.index, v])),
    };
    indexes.set(object, index);
  }
  return index;
}

/**
 * The highest version index _dl_check_map_versions() sizes l_versions[] for. In trace mode it skips
 * Verneed entries of libraries that were not found, so their indexes may fall outside the table and
 * the references that use them are looked up unversioned.
 */
function highestVersionIndex(requirer: LoadableObject, objects: readonly LoadedObject[]): number {
  let high = 0;
  for (const need of requirer.versionNeeds) {
    const provider = findNeeded(need.file, objects);
    if (provider === undefined || provider.object === null) continue;
    for (const version of need.versions) high = Math.max(high, version.index);
  }
  for (const definition of requirer.versionDefinitions) high = Math.max(high, definition.index);
  return high;
}

/** The version a reference asks for (r_found_version), or null for an unversioned reference. */
function requestedVersion(
  requirer: LoadableObject,
  requirement: SymbolRequirement,
  highest: number,
): IndexedVersion | null {
  if (requirement.versionIndex === null || requirement.versionIndex < 2 || requirement.versionIndex > highest)
    return null;
  const version = indexOf(requirer).versions.get(requirement.versionIndex);
  return version === undefined || version.hash === 0 ? null : version;
}

/** check_match() over all definitions of the name in one object, then the num_versions rule. */
function definesSymbol(
  provider: LoadableObject,
  requirement: SymbolRequirement,
  version: IndexedVersion | null,
): boolean {
  if (!provider.hasSymbolHash) return false;
  // A reference platform's library: only its versions are known (loadable.ts, symbolsUnknown).
  if (provider.symbolsUnknown === true)
    return version === null || provider.versionDefinitions.some((d) => !d.base && d.name === version.name);
  const index = indexOf(provider);
  const candidates = index.named(requirement.name);
  if (candidates === undefined) return false;
  let versionedCount = 0;
  for (const definition of candidates) {
    // A PLT relocation never binds to an executable's canonical PLT entry (SHN_UNDEF with a value).
    if (definition.undefinedWithValue && requirement.pltOnly) continue;
    if (!provider.hasVersym || definition.versionIndex === null) return true;
    const defined = index.versions.get(definition.versionIndex);
    if (version !== null) {
      const same = defined !== undefined && defined.hash === version.hash && defined.name === version.name;
      const definedHash = defined?.hash ?? 0;
      if (same || !(version.hidden || definedHash !== 0 || definition.versionHidden)) return true;
      continue;
    }
    // An unversioned reference takes index 0, 1 or 2 at once, or a single non-hidden later version.
    if (definition.versionIndex >= 3) {
      if (!definition.versionHidden) versionedCount += 1;
      continue;
    }
    return true;
  }
  return versionedCount === 1;
}

/**
 * Remembers, per requiring object, which object satisfied each of its references last time. The
 * same library is loaded by many programs and its references are nearly always satisfied by the
 * same provider, so a lookup usually costs one set membership test instead of a walk over the
 * scope. Only existence matters for this check, so any satisfying object in scope will do.
 */
export class SatisfierMemo {
  private readonly last = new WeakMap<LoadableObject, Map<number, (LoadableObject | undefined)[]>>();
  /**
   * Per requirer and highest version index: the objects that satisfied every one of its references
   * the last time none was missing. A scope holding all of them satisfies every reference again
   * (each remembered provider is in it), so the requirer's references need not be walked one by one.
   */
  private readonly complete = new WeakMap<LoadableObject, Map<number, readonly LoadableObject[]>>();

  /** Per symbol name, the object that satisfied the last lookup of it. */
  private readonly definers = new Map<string, LoadableObject>();

  definerOf(name: string): LoadableObject | undefined {
    return this.definers.get(name);
  }

  rememberDefiner(name: string, provider: LoadableObject): void {
    this.definers.set(name, provider);
  }

  /** Whether every reference of `requirer` is satisfied by objects already remembered and all in `scope`. */
  satisfiedIn(requirer: LoadableObject, highest: number, scope: ReadonlySet<LoadableObject>): boolean {
    const providers = this.complete.get(requirer)?.get(highest);
    return providers !== undefined && providers.every((p) => scope.has(p));
  }

  /** Records that the `slots` of the references looked up now satisfy all of them. */
  recordComplete(requirer: LoadableObject, highest: number, providers: readonly LoadableObject[]): void {
    let perHighest = this.complete.get(requirer);
    if (perHighest === undefined) {
      perHighest = new Map();
      this.complete.set(requirer, perHighest);
    }
    perHighest.set(highest, providers);
  }

  slots(requirer: LoadableObject, highest: number): (LoadableObject | undefined)[] {
    let perHighest = this.last.get(requirer);
    if (perHighest === undefined) {
      perHighest = new Map();
      this.last.set(requirer, perHighest);
    }
    let slots = perHighest.get(highest);
    if (slots === undefined) {
      slots = new Array<LoadableObject | undefined>(requirer.requirements.length);
      perHighest.set(highest, slots);
    }
    return slots;
  }
}

/**
 * What a dlopen relocates: only the objects it mapped anew (`fresh`, positions in its search list),
 * each looking a symbol up first in the process's global scope, then in the dlopened object's
 * local scope, as _dl_lookup_symbol_x() walks l_scope (loader-model.md, "dlopen").
 */
export interface DlopenScope {
  readonly globalScope: readonly LoadedObject[];
  readonly fresh: ReadonlySet<number>;
}

/**
 * ldd -r's undefined-symbol check over the global scope (the namespace in search-list order), or,
 * with `dlopen`, over the global and then the local scope of a dlopened library.
 */
export function checkSymbols(
  objects: readonly LoadedObject[],
  memo: SatisfierMemo = new SatisfierMemo(),
  dlopen?: DlopenScope,
): Problem[] {
  const scopeList = [...(dlopen?.globalScope ?? []), ...objects]
    .map((o) => o.object)
    .filter((o): o is LoadableObject => o !== null);
  const scope = new Set(scopeList);
  const problems: Problem[] = [];
  for (const requirer of objects) {
    if (dlopen !== undefined && !dlopen.fresh.has(requirer.index)) continue;
    const object = requirer.object;
    if (object === null || object.requirements.length === 0) continue;
    const requirerName = requirer.path ?? requirer.name;
    const highest = highestVersionIndex(object, objects);
    if (memo.satisfiedIn(object, highest, scope)) continue;
    const slots = memo.slots(object, highest);
    const providers = new Set<LoadableObject>();
    let missing = false;
    object.requirements.forEach((requirement, i) => {
      if (requirement.selfDefined || requirement.weak) return;
      const remembered = slots[i];
      if (remembered !== undefined && scope.has(remembered)) {
        providers.add(remembered);
        return;
      }
      const version = requestedVersion(object, requirement, highest);
      // The object that last defined the name is tried first: one probe instead of a walk.
      const hint = memo.definerOf(requirement.name);
      const provider =
        hint !== undefined && scope.has(hint) && definesSymbol(hint, requirement, version)
          ? hint
          : scopeList.find((p) => definesSymbol(p, requirement, version));
      if (provider !== undefined) {
        slots[i] = provider;
        memo.rememberDefiner(requirement.name, provider);
        providers.add(provider);
        return;
      }
      missing = true;
      const versionText = version === null ? '' : `, version ${version.name}`;
      problems.push({
        kind: 'undefined-symbol',
        severity: 'error',
        object: requirerName,
        symbol: requirement.name,
        ...(version === null ? {} : { version: version.name }),
        message: `${requirerName}: undefined symbol: ${requirement.name}${versionText}`,
      });
    });
    if (!missing) memo.recordComplete(object, highest, [...providers]);
  }
  return problems;
}
