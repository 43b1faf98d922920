// The dynamic relocations that name symbols: what ld.so will look up when it relocates the
// object. DT_RELA/DT_REL hold the eager ones, DT_JMPREL the PLT ones (DT_PLTREL says whether
// those are Rel or Rela). A symbol counts as pltOnly when every relocation naming it is a
// JUMP_SLOT, i.e. it is bound lazily and a missing definition only fails at first call
// (unless BIND_NOW). The tables may overlap (.rela.plt inside DT_RELASZ with some linkers);
// deciding by relocation type rather than by table keeps that harmless.

import {
  DT_JMPREL,
  DT_PLTREL,
  DT_PLTRELSZ,
  DT_REL,
  DT_RELA,
  DT_RELAENT,
  DT_RELASZ,
  DT_RELENT,
  DT_RELSZ,
  ELF32_REL_SIZE,
  ELF32_RELA_SIZE,
  ELF64_REL_SIZE,
  ELF64_RELA_SIZE,
  jumpSlotType,
} from './constants.js';
import { ElfFormatError } from './errors.js';
import type { DynamicContext } from './symbols.js';
import type { SymbolReference } from './types.js';

export function parseSymbolReferences(ctx: DynamicContext, symbolCount: () => number): SymbolReference[] {
  const { tags, d, source } = ctx;
  const jumpSlot = jumpSlotType(ctx.header.e_machine);
  /** symbol index -> true while only JUMP_SLOT relocations have named it. */
  const refs = new Map<number, boolean>();

  const scan = (
    addrTag: string,
    addr: number | undefined,
    size: number | undefined,
    sizeTag: string,
    entTag: string,
    ent: number | undefined,
    rela: boolean,
  ): void => {
    if (addr === undefined) return;
    if (size === undefined) {
      throw new ElfFormatError(source.name, sizeTag, 'malformed', `${addrTag} is present without ${sizeTag}`);
    }
    const expected = d.is64 ? (rela ? ELF64_RELA_SIZE : ELF64_REL_SIZE) : rela ? ELF32_RELA_SIZE : ELF32_REL_SIZE;
    // One decoder layout per class; another entry size would misread every relocation.
    if (ent !== undefined && ent !== expected) {
      throw new ElfFormatError(source.name, entTag, 'malformed', `${ent}, expected ${expected}`);
    }
    if (size === 0) return;
    const m = ctx.map.map(addr, size, addrTag);
    const dv = d.view(source.read(m.offset, size, addrTag));
    const n = Math.floor(size / expected);
    const infoAt = d.wordSize; // r_info follows r_offset
    for (let i = 0; i < n; i++) {
      const o = i * expected + infoAt;
      let sym: number, type: number;
      if (d.is64) {
        // ELF64_R_SYM(i) = i >> 32, ELF64_R_TYPE(i) = i & 0xffffffff; read the halves directly
        // (a symbol index can exceed 2^21, which a safe-integer r_info could not hold).
        sym = d.le ? dv.getUint32(o + 4, true) : dv.getUint32(o, false);
        type = d.le ? dv.getUint32(o, true) : dv.getUint32(o + 4, false);
      } else {
        const info = d.u32(dv, o);
        sym = info >>> 8;
        type = info & 0xff;
      }
      if (sym === 0) continue;
      const plt = type === jumpSlot;
      const prev = refs.get(sym);
      refs.set(sym, (prev ?? true) && plt);
    }
  };

  scan('DT_RELA', tags.get(DT_RELA), tags.get(DT_RELASZ), 'DT_RELASZ', 'DT_RELAENT', tags.get(DT_RELAENT), true);
  scan('DT_REL', tags.get(DT_REL), tags.get(DT_RELSZ), 'DT_RELSZ', 'DT_RELENT', tags.get(DT_RELENT), false);
  const jmprel = tags.get(DT_JMPREL);
  if (jmprel !== undefined) {
    const pltrel = tags.get(DT_PLTREL);
    if (pltrel !== DT_RELA && pltrel !== DT_REL) {
      throw new ElfFormatError(
        source.name,
        'DT_PLTREL',
        'malformed',
        pltrel === undefined ? 'DT_JMPREL is present without DT_PLTREL' : `${pltrel} is neither DT_RELA nor DT_REL`,
      );
    }
    scan(
      'DT_JMPREL',
      jmprel,
      tags.get(DT_PLTRELSZ),
      'DT_PLTRELSZ',
      pltrel === DT_RELA ? 'DT_RELAENT' : 'DT_RELENT',
      pltrel === DT_RELA ? tags.get(DT_RELAENT) : tags.get(DT_RELENT),
      pltrel === DT_RELA,
    );
  }
  if (refs.size === 0) return [];

  const count = symbolCount();
  const out: SymbolReference[] = [];
  for (const [symbolIndex, pltOnly] of refs) {
    if (symbolIndex >= count) {
      throw new ElfFormatError(
        source.name,
        'r_info',
        'out-of-range',
        `a relocation names symbol ${symbolIndex}, but the dynamic symbol table has ${count} entries`,
      );
    }
    out.push({ symbolIndex, pltOnly });
  }
  out.sort((a, b) => a.symbolIndex - b.symbolIndex);
  return out;
}
