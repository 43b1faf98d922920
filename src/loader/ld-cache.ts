// docs/loader.md section 4.
// /etc/ld.so.cache: the parser and the lookup that glibc's ld.so performs on it.
//
// Mirrors glibc: the layouts are `struct cache_file`, `struct cache_file_new` and the extension
// directory of sysdeps/generic/dl-cache.h; the lookup is `search_cache` / `_dl_load_cache_lookup`
// in elf/dl-cache.c, with `_dl_cache_libcmp` as the ordering. Only little-endian caches are
// accepted (pyrelo targets x86 and aarch64), exactly like `cache_file_new_matches_endian` there.

import { EM_386, EM_AARCH64, EM_X86_64 } from '../elf/constants.js';
import { UserInputError } from '../common/user-input-error.js';

/** One cache record. For the old format osVersion is 0 and hwcap 0n (the record has neither). */
export interface LdCacheEntry {
  /** file_entry.flags: low byte the type (FLAG_ELF_LIBC6 = 3), high byte the arch (0x0300 x86-64). */
  flags: number;
  /** The soname the cache is searched by. */
  key: string;
  /** The path the loader opens. */
  value: string;
  /** file_entry_new.osversion (unused by ldconfig since 2.33; checked by ld.so before 2.36). */
  osVersion: number;
  /** file_entry_new.hwcap: 0, a legacy hwcap/platform mask, or a glibc-hwcaps reference (bit 62). */
  hwcap: bigint;
}

export interface LdCache {
  /**
   * 'old' = ld.so-1.7.0 only; 'compat' = old + new appended (entries are the new part's, as ld.so
   * uses); 'new' = glibc-ld.so.cache1.1 only.
   */
  format: 'old' | 'compat' | 'new';
  entries: readonly LdCacheEntry[];
  /** The cache_extension_tag_glibc_hwcaps array, resolved, in file order (ldconfig sorts it by strcmp). */
  hwcapsSubdirs: readonly string[];
  /** The cache_extension_tag_generator string, e.g. "ldconfig (Debian GLIBC 2.36-9) stable release version 2.36". */
  generator: string | null;
}

export class LdCacheFormatError extends UserInputError {
  readonly file: string;
  readonly field: string;
  constructor(file: string, field: string, detail: string) {
    super(file, detail, `${file}: ${field}: ${detail}`);
    this.name = 'LdCacheFormatError';
    this.file = file;
    this.field = field;
  }
}

// Magic strings and sizes from sysdeps/generic/dl-cache.h.
const CACHEMAGIC = 'ld.so-1.7.0';
const CACHEMAGIC_VERSION_NEW = 'glibc-ld.so.cache1.1';
/** sizeof (struct cache_file): 11 magic bytes, 1 pad, u32 nlibs. */
const CACHE_FILE_SIZE = 16;
/** sizeof (struct file_entry). */
const FILE_ENTRY_SIZE = 12;
/** sizeof (struct cache_file_new). */
const CACHE_FILE_NEW_SIZE = 48;
/** sizeof (struct file_entry_new). */
const FILE_ENTRY_NEW_SIZE = 24;
/** ALIGN_CACHE: __alignof__ (struct cache_file_new) is 8 on 64-bit hosts. */
const CACHE_ALIGN = 8;
/** cache_extension_magic = (uint32_t) -358342284. */
const CACHE_EXTENSION_MAGIC = 0xeaa42174;
const CACHE_EXTENSION_TAG_GENERATOR = 0;
const CACHE_EXTENSION_TAG_GLIBC_HWCAPS = 1;
/** cache_file_new_flags_endian_little; the value ld.so expects on x86 and aarch64. */
const ENDIAN_LITTLE = 2;

/** DL_CACHE_HWCAP_EXTENSION. */
const DL_CACHE_HWCAP_EXTENSION = 1n << 62n;
/** DL_CACHE_HWCAP_ISA_LEVEL_MASK: bits 32..41 of hwcap hold the x86 ISA level index. */
const DL_CACHE_HWCAP_ISA_LEVEL_MASK = 0x3ffn;
/** _DL_HWCAP_TLS_MASK: the legacy "tls" subdirectory bit, always acceptable. */
const DL_HWCAP_TLS_MASK = 1n << 63n;

/** FLAG_ELF_LIBC6 and the arch values of sysdeps/generic/ldconfig.h that pyrelo handles. */
const FLAG_ELF = 0x0001;
const FLAG_ELF_LIBC6 = 0x0003;
const FLAG_X8664_LIB64 = 0x0300;
const FLAG_X8664_LIBX32 = 0x0800;
const FLAG_AARCH64_LIB64 = 0x0a00;
const FLAG_REQUIRED_MASK = 0xff00;

/**
 * Legacy platform names of sysdeps/x86/dl-procinfo.c (_dl_x86_platforms), whose bits start at
 * _DL_FIRST_PLATFORM = 48. aarch64 has no platform bits (_DL_PLATFORMS_COUNT 0).
 */
const X86_PLATFORMS = ['i586', 'i686', 'haswell', 'xeon_phi'];
const X86_FIRST_PLATFORM = 48n;

/**
 * From which glibc release search_cache skips every non-glibc-hwcaps entry whose hwcap is non-zero
 * ("Skip entries with the legacy hwcap/platform mechanism which was removed with glibc 2.37").
 * glibc 2.37 and 2.38 sources still filter legacy entries with hwcap_exclude; the unconditional
 * skip is in current glibc. The exact release is not pinned down by the sources we could read:
 * 2.40 is our best reading, and it only matters for caches that still hold legacy entries.
 */
const LEGACY_HWCAP_SKIP_SINCE: [number, number] = [2, 40];

// ---------------------------------------------------------------------------------------------
// Parsing

/** Key bytes of parsed caches, so that lookups compare exactly the bytes ld.so compares. */
const keyBytesOf = new WeakMap<LdCache, readonly Uint8Array[]>();
const hwcapsBytesOf = new WeakMap<LdCache, readonly Uint8Array[]>();

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get size(): number {
    return this.bytes.length;
  }
  fail(field: string, detail: string): never {
    throw new LdCacheFormatError(this.file, field, detail);
  }
  need(offset: number, length: number, field: string): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      this.fail(field, `${length} bytes at offset ${offset} exceed the file size ${this.size}`);
    }
  }
  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.view.getUint32(offset, true);
  }
  i32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.view.getInt32(offset, true);
  }
  u64(offset: number, field: string): bigint {
    this.need(offset, 8, field);
    return this.view.getBigUint64(offset, true);
  }
  magicAt(offset: number, magic: string): boolean {
    if (offset + magic.length > this.size) return false;
    for (let i = 0; i < magic.length; i++) {
      if (this.bytes[offset + i] !== magic.charCodeAt(i)) return false;
    }
    return true;
  }
  /** A NUL-terminated string starting at absolute offset `at`; the NUL must lie inside the file. */
  cString(at: number, field: string): Uint8Array {
    if (at >= this.size) this.fail(field, `string offset ${at} is outside the file (size ${this.size})`);
    const end = this.bytes.indexOf(0, at);
    if (end < 0) this.fail(field, `string at offset ${at} is not NUL-terminated`);
    return this.bytes.subarray(at, end);
  }
}

function alignCache(n: number): number {
  return Math.ceil(n / CACHE_ALIGN) * CACHE_ALIGN;
}

/**
 * Parses an ld.so.cache image. Format detection follows `_dl_maybe_load_ldsocache` /
 * `_dl_load_cache_lookup`: the new magic first, then the old magic with a new header at the
 * ALIGN_CACHE'd end of the old entries (compat), else the old format alone. Where ld.so would
 * silently ignore the file (bad magic, counts past the end, wrong endianness) this throws, so the
 * caller can treat the host as having no usable cache.
 */
export function parseLdCache(bytes: Uint8Array, file: string): LdCache {
  const r = new Reader(bytes, file);

  if (r.size > CACHE_FILE_NEW_SIZE && r.magicAt(0, CACHEMAGIC_VERSION_NEW)) {
    return parseNew(r, 0, 'new');
  }
  if (r.size > CACHE_FILE_SIZE && r.magicAt(0, CACHEMAGIC)) {
    const nlibs = r.u32(12, 'nlibs');
    // "Check for corruption, avoiding overflow."
    if (Math.floor((r.size - CACHE_FILE_SIZE) / FILE_ENTRY_SIZE) < nlibs) {
      r.fail('nlibs', `${nlibs} entries of ${FILE_ENTRY_SIZE} bytes do not fit in ${r.size} bytes`);
    }
    const newOffset = alignCache(CACHE_FILE_SIZE + nlibs * FILE_ENTRY_SIZE);
    if (r.size >= newOffset + CACHE_FILE_NEW_SIZE && r.magicAt(newOffset, CACHEMAGIC_VERSION_NEW)) {
      return parseNew(r, newOffset, 'compat');
    }
    return parseOld(r, nlibs);
  }
  if (r.size <= CACHE_FILE_SIZE) r.fail('magic', `file too short (${r.size} bytes)`);
  return r.fail('magic', `neither "${CACHEMAGIC}" nor "${CACHEMAGIC_VERSION_NEW}"`);
}

function parseOld(r: Reader, nlibs: number): LdCache {
  // String indices of the old format are relative to the end of the entry array.
  const stringsStart = CACHE_FILE_SIZE + nlibs * FILE_ENTRY_SIZE;
  const entries: LdCacheEntry[] = [];
  const keys: Uint8Array[] = [];
  for (let i = 0; i < nlibs; i++) {
    const at = CACHE_FILE_SIZE + i * FILE_ENTRY_SIZE;
    const flags = r.i32(at, `libs[${i}].flags`);
    const key = r.cString(stringsStart + r.u32(at + 4, `libs[${i}].key`), `libs[${i}].key`);
    const value = r.cString(stringsStart + r.u32(at + 8, `libs[${i}].value`), `libs[${i}].value`);
    keys.push(key);
    entries.push({ flags, key: utf8.decode(key), value: utf8.decode(value), osVersion: 0, hwcap: 0n });
  }
  const cache: LdCache = { format: 'old', entries, hwcapsSubdirs: [], generator: null };
  keyBytesOf.set(cache, keys);
  hwcapsBytesOf.set(cache, []);
  return cache;
}

function parseNew(r: Reader, base: number, format: 'new' | 'compat'): LdCache {
  const nlibs = r.u32(base + 20, 'new.nlibs');
  if (Math.floor((r.size - base - CACHE_FILE_NEW_SIZE) / FILE_ENTRY_NEW_SIZE) < nlibs) {
    r.fail('new.nlibs', `${nlibs} entries of ${FILE_ENTRY_NEW_SIZE} bytes do not fit in ${r.size} bytes`);
  }
  const endian = r.bytes[base + 28] ?? 0;
  // cache_file_new_matches_endian: 0 means "unknown" and is accepted.
  if (endian !== 0 && (endian & 3) !== ENDIAN_LITTLE) {
    r.fail('new.flags', `endianness ${endian & 3} is not little-endian (2); ld.so ignores this cache`);
  }

  // String indices of the new format are relative to the new header (the file start when the
  // new format stands alone).
  const entries: LdCacheEntry[] = [];
  const keys: Uint8Array[] = [];
  for (let i = 0; i < nlibs; i++) {
    const at = base + CACHE_FILE_NEW_SIZE + i * FILE_ENTRY_NEW_SIZE;
    const f = `new.libs[${i}]`;
    const flags = r.i32(at, `${f}.flags`);
    const key = r.cString(base + r.u32(at + 4, `${f}.key`), `${f}.key`);
    const value = r.cString(base + r.u32(at + 8, `${f}.value`), `${f}.value`);
    const osVersion = r.u32(at + 12, `${f}.osversion`);
    const hwcap = r.u64(at + 16, `${f}.hwcap`);
    keys.push(key);
    entries.push({ flags, key: utf8.decode(key), value: utf8.decode(value), osVersion, hwcap });
  }

  const ext = parseExtensions(r, base);
  const cache: LdCache = {
    format,
    entries,
    hwcapsSubdirs: ext.hwcaps.map((b) => utf8.decode(b)),
    generator: ext.generator,
  };
  keyBytesOf.set(cache, keys);
  hwcapsBytesOf.set(cache, ext.hwcaps);
  return cache;
}

/** cache_extension_load + cache_extension_verify. Section offsets are file offsets. */
function parseExtensions(r: Reader, base: number): { generator: string | null; hwcaps: Uint8Array[] } {
  const extOffset = r.u32(base + 32, 'new.extension_offset');
  const none = { generator: null, hwcaps: [] };
  if (extOffset === 0) return none;
  if (extOffset % 4 !== 0) r.fail('new.extension_offset', `${extOffset} is not a multiple of 4`);
  const magic = r.u32(extOffset, 'extension.magic');
  if (magic !== CACHE_EXTENSION_MAGIC) {
    r.fail('extension.magic', `0x${magic.toString(16)} is not 0x${CACHE_EXTENSION_MAGIC.toString(16)}`);
  }
  const count = r.u32(extOffset + 4, 'extension.count');
  r.need(extOffset + 8, count * 16, 'extension.count');

  // Later sections with the same tag replace earlier ones, as in cache_extension_load.
  const sections = new Map<number, { offset: number; size: number }>();
  for (let i = 0; i < count; i++) {
    const at = extOffset + 8 + i * 16;
    const tag = r.u32(at, `extension.sections[${i}].tag`);
    const offset = r.u32(at + 8, `extension.sections[${i}].offset`);
    const size = r.u32(at + 12, `extension.sections[${i}].size`);
    r.need(offset, size, `extension.sections[${i}]`);
    if (tag === CACHE_EXTENSION_TAG_GENERATOR || tag === CACHE_EXTENSION_TAG_GLIBC_HWCAPS) {
      sections.set(tag, { offset, size });
    }
  }

  let generator: string | null = null;
  const gen = sections.get(CACHE_EXTENSION_TAG_GENERATOR);
  if (gen) generator = utf8.decode(r.bytes.subarray(gen.offset, gen.offset + gen.size));

  const hwcaps: Uint8Array[] = [];
  const hw = sections.get(CACHE_EXTENSION_TAG_GLIBC_HWCAPS);
  // cache_extension_verify drops (does not reject) an empty, misaligned or ragged hwcaps section.
  if (hw && hw.size > 0 && hw.offset % 4 === 0 && hw.size % 4 === 0) {
    for (let i = 0; i < hw.size / 4; i++) {
      const field = `extension.glibc_hwcaps[${i}]`;
      // ld.so (glibc_hwcaps_compare) and `ldconfig -p` (glibc_hwcaps_string) both resolve these
      // indices against the start of the file, whatever the layout.
      hwcaps.push(r.cString(r.u32(hw.offset + i * 4, field), field));
    }
  }
  return { generator, hwcaps };
}

// ---------------------------------------------------------------------------------------------
// Ordering

/**
 * glibc's `_dl_cache_libcmp`: byte comparison, except that runs of digits compare as numbers
 * (so "libfoo.so.10" > "libfoo.so.9" and "libfoo.so.01" == "libfoo.so.1"). Arithmetic is C `int`
 * (wrapping) and `char` is signed on x86 and unsigned on aarch64.
 */
function libcmp(p1: Uint8Array, p2: Uint8Array, signedChar: boolean): number {
  const ch = (s: Uint8Array, i: number): number => {
    const c = s[i] ?? 0;
    return signedChar && c >= 0x80 ? c - 0x100 : c;
  };
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  let i = 0;
  let j = 0;
  while (ch(p1, i) !== 0) {
    const c1 = ch(p1, i);
    const c2 = ch(p2, j);
    if (isDigit(c1)) {
      if (!isDigit(c2)) return 1;
      let val1 = c1 - 0x30;
      let val2 = c2 - 0x30;
      i++;
      j++;
      while (isDigit(ch(p1, i))) val1 = (Math.imul(val1, 10) + ch(p1, i++) - 0x30) | 0;
      while (isDigit(ch(p2, j))) val2 = (Math.imul(val2, 10) + ch(p2, j++) - 0x30) | 0;
      if (val1 !== val2) return (val1 - val2) | 0;
    } else if (isDigit(c2)) {
      return -1;
    } else if (c1 !== c2) {
      return c1 - c2;
    } else {
      i++;
      j++;
    }
  }
  return ch(p1, i) - ch(p2, j);
}

/** `_dl_cache_libcmp` on the UTF-8 bytes of two names (x86 signed-char semantics). */
export function compareCacheKeys(a: string, b: string): number {
  return libcmp(utf8Encoder.encode(a), utf8Encoder.encode(b), true);
}

// ---------------------------------------------------------------------------------------------
// Lookup

export interface CacheLookupContext {
  /** _DL_CACHE_DEFAULT_ID of the loader: 0x0303 x86_64, 0x0803 x32, 0x0a03 aarch64, 0x0003 i386. */
  expectedFlags: number;
  /** Active glibc-hwcaps subdirectories, best first (e.g. ['x86-64-v4','x86-64-v3','x86-64-v2']). */
  activeHwcapsSubdirs: readonly string[];
  /** The CPU's x86 ISA level, 1 (baseline) .. 4 (x86-64-v4); checked against hwcap bits 32-41. */
  isaLevel: number;
  /** The glibc release of the loader; the selection rules changed in 2.33, 2.36 and later. */
  glibcVersion: [number, number];
  /**
   * Legacy hwcap state, only consulted for entries with a non-zero, non-glibc-hwcaps hwcap in
   * loaders that still honour them: GLRO(dl_hwcap) & hwcap_mask and GLRO(dl_platform).
   * Default: x86-64 → { dlHwcap: HWCAP_X86_64 (2n), platform: 'x86_64' }; others { 0n, '' }.
   */
  legacy?: { dlHwcap: bigint; platform: string };
  /**
   * Running kernel as ld.so's dl_osversion ((major<<16)|(minor<<8)|patch); before 2.36 entries
   * needing a newer one are skipped.
   */
  kernelVersion?: number;
}

function versionAtLeast(v: [number, number], min: [number, number]): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

function isX86Flags(flags: number): boolean {
  const arch = flags & FLAG_REQUIRED_MASK;
  return arch === FLAG_X8664_LIB64 || arch === FLAG_X8664_LIBX32 || arch === 0;
}

/**
 * `_dl_cache_check_flags`: x86-64, x32 and aarch64 accept exactly their _DL_CACHE_DEFAULT_ID;
 * the generic definition (i386) also accepts plain FLAG_ELF (1).
 */
function cacheCheckFlags(flags: number, expected: number): boolean {
  if ((expected & FLAG_REQUIRED_MASK) === 0) return flags === FLAG_ELF || flags === expected;
  return flags === expected;
}

/** dl_cache_hwcap_extension: only bit 62 set in the upper half, ignoring the ISA level bits. */
function isHwcapExtension(hwcap: bigint): boolean {
  return ((hwcap >> 32n) & ~DL_CACHE_HWCAP_ISA_LEVEL_MASK & 0xffffffffn) === DL_CACHE_HWCAP_EXTENSION >> 32n;
}

/**
 * dl_cache_hwcap_isa_level_compatible (sysdeps/x86/dl-isa-level.h): `1 << level` must be in
 * cpu_features->isa_1, whose bits are baseline, v2, v3, v4. The shift is a C `unsigned int` shift,
 * which x86 performs modulo 32; other architectures have no ISA check.
 */
function isaLevelCompatible(hwcap: bigint, isaLevel: number, x86: boolean): boolean {
  if (!x86) return true;
  const level = Number((hwcap >> 32n) & DL_CACHE_HWCAP_ISA_LEVEL_MASK);
  const bit = (1 << (level & 31)) >>> 0;
  const isa1 = isaLevel >= 1 ? ((1 << Math.min(isaLevel, 31)) - 1) >>> 0 : 0;
  return (bit & isa1) >>> 0 === bit;
}

/**
 * glibc_hwcaps_priorities_init: merge the cache's (sorted) subdirectory names with the loader's
 * _dl_hwcaps_priorities (sorted by name) to give each cache index a priority, 0 = unusable,
 * lower = better. Done as a literal merge, so an unsorted cache behaves as it does in ld.so.
 */
function hwcapsPriorities(cacheNames: readonly Uint8Array[], active: readonly string[]): number[] {
  const right = active
    .map((name, i) => ({ name: utf8Encoder.encode(name), priority: i + 1 }))
    .sort((a, b) => compareHwcapsNames(a.name, b.name));
  const result: number[] = [];
  let l = 0;
  let rIdx = 0;
  while (l < cacheNames.length && rIdx < right.length) {
    const cmp = compareHwcapsNames(cacheNames[l]!, right[rIdx]!.name);
    if (cmp === 0) {
      result.push(right[rIdx]!.priority);
      l++;
      rIdx++;
    } else if (cmp < 0) {
      result.push(0);
      l++;
    } else {
      rIdx++;
    }
  }
  while (l++ < cacheNames.length) result.push(0);
  return result;
}

/** glibc_hwcaps_compare: memcmp over the shorter length, then the shorter name first. */
function compareHwcapsNames(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/**
 * What `_dl_load_cache_lookup (soname)` returns for this cache and loader: the path of the chosen
 * entry, or null. It does not check that the file exists or loads; ld.so does that afterwards.
 */
export function lookupLdCache(cache: LdCache, soname: string, ctx: CacheLookupContext): string | null {
  const keys = keyBytesOf.get(cache) ?? cache.entries.map((e) => utf8Encoder.encode(e.key));
  const hwcapsNames = hwcapsBytesOf.get(cache) ?? cache.hwcapsSubdirs.map((s) => utf8Encoder.encode(s));
  const expected = ctx.expectedFlags;
  const x86 = isX86Flags(expected);
  // char is signed on x86 and unsigned on aarch64.
  const signedChar = x86;
  const name = utf8Encoder.encode(soname);
  const entries = cache.entries;
  const isNewLayout = cache.format !== 'old';

  const v = ctx.glibcVersion;
  const hasNamedHwcaps = versionAtLeast(v, [2, 33]);
  const checksOsVersion = !versionAtLeast(v, [2, 36]);
  const skipsLegacy = versionAtLeast(v, LEGACY_HWCAP_SKIP_SINCE);

  // Legacy hwcap filter (search_cache before the unconditional skip):
  // hwcap_exclude = ~((dl_hwcap & hwcap_mask) | _DL_HWCAP_PLATFORM | _DL_HWCAP_TLS_MASK).
  const legacy =
    ctx.legacy ??
    (x86 && (expected & FLAG_REQUIRED_MASK) === FLAG_X8664_LIB64
      ? { dlHwcap: 2n, platform: 'x86_64' }
      : { dlHwcap: 0n, platform: '' });
  const platformMask = x86 ? ((1n << BigInt(X86_PLATFORMS.length)) - 1n) << X86_FIRST_PLATFORM : 0n;
  const platformIndex = x86 ? X86_PLATFORMS.indexOf(legacy.platform) : -1;
  // _dl_string_platform returns -1 for an unknown platform, and -1 is then used as the mask.
  const platformBit = platformIndex < 0 ? 0xffffffffffffffffn : 1n << (X86_FIRST_PLATFORM + BigInt(platformIndex));
  const hwcapExclude = ~(legacy.dlHwcap | platformMask | DL_HWCAP_TLS_MASK) & 0xffffffffffffffffn;
  const legacyHwcapRejected = (e: LdCacheEntry): boolean => {
    if (e.hwcap & hwcapExclude) return true;
    if (checksOsVersion && ctx.kernelVersion && e.osVersion > ctx.kernelVersion) return true;
    if (platformMask !== 0n && (e.hwcap & platformMask) !== 0n && (e.hwcap & platformMask) !== platformBit) {
      return true;
    }
    return false;
  };

  let priorities: number[] | null = null;
  const priorityOf = (index: number): number => {
    priorities ??= hwcapsPriorities(hwcapsNames, ctx.activeHwcapsSubdirs);
    return index < priorities.length ? priorities[index]! : 0;
  };

  let left = 0;
  let right = entries.length - 1;
  let best: string | null = null;
  let bestPriority = 0;

  while (left <= right) {
    let middle = Math.floor((left + right) / 2);
    const cmpres = libcmp(name, keys[middle]!, signedChar);
    if (cmpres === 0) {
      // LEFT now marks the last entry known to match; back up to the first equal key.
      left = middle;
      while (middle > 0 && libcmp(name, keys[middle - 1]!, signedChar) === 0) middle--;
      do {
        const lib = entries[middle]!;
        if (middle > left && libcmp(name, keys[middle]!, signedChar) !== 0) break;
        if (!cacheCheckFlags(lib.flags, expected)) continue;

        if (!hasNamedHwcaps) {
          // SEARCH_CACHE before 2.33: the first acceptable entry, unless a later one has the
          // exact cache id.
          if (best === null || lib.flags === expected) {
            if (isNewLayout && legacyHwcapRejected(lib)) continue;
            best = lib.value;
            if (lib.flags === expected) break;
          }
          continue;
        }

        let named = false;
        if (isNewLayout) {
          named = isHwcapExtension(lib.hwcap);
          if (named && !isaLevelCompatible(lib.hwcap, ctx.isaLevel, x86)) continue;
          // The glibc-hwcaps entries come first; once past them, keep the best one found.
          if (!named && best !== null) break;
          if (!named) {
            if (skipsLegacy ? lib.hwcap !== 0n : legacyHwcapRejected(lib)) continue;
          } else {
            const p = priorityOf(Number(lib.hwcap & 0xffffffffn));
            if (p === 0) continue;
            if (best === null || p < bestPriority) bestPriority = p;
            else continue;
          }
        }
        best = lib.value;
        if (!named && lib.flags === expected) break;
      } while (++middle <= right);
      break;
    }
    if (cmpres < 0) left = middle + 1;
    else right = middle - 1;
  }
  return best;
}

/**
 * The _DL_CACHE_DEFAULT_ID of the loader that would load an object of this machine and class
 * (FLAG_ELF_LIBC6 | arch flag from sysdeps/generic/ldconfig.h), or null for combinations whose id
 * depends on more than the machine (ARM float ABI, RISC-V, LoongArch) or that pyrelo does not model.
 */
export function cacheFlagsForMachine(e_machine: number, elfClass: 32 | 64): number | null {
  if (e_machine === EM_X86_64) return (elfClass === 64 ? FLAG_X8664_LIB64 : FLAG_X8664_LIBX32) | FLAG_ELF_LIBC6;
  if (e_machine === EM_AARCH64 && elfClass === 64) return FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6;
  // i386 uses the generic dl-cache.h: _DL_CACHE_DEFAULT_ID 3, no arch bits.
  if (e_machine === EM_386 && elfClass === 32) return FLAG_ELF_LIBC6;
  return null;
}
