// Symbol versioning: Elf_Verdef/Elf_Verdaux (DT_VERDEF) and Elf_Verneed/Elf_Vernaux
// (DT_VERNEED), the GNU extension ld.so checks in _dl_check_map_versions.
//
// The records form linked lists of byte offsets relative to the current record (vd_next,
// vd_aux, vda_next, vn_next, vn_aux, vna_next), 0 ending a list. glibc follows vd_next/vn_next
// until 0; we also stop after DT_VERDEFNUM/DT_VERNEEDNUM records and vd_cnt/vn_cnt aux entries,
// so a corrupt link can never make the walk run on. In ELF32 the addresses wrap at 2^32 as they
// would in a 32-bit process, which is the one way a chain can point backwards and loop: every
// address visited by one chain is remembered and a revisit raises 'cycle'. Chains may share
// records (GNU ld points two Elf_Verdef with the same name at one Elf_Verdaux), so each aux
// chain has its own memory.

import {
  DT_VERDEF,
  DT_VERDEFNUM,
  DT_VERNEED,
  DT_VERNEEDNUM,
  VERDAUX_SIZE,
  VERDEF_SIZE,
  VERNAUX_SIZE,
  VERNEED_SIZE,
} from './constants.js';
import { ElfFormatError } from './errors.js';
import { ChunkReader } from './source.js';
import type { DynamicContext } from './symbols.js';
import type { VersionDefinition, VersionNeed, VersionNeedAux } from './types.js';

/** Walk state shared by one table: the reader and a record budget. */
class Walk {
  private readonly reader: ChunkReader;
  /**
   * However the links are corrupted, a walk never decodes more records than could fit in the
   * file without overlapping: bounds time and memory on hostile input.
   */
  private budget: number;

  constructor(private readonly ctx: DynamicContext) {
    this.reader = new ChunkReader(ctx.source, ctx.source.size);
    this.budget = Math.floor(ctx.source.size / VERDAUX_SIZE) + 1;
  }

  /** addr + rel in the file's address space (mod 2^32 for ELF32). */
  next(addr: number, rel: number): number {
    return this.ctx.d.is64 ? addr + rel : (addr + rel) >>> 0;
  }

  /** Maps and fetches the record at `addr`; `field` is the link that led there, `seen` its chain's memory. */
  record(addr: number, size: number, field: string, seen: Set<number>): DataView {
    if (seen.has(addr)) {
      throw new ElfFormatError(this.ctx.source.name, field, 'cycle', `link leads back to 0x${addr.toString(16)}`);
    }
    seen.add(addr);
    if (--this.budget < 0) {
      throw new ElfFormatError(this.ctx.source.name, field, 'malformed', 'more version records than the file can hold');
    }
    const m = this.ctx.map.map(addr, size, field);
    const { buf, pos } = this.reader.at(m.offset, size, field);
    return new DataView(buf.buffer, buf.byteOffset + pos, size);
  }
}

/** DT_VERDEFNUM / DT_VERNEEDNUM when present; otherwise no bound beyond the 0 link. */
function countBound(ctx: DynamicContext, tag: number): number {
  return ctx.tags.get(tag) ?? Number.POSITIVE_INFINITY;
}

export function parseVersionDefinitions(ctx: DynamicContext): VersionDefinition[] {
  const start = ctx.tags.get(DT_VERDEF);
  if (start === undefined) return [];
  const { d } = ctx;
  const strings = ctx.strings();
  const walk = new Walk(ctx);
  const max = countBound(ctx, DT_VERDEFNUM);
  const out: VersionDefinition[] = [];
  const seen = new Set<number>();
  let addr = start;
  let link = 'DT_VERDEF';
  for (let i = 0; i < max; i++) {
    const v = walk.record(addr, VERDEF_SIZE, link, seen);
    const vd_cnt = d.u16(v, 6);
    const vd_aux = d.u32(v, 12);
    const vd_next = d.u32(v, 16);
    const names: string[] = [];
    let auxAddr = walk.next(addr, vd_aux);
    let auxLink = 'vd_aux';
    const auxSeen = new Set<number>();
    for (let j = 0; j < vd_cnt; j++) {
      const a = walk.record(auxAddr, VERDAUX_SIZE, auxLink, auxSeen);
      names.push(strings.get(d.u32(a, 0), 'vda_name'));
      const vda_next = d.u32(a, 4);
      if (vda_next === 0) break;
      auxAddr = walk.next(auxAddr, vda_next);
      auxLink = 'vda_next';
    }
    out.push({
      vd_version: d.u16(v, 0),
      vd_flags: d.u16(v, 2),
      vd_ndx: d.u16(v, 4),
      vd_cnt,
      vd_hash: d.u32(v, 8),
      names,
    });
    if (vd_next === 0) break;
    addr = walk.next(addr, vd_next);
    link = 'vd_next';
  }
  return out;
}

export function parseVersionNeeds(ctx: DynamicContext): VersionNeed[] {
  const start = ctx.tags.get(DT_VERNEED);
  if (start === undefined) return [];
  const { d } = ctx;
  const strings = ctx.strings();
  const walk = new Walk(ctx);
  const max = countBound(ctx, DT_VERNEEDNUM);
  const out: VersionNeed[] = [];
  const seen = new Set<number>();
  let addr = start;
  let link = 'DT_VERNEED';
  for (let i = 0; i < max; i++) {
    const v = walk.record(addr, VERNEED_SIZE, link, seen);
    const vn_cnt = d.u16(v, 2);
    const vn_aux = d.u32(v, 8);
    const vn_next = d.u32(v, 12);
    const aux: VersionNeedAux[] = [];
    let auxAddr = walk.next(addr, vn_aux);
    let auxLink = 'vn_aux';
    const auxSeen = new Set<number>();
    for (let j = 0; j < vn_cnt; j++) {
      const a = walk.record(auxAddr, VERNAUX_SIZE, auxLink, auxSeen);
      aux.push({
        vna_hash: d.u32(a, 0),
        vna_flags: d.u16(a, 4),
        vna_other: d.u16(a, 6),
        vna_name: strings.get(d.u32(a, 8), 'vna_name'),
      });
      const vna_next = d.u32(a, 12);
      if (vna_next === 0) break;
      auxAddr = walk.next(auxAddr, vna_next);
      auxLink = 'vna_next';
    }
    out.push({ vn_version: d.u16(v, 0), vn_file: strings.get(d.u32(v, 4), 'vn_file'), aux });
    if (vn_next === 0) break;
    addr = walk.next(addr, vn_next);
    link = 'vn_next';
  }
  return out;
}
