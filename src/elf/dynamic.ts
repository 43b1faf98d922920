// The dynamic section, found through PT_DYNAMIC as ld.so finds it (section headers may be gone),
// and the dynamic string table it points to.

import type { AddressMap } from './address-map.js';
import {
  DT_FLAGS,
  DT_FLAGS_1,
  DT_NEEDED,
  DT_NULL,
  DT_RPATH,
  DT_RUNPATH,
  DT_SONAME,
  DT_STRSZ,
  DT_STRTAB,
  ELF32_DYN_SIZE,
  ELF64_DYN_SIZE,
  PT_DYNAMIC,
} from './constants.js';
import type { Decoder } from './decoder.js';
import { ElfFormatError } from './errors.js';
import type { ByteSource } from './source.js';
import { StringTable } from './strings.js';
import type { DynamicEntry, DynamicInfo, ProgramHeader } from './types.js';

export interface DynamicTable {
  /** Entries up to, not including, DT_NULL. */
  readonly entries: readonly DynamicEntry[];
  /**
   * d_val by tag. When a tag repeats, the last one wins, as in glibc's elf_get_dynamic_info
   * (which stores each tag into l_info[tag] in order).
   */
  readonly tags: ReadonlyMap<number, number>;
}

export function parseDynamicTable(
  source: ByteSource,
  d: Decoder,
  phdrs: readonly ProgramHeader[],
): DynamicTable | null {
  const p = phdrs.find((ph) => ph.p_type === PT_DYNAMIC);
  // A PT_DYNAMIC with no bytes in the file (debuginfo files) holds no table; ld.so refuses such
  // an object (src/loader/loadable.ts, hasDynamic).
  if (p === undefined || p.p_filesz === 0) return null;
  const entsize = d.is64 ? ELF64_DYN_SIZE : ELF32_DYN_SIZE;
  const buf = source.read(p.p_offset, p.p_filesz, 'PT_DYNAMIC');
  const dv = d.view(buf);
  const count = Math.floor(p.p_filesz / entsize);
  const entries: DynamicEntry[] = [];
  const tags = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const o = i * entsize;
    const d_tag = d.sword(dv, o, 'd_tag');
    if (d_tag === DT_NULL) break;
    const d_val = d.word(dv, o + d.wordSize, 'd_val');
    entries.push({ d_tag, d_val });
    tags.set(d_tag, d_val);
  }
  return { entries, tags };
}

/**
 * The table DT_STRTAB points to, bounded by DT_STRSZ. Without DT_STRSZ (ld.so does not need
 * it) the table is taken to run to the end of its segment's file part.
 */
export function readDynamicStrings(
  source: ByteSource,
  map: AddressMap,
  tags: ReadonlyMap<number, number>,
): StringTable {
  const addr = tags.get(DT_STRTAB);
  if (addr === undefined) {
    throw new ElfFormatError(source.name, 'DT_STRTAB', 'malformed', 'the dynamic section has no DT_STRTAB');
  }
  const strsz = tags.get(DT_STRSZ);
  const m = map.map(addr, strsz ?? 0, 'DT_STRTAB', 'DT_STRSZ');
  const size = strsz ?? Math.min(m.end, source.size) - m.offset;
  return new StringTable(source.name, '.dynstr', source.read(m.offset, size, 'DT_STRTAB'));
}

export function buildDynamicInfo(table: DynamicTable, strings: () => StringTable): DynamicInfo {
  const needed: string[] = [];
  let soname: string | null = null;
  let rpath: string | null = null;
  let runpath: string | null = null;
  let flags = 0;
  let flags1 = 0;
  for (const e of table.entries) {
    switch (e.d_tag) {
      case DT_NEEDED:
        needed.push(strings().get(e.d_val, 'DT_NEEDED'));
        break;
      case DT_SONAME:
        soname = strings().get(e.d_val, 'DT_SONAME');
        break;
      case DT_RPATH:
        rpath = strings().get(e.d_val, 'DT_RPATH');
        break;
      case DT_RUNPATH:
        runpath = strings().get(e.d_val, 'DT_RUNPATH');
        break;
      case DT_FLAGS:
        flags = e.d_val;
        break;
      case DT_FLAGS_1:
        flags1 = e.d_val;
        break;
      default:
        break;
    }
  }
  return { entries: table.entries, needed, soname, rpath, runpath, flags, flags1 };
}
