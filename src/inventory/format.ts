// The stored inventory of a host: the facts a loader check needs, in a compact JSON form that
// travels over the network and lives in a database. Symbol tables are the bulk, so symbols are
// tuples rather than objects and version strings are interned per object.

import type { LoaderConfig } from '../loader/host-view.js';
import type { LoadableObject } from '../loader/loadable.js';
import type { LdCacheEntry } from '../loader/ld-cache.js';
import type { HostNss } from './host-nss.js';

export const INVENTORY_FORMAT = 'pyrelo-inventory/1';

export interface InventoryHostFacts {
  readonly osRelease: {
    readonly id: string;
    readonly versionId: string | null;
    readonly prettyName: string | null;
    readonly versionCodename: string | null;
    readonly idLike: readonly string[];
  } | null;
  /** uname -m style: x86_64, aarch64. */
  readonly arch: string;
  readonly kernelRelease: string;
  readonly libc: { readonly kind: 'glibc' | 'musl' | 'none'; readonly version: string | null };
}

/** The loader configuration as stored: LoaderConfig with its ld.so.cache in JSON-friendly form. */
export interface InventoryLoaderConfig extends Omit<LoaderConfig, 'cache' | 'procMounted' | 'pageSize'> {
  /**
   * The host kernel's page size in bytes (AT_PAGESZ; src/inventory/page-size.ts). Absent in
   * inventories written before it was recorded: those count as 4096, the page of every x86_64
   * host and the most lenient one (loaderConfigOf).
   */
  readonly pageSize?: number;
  /**
   * Whether /proc was mounted where the inventory was taken. Absent in inventories written before
   * it was recorded: those count as mounted (loaderConfigOf), as on a real host; a deploy takes a
   * fresh inventory anyway once the agent is a newer build.
   */
  readonly procMounted?: boolean;
  /** ld.so.cache, null when the host has none. hwcap is a decimal string (it is a u64). */
  readonly cache: {
    readonly format: 'old' | 'compat' | 'new';
    readonly hwcapsSubdirs: readonly string[];
    readonly entries: readonly (readonly [
      flags: number,
      key: string,
      value: string,
      osVersion: number,
      hwcap: string,
    ])[];
  } | null;
}

/** [name, versionIndex (-1 = none), bit flags: 1 versionHidden, 2 undefinedWithValue] */
export type StoredDefinition = readonly [string, number, number];
/** [name, versionIndex (-1 = none), bit flags: 1 weak, 2 pltOnly, 4 selfDefined] */
export type StoredRequirement = readonly [string, number, number];

/**
 * A LoadableObject as stored: the scalar facts as they are, the per-symbol and per-version lists
 * as tuples (the bulk of an inventory).
 */
export interface StoredObject extends Pick<
  LoadableObject,
  | 'header'
  | 'interpreter'
  | 'needed'
  | 'soname'
  | 'rpath'
  | 'runpath'
  | 'flags'
  | 'flags1'
  | 'abiTag'
  | 'hasVersym'
  | 'hasSymbolHash'
> {
  /**
   * GNU_PROPERTY_X86_ISA_1_NEEDED [from the notes, with the property segment]; left out when
   * unmarked (nearly every object).
   */
  readonly x86IsaNeeded?: readonly [number, number];
  /**
   * The PT_TLS segment [p_vaddr, p_memsz, p_align]; left out when the object has no TLS (most
   * objects) and in inventories written before it was recorded (read as no TLS).
   */
  readonly tls?: readonly [number, number, number];
  /** [name, hash, base, index] */
  readonly versionDefinitions: readonly (readonly [string, number, boolean, number])[];
  /** [file, [name, hash, weak, index][]] */
  readonly versionNeeds: readonly (readonly [string, readonly (readonly [string, number, boolean, number])[]])[];
  /** [index, name, hash, hidden] */
  readonly versions: readonly (readonly [number, string, number, boolean])[];
  readonly definitions: readonly StoredDefinition[];
  readonly requirements: readonly StoredRequirement[];
}

export interface Inventory {
  readonly format: typeof INVENTORY_FORMAT;
  readonly collectedAt: string;
  /** Where it was collected from: "/" or the root directory. */
  readonly source: string;
  readonly host: InventoryHostFacts;
  readonly loader: InventoryLoaderConfig;
  /** Every path the loader can open by name on this host, to an index into `objects`. */
  readonly files: Readonly<Record<string, number>>;
  /** Paths that exist but that ld.so cannot read as ELF: path -> ld.so's message. */
  readonly unreadable: Readonly<Record<string, string>>;
  readonly objects: readonly StoredObject[];
  /**
   * nsswitch.conf's databases and modules (where the host's loader finds each, its glibc needs),
   * the compiled locales and the default LANG (host-nss.ts). Absent in inventories written before.
   */
  readonly nss?: HostNss;
}

export function cacheEntryToStored(entry: LdCacheEntry): readonly [number, string, string, number, string] {
  return [entry.flags, entry.key, entry.value, entry.osVersion, entry.hwcap.toString()];
}
