// The loader's view of one ELF file: exactly the facts glibc's ld.so consults when it maps the
// object, checks its versions and binds its symbols, and nothing else. It is plain data, so a
// host inventory can store it and the same emulation can run against a live root or a stored host.

import type { AbiTag, DynamicInfo, ElfClass, ElfData, ElfSymbol } from '../elf/types.js';
import type { ElfFile } from '../elf/elf-file.js';
import type { X86IsaNeeded } from '../elf/gnu-property.js';
import { loadSegmentsOf, type LoadSegment } from './load-commands.js';
import { tlsSegmentOf, type TlsSegment } from './static-tls.js';
import type { IndexedDefinition } from './definition-index.js';
import {
  SHN_ABS,
  SHN_UNDEF,
  STB_GLOBAL,
  STB_GNU_UNIQUE,
  STB_LOCAL,
  STB_WEAK,
  STT_COMMON,
  STT_FUNC,
  STT_GNU_IFUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_TLS,
  STV_HIDDEN,
  STV_INTERNAL,
  VER_FLG_BASE,
  VER_FLG_WEAK,
  PT_DYNAMIC,
} from '../elf/constants.js';

/** e_ident and header fields that ld.so's open_verify() and elf_get_dynamic_info() inspect. */
export interface LoadableHeader {
  readonly elfClass: ElfClass;
  readonly data: ElfData;
  readonly identVersion: number;
  readonly osabi: number;
  readonly abiversion: number;
  readonly paddingNonZero: boolean;
  readonly e_version: number;
  readonly e_type: number;
  readonly e_machine: number;
  readonly e_phentsize: number;
  readonly hasDynamic: boolean;
}

/**
 * One entry of map->l_versions[]: the version name a .gnu.version index stands for in this object.
 * Filled from Vernaux (vna_other) and from non-BASE Verdef (vd_ndx), as _dl_check_map_versions does.
 */
export interface IndexedVersion {
  readonly index: number;
  readonly name: string;
  readonly hash: number;
  /** vna_other & 0x8000 for needs; always false for definitions. */
  readonly hidden: boolean;
}

/** A dynamic symbol this object defines that a lookup (check_match) can find. */
export interface SymbolDefinition {
  readonly name: string;
  /** .gnu.version index (without the hidden bit); null when the object has no DT_VERSYM. */
  readonly versionIndex: number | null;
  readonly versionHidden: boolean;
  /**
   * st_shndx == SHN_UNDEF with a non-zero value: a canonical PLT address in an executable.
   * check_match() accepts it for data references but not for PLT relocations.
   */
  readonly undefinedWithValue: boolean;
}

/** A symbol this object will ask the loader to find while it relocates (one per symbol, not per relocation). */
export interface SymbolRequirement {
  readonly name: string;
  /** The version index of the reference in .gnu.version; versions come from `versions`. */
  readonly versionIndex: number | null;
  /** STB_WEAK reference: never an error when unresolved. */
  readonly weak: boolean;
  /** Referenced only by JUMP_SLOT relocations (bound lazily unless BIND_NOW). */
  readonly pltOnly: boolean;
  /** The object defines this symbol itself, so it is in every scope the object is in. */
  readonly selfDefined: boolean;
}

export interface VersionRequirement {
  readonly name: string;
  readonly hash: number;
  readonly weak: boolean;
  readonly index: number;
}

export interface VersionNeedEntry {
  readonly file: string;
  readonly versions: readonly VersionRequirement[];
}

export interface VersionDefinitionEntry {
  readonly name: string;
  readonly hash: number;
  readonly base: boolean;
  readonly index: number;
}

/** The dynamic section's own fields (DT_NEEDED, DT_SONAME, DT_RPATH, ...) as the reader decodes them. */
export interface LoadableObject extends Pick<
  DynamicInfo,
  'needed' | 'soname' | 'rpath' | 'runpath' | 'flags' | 'flags1'
> {
  readonly header: LoadableHeader;
  readonly interpreter: string | null;
  /** Why execve refuses the PT_INTERP (ElfFile.interpreterRefusal); absent when it does not, or unknown. */
  readonly interpreterRefusal?: string;
  readonly abiTag: AbiTag | null;
  /**
   * GNU_PROPERTY_X86_ISA_1_NEEDED: the x86 ISA level bits the object needs (GNU_PROPERTY_X86_ISA_1_V2
   * = 2, _V3 = 4, _V4 = 8, ...), 0 when unmarked, as glibc 2.33–2.38 and 2.39+ read it. ld.so
   * compares it with the CPU's (isa-level.ts).
   */
  readonly x86IsaNeeded: X86IsaNeeded;
  /**
   * The PT_LOAD headers, for the checks _dl_map_object_from_fd makes before mapping
   * (load-commands.ts). Absent for objects read from an inventory, which does not store them:
   * a host's own libraries were mapped on that host; the files being checked are read whole.
   */
  readonly loadSegments?: readonly LoadSegment[];
  /**
   * The PT_TLS segment (its block's size, alignment and address), absent when the object has no
   * TLS. With DF_STATIC_TLS in `flags`, a dlopen must find it room in the static TLS block (static-tls.ts).
   */
  readonly tls?: TlsSegment;
  /** Verdef records in file order (BASE included): what match_symbol() compares against. */
  readonly versionDefinitions: readonly VersionDefinitionEntry[];
  readonly versionNeeds: readonly VersionNeedEntry[];
  /** map->l_versions: index -> version, for symbol matching. Sparse, so stored as a list. */
  readonly versions: readonly IndexedVersion[];
  readonly hasVersym: boolean;
  /** False when the object has no hash table (l_nbuckets == 0): lookups skip it. */
  readonly hasSymbolHash: boolean;
  readonly definitions: readonly SymbolDefinition[];
  readonly requirements: readonly SymbolRequirement[];
  /**
   * A reference platform's library, known by its version definitions only (src/inventory/reference-host.ts):
   * its symbol table is not known, so a lookup takes any name as defined under a version it
   * defines, or unversioned. Absent for every real object.
   */
  readonly symbolsUnknown?: true;
}

/**
 * The dynamic-section fields and the ABI tag, copied as they are: what both stored forms (the parse
 * cache's, loadable-codec.ts, and an inventory's, inventory/codec.ts) keep unchanged.
 */
export function dynamicFactsOf(
  object: LoadableObject,
): Pick<LoadableObject, 'needed' | 'soname' | 'rpath' | 'runpath' | 'flags' | 'flags1' | 'abiTag'> {
  return {
    needed: object.needed,
    soname: object.soname,
    rpath: object.rpath,
    runpath: object.runpath,
    flags: object.flags,
    flags1: object.flags1,
    abiTag: object.abiTag,
  };
}

/** The types check_match() accepts (ALLOWED_STT). */
const ALLOWED_STT = new Set([STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_COMMON, STT_TLS, STT_GNU_IFUNC]);

/** dl_symbol_visibility_binds_local_p(): hidden and internal symbols never bind from outside. */
function bindsLocally(symbol: ElfSymbol): boolean {
  return symbol.visibility === STV_HIDDEN || symbol.visibility === STV_INTERNAL;
}

/**
 * Whether check_match() and the binding switch of do_lookup_x() can ever return this symbol.
 * Definitions that can never be returned are dropped, which keeps inventories small.
 */
function isFindableDefinition(symbol: ElfSymbol): boolean {
  if (symbol.index === 0 || symbol.name === '') return false;
  if (symbol.st_value === 0 && symbol.st_shndx !== SHN_ABS && symbol.type !== STT_TLS) return false;
  // TLS relocations are of the PLT class (elf_machine_type_class), which never binds to SHN_UNDEF.
  if (symbol.st_shndx === SHN_UNDEF && symbol.type === STT_TLS) return false;
  if (!ALLOWED_STT.has(symbol.type)) return false;
  if (bindsLocally(symbol)) return false;
  return symbol.binding === STB_GLOBAL || symbol.binding === STB_WEAK || symbol.binding === STB_GNU_UNIQUE;
}

/** Whether ld.so performs a scope lookup for a relocation naming this symbol (RESOLVE_MAP). */
function needsLookup(symbol: ElfSymbol): boolean {
  return symbol.binding !== STB_LOCAL && !bindsLocally(symbol) && symbol.name !== '';
}

/** The header facts open_verify() checks, from an ELF file whose header has been read. */
export function headerOf(elf: ElfFile): LoadableHeader {
  const h = elf.header;
  return {
    elfClass: h.e_ident.class,
    data: h.e_ident.data,
    identVersion: h.e_ident.version,
    osabi: h.e_ident.osabi,
    abiversion: h.e_ident.abiversion,
    paddingNonZero: h.e_ident.paddingNonZero,
    e_version: h.e_version,
    e_type: h.e_type,
    e_machine: h.e_machine,
    e_phentsize: h.e_phentsize,
    // A PT_DYNAMIC with nothing in the file (debuginfo files of objcopy --only-keep-debug) counts
    // as none: ld.so refuses such an object (docs/loader-model.md, "A file on its own").
    hasDynamic: elf.programHeaders.some((ph) => ph.p_type === PT_DYNAMIC && ph.p_filesz > 0),
  };
}

function definitionOf(symbol: ElfSymbol): SymbolDefinition {
  return {
    name: symbol.name,
    versionIndex: symbol.versionIndex,
    versionHidden: symbol.versionHidden,
    undefinedWithValue: symbol.st_shndx === SHN_UNDEF,
  };
}

/**
 * The definitions of one name in an object read from a file with a hash table, found as ld.so
 * finds them (through DT_GNU_HASH or DT_HASH) without decoding the object's other symbols. Kept
 * beside the objects, not in them, so a LoadableObject stays plain data. Objects read from an
 * inventory have none: their `definitions` are searched instead.
 */
export const definitionLookups = new WeakMap<LoadableObject, (name: string) => readonly SymbolDefinition[]>();

function interpreterRefusalOf(elf: ElfFile): { interpreterRefusal?: string } {
  const refusal = elf.interpreterRefusal();
  return refusal === null ? {} : { interpreterRefusal: refusal };
}

/** Reduces a parsed ELF file to what the loader emulation needs. */
export function describeElf(elf: ElfFile): LoadableObject {
  const dynamic = elf.dynamic();
  const loadableHeader = headerOf(elf);
  if (dynamic === null) {
    return {
      header: loadableHeader,
      interpreter: elf.interpreter(),
      ...interpreterRefusalOf(elf),
      needed: [],
      soname: null,
      rpath: null,
      runpath: null,
      flags: 0,
      flags1: 0,
      abiTag: elf.abiTag(),
      x86IsaNeeded: elf.x86IsaNeeded(),
      loadSegments: loadSegmentsOf(elf),
      tls: tlsSegmentOf(elf),
      versionDefinitions: [],
      versionNeeds: [],
      versions: [],
      hasVersym: false,
      hasSymbolHash: false,
      definitions: [],
      requirements: [],
    };
  }

  const versionDefinitions: VersionDefinitionEntry[] = elf.versionDefinitions().map((vd) => ({
    name: vd.names[0] ?? '',
    hash: vd.vd_hash,
    base: (vd.vd_flags & VER_FLG_BASE) !== 0,
    index: vd.vd_ndx & 0x7fff,
  }));
  const versionNeeds: VersionNeedEntry[] = elf.versionNeeds().map((vn) => ({
    file: vn.vn_file,
    versions: vn.aux.map((aux) => ({
      name: aux.vna_name,
      hash: aux.vna_hash,
      weak: (aux.vna_flags & VER_FLG_WEAK) !== 0,
      index: aux.vna_other & 0x7fff,
    })),
  }));

  // l_versions[]: needs first, then non-BASE definitions override, exactly in that order.
  const versionsByIndex = new Map<number, IndexedVersion>();
  for (const vn of elf.versionNeeds()) {
    for (const aux of vn.aux) {
      const index = aux.vna_other & 0x7fff;
      versionsByIndex.set(index, {
        index,
        name: aux.vna_name,
        hash: aux.vna_hash,
        hidden: (aux.vna_other & 0x8000) !== 0,
      });
    }
  }
  for (const vd of versionDefinitions) {
    if (!vd.base) versionsByIndex.set(vd.index, { index: vd.index, name: vd.name, hash: vd.hash, hidden: false });
  }

  const table = elf.dynamicSymbolTable();
  // A table that fails to decode fails here, as decoding it whole did, though only the symbols
  // named below are decoded now.
  table.validate();

  const requirements: SymbolRequirement[] = [];
  for (const reference of elf.symbolReferences()) {
    if (reference.symbolIndex >= table.count) continue;
    const symbol = table.symbol(reference.symbolIndex);
    if (!needsLookup(symbol)) continue;
    requirements.push({
      name: symbol.name,
      versionIndex: symbol.versionIndex,
      weak: symbol.binding === STB_WEAK,
      pltOnly: reference.pltOnly,
      selfDefined: symbol.st_shndx !== SHN_UNDEF && isFindableDefinition(symbol),
    });
  }

  let definitions: SymbolDefinition[] | undefined;
  const object: LoadableObject = {
    header: loadableHeader,
    interpreter: elf.interpreter(),
    ...interpreterRefusalOf(elf),
    needed: dynamic.needed,
    soname: dynamic.soname,
    rpath: dynamic.rpath,
    runpath: dynamic.runpath,
    flags: dynamic.flags,
    flags1: dynamic.flags1,
    abiTag: elf.abiTag(),
    x86IsaNeeded: elf.x86IsaNeeded(),
    loadSegments: loadSegmentsOf(elf),
    tls: tlsSegmentOf(elf),
    versionDefinitions,
    versionNeeds,
    versions: [...versionsByIndex.values()].sort((a, b) => a.index - b.index),
    hasVersym: table.hasVersym,
    hasSymbolHash: table.count > 1,
    // Decoded on first use (an inventory stores them all); symbol binding looks names up instead.
    get definitions(): readonly SymbolDefinition[] {
      return (definitions ??= table.all().filter(isFindableDefinition).map(definitionOf));
    },
    requirements,
  };
  if (table.hashed)
    definitionLookups.set(object, (name) => table.named(name).filter(isFindableDefinition).map(definitionOf));
  return object;
}

/**
 * The object's definitions (describeElf's `definitions`, in symbol order), each marked with
 * whether a lookup of its name through the file's hash table reaches it, as the object's own
 * lookups do: a symbol in the table but not in its hash chain is listed and never found by name.
 * What the parse cache stores (definition-index.ts).
 */
export function indexedDefinitionsOf(elf: ElfFile): IndexedDefinition[] {
  if (elf.dynamic() === null) return [];
  const table = elf.dynamicSymbolTable();
  return table
    .all()
    .filter(isFindableDefinition)
    .map((symbol) => ({ definition: definitionOf(symbol), reachable: table.reachesByName(symbol) }));
}
