// The dynamic symbol table (DT_SYMTAB) and its version table (DT_VERSYM).
//
// Nothing in the dynamic section gives the number of symbols. Like pyelftools and goblin we take
// it from DT_HASH (nchain is the symbol count by definition), else from DT_GNU_HASH (the last
// symbol is the end of the chain that starts at the highest bucket), else from the .dynsym
// section header when the file still has one.

import type { AddressMap } from './address-map.js';
import {
  DT_GNU_HASH,
  DT_HASH,
  DT_SYMENT,
  DT_SYMTAB,
  DT_VERSYM,
  ELF32_SYM_SIZE,
  ELF64_SYM_SIZE,
  EM_ALPHA,
  EM_S390,
  SHT_DYNSYM,
  VERSYM_HIDDEN,
  VERSYM_VERSION,
} from './constants.js';
import type { Decoder } from './decoder.js';
import { ElfFormatError } from './errors.js';
import { GnuHashTable, SysvHashTable, type SymbolHashTable } from './hash-tables.js';
import { ChunkReader, type ByteSource } from './source.js';
import type { StringTable } from './strings.js';
import type { ElfHeader, ElfSymbol, SectionHeader } from './types.js';

/** Everything the table decoders need from the file, gathered by ElfFile. */
export interface DynamicContext {
  readonly source: ByteSource;
  readonly d: Decoder;
  readonly header: ElfHeader;
  readonly map: AddressMap;
  readonly tags: ReadonlyMap<number, number>;
  strings(): StringTable;
  /** The section headers with names unread (only sh_type and sizes are wanted here). */
  sectionHeaders(): readonly Omit<SectionHeader, 'name'>[];
}

function symbolEntrySize(ctx: DynamicContext): number {
  const expected = ctx.d.is64 ? ELF64_SYM_SIZE : ELF32_SYM_SIZE;
  const syment = ctx.tags.get(DT_SYMENT);
  // Our decoder has one layout per class; any other stride would misread every symbol.
  if (syment !== undefined && syment !== expected) {
    throw new ElfFormatError(ctx.source.name, 'DT_SYMENT', 'malformed', `${syment}, expected ${expected}`);
  }
  return expected;
}

/** nchain from DT_HASH. s390x and Alpha use 64-bit hash words in ELF64 (glibc's ElfW(Hashelt)). */
function countFromHash(ctx: DynamicContext, addr: number): number {
  const { d } = ctx;
  const wide = d.is64 && (ctx.header.e_machine === EM_S390 || ctx.header.e_machine === EM_ALPHA);
  const ws = wide ? 8 : 4;
  const m = ctx.map.map(addr, 2 * ws, 'DT_HASH');
  const dv = d.view(ctx.source.read(m.offset, 2 * ws, 'DT_HASH'));
  return wide ? d.u64(dv, ws, 'nchain') : d.u32(dv, 4);
}

/** The symbol count implied by a GNU hash table (pyelftools' GNUHashSection.get_number_of_symbols). */
function countFromGnuHash(ctx: DynamicContext, addr: number): number {
  const { d, source } = ctx;
  const file = source.name;
  const head = ctx.map.map(addr, 16, 'DT_GNU_HASH');
  const hv = d.view(source.read(head.offset, 16, 'DT_GNU_HASH'));
  const nbuckets = d.u32(hv, 0);
  const symoffset = d.u32(hv, 4);
  const bloomSize = d.u32(hv, 8);
  // Buckets follow the Bloom filter, whose words are ElfW(Addr)-sized.
  const bucketsAt = addr + 16 + bloomSize * d.wordSize;
  const bucketsLen = nbuckets * 4;
  const bm = ctx.map.map(bucketsAt, bucketsLen, 'DT_GNU_HASH');
  const bv = d.view(source.read(bm.offset, bucketsLen, 'DT_GNU_HASH'));
  let maxIdx = 0;
  for (let i = 0; i < nbuckets; i++) {
    const b = d.u32(bv, i * 4);
    if (b > maxIdx) maxIdx = b;
  }
  if (maxIdx < symoffset) return symoffset;
  // Walk the chain of the highest bucket until the entry with the low bit set, which marks the
  // chain's last symbol. The chain array starts right after the buckets, indexed from symoffset.
  const chainOff = bm.offset + bucketsLen;
  const reader = new ChunkReader(source, bm.end);
  for (let idx = maxIdx; ; idx++) {
    const off = chainOff + (idx - symoffset) * 4;
    if (off + 4 > bm.end) {
      throw new ElfFormatError(
        file,
        'DT_GNU_HASH',
        'out-of-range',
        `hash chain of symbol ${idx} runs past the end of its segment`,
      );
    }
    const { buf, pos } = reader.at(off, 4, 'DT_GNU_HASH');
    const word = d.le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
    if ((word & 1) !== 0) return idx + 1;
  }
}

/** The number of entries in the dynamic symbol table, including the null symbol; 0 when none. */
export function countDynamicSymbols(ctx: DynamicContext): number {
  if (ctx.tags.get(DT_SYMTAB) === undefined) return 0;
  const hash = ctx.tags.get(DT_HASH);
  if (hash !== undefined) return countFromHash(ctx, hash);
  const dynsym = ctx.sectionHeaders().find((s) => s.sh_type === SHT_DYNSYM);
  const fromSection =
    dynsym !== undefined && dynsym.sh_entsize > 0 ? Math.floor(dynsym.sh_size / dynsym.sh_entsize) : null;
  const gnu = ctx.tags.get(DT_GNU_HASH);
  // DT_GNU_HASH only covers the hashed (defined) symbols: an object that defines none has
  // symoffset 1 and undefined symbols after it, so the section header, when there is one, wins.
  if (gnu !== undefined) return Math.max(countFromGnuHash(ctx, gnu), fromSection ?? 0);
  if (fromSection !== null) return fromSection;
  throw new ElfFormatError(
    ctx.source.name,
    '.dynsym',
    'malformed',
    'DT_SYMTAB is present but neither DT_HASH, DT_GNU_HASH nor a .dynsym section header gives its size',
  );
}

/**
 * The dynamic symbol table with its version table and string table, read (one positional read
 * each) but decoded one symbol at a time: the loader asks for the symbols its relocations name and
 * for the definitions of a name (through the hash table), not for all of them. The raw tables stay
 * in memory, so the symbols remain readable after the file is closed.
 */
export class DynamicSymbolTable {
  private readonly d: Decoder;
  private readonly entsize: number;
  private readonly dv: DataView | null;
  private readonly versym: DataView | null;
  private readonly strings: StringTable | null;
  private readonly hash: SymbolHashTable | null;

  constructor(
    ctx: DynamicContext,
    readonly count: number,
  ) {
    const { d, source, tags } = ctx;
    this.d = d;
    this.entsize = count === 0 ? 0 : symbolEntrySize(ctx);
    if (count === 0) {
      this.dv = null;
      this.versym = null;
      this.strings = null;
      this.hash = null;
      return;
    }
    const symtab = tags.get(DT_SYMTAB) ?? 0;
    // Check the extent before multiplying into an allocation: a corrupt nchain must not allocate.
    if (count > source.size / this.entsize) {
      throw new ElfFormatError(source.name, '.dynsym', 'out-of-range', `${count} symbols cannot fit in the file`);
    }
    const size = count * this.entsize;
    const m = ctx.map.map(symtab, size, 'DT_SYMTAB');
    this.dv = d.view(source.read(m.offset, size, 'DT_SYMTAB'));
    const versymAddr = tags.get(DT_VERSYM);
    if (versymAddr === undefined) {
      this.versym = null;
    } else {
      const vm = ctx.map.map(versymAddr, count * 2, 'DT_VERSYM');
      this.versym = d.view(source.read(vm.offset, count * 2, 'DT_VERSYM'));
    }
    this.strings = ctx.strings();
    // ld.so looks symbols up through DT_GNU_HASH when the object has one, else through DT_HASH.
    const gnu = tags.get(DT_GNU_HASH);
    const sysv = tags.get(DT_HASH);
    this.hash =
      gnu !== undefined ? GnuHashTable.read(ctx, gnu) : sysv !== undefined ? SysvHashTable.read(ctx, sysv) : null;
  }

  get hasVersym(): boolean {
    return this.versym !== null;
  }

  /** Whether lookups by name go through a hash table (else `named` scans every symbol). */
  get hashed(): boolean {
    return this.hash !== null;
  }

  /** Symbol `i` (0 <= i < count); `knownName` when the caller has compared its name already. */
  symbol(i: number, knownName?: string): ElfSymbol {
    const { d, entsize } = this;
    const dv = this.dv!;
    const o = i * entsize;
    let st_name: number, st_value: number, st_size: number, st_info: number, st_other: number, st_shndx: number;
    if (d.is64) {
      st_name = d.u32(dv, o);
      st_info = dv.getUint8(o + 4);
      st_other = dv.getUint8(o + 5);
      st_shndx = d.u16(dv, o + 6);
      st_value = d.u64(dv, o + 8, 'st_value');
      st_size = d.u64(dv, o + 16, 'st_size');
    } else {
      st_name = d.u32(dv, o);
      st_value = d.u32(dv, o + 4);
      st_size = d.u32(dv, o + 8);
      st_info = dv.getUint8(o + 12);
      st_other = dv.getUint8(o + 13);
      st_shndx = d.u16(dv, o + 14);
    }
    let versionIndex: number | null = null;
    let versionHidden = false;
    if (this.versym !== null) {
      const v = d.u16(this.versym, i * 2);
      versionIndex = v & VERSYM_VERSION;
      versionHidden = (v & VERSYM_HIDDEN) !== 0;
    }
    return {
      index: i,
      name: knownName ?? (st_name === 0 ? '' : this.strings!.get(st_name, 'st_name')),
      st_value,
      st_size,
      st_info,
      st_other,
      st_shndx,
      binding: st_info >> 4,
      type: st_info & 0xf,
      visibility: st_other & 0x3,
      versionIndex,
      versionHidden,
    };
  }

  /**
   * Raises the ElfFormatError that decoding every symbol in order would raise, without decoding
   * them: a table that fails whole fails the same way when it is read a symbol at a time.
   */
  validate(): void {
    const { d, entsize, count } = this;
    if (count === 0) return;
    const dv = this.dv!;
    const strings = this.strings!;
    for (let i = 0; i < count; i++) {
      const o = i * entsize;
      if (d.is64) {
        d.u64(dv, o + 8, 'st_value');
        d.u64(dv, o + 16, 'st_size');
      }
      const st_name = d.u32(dv, o);
      if (st_name !== 0) strings.check(st_name, 'st_name');
    }
  }

  /** Every symbol, index 0 (the null symbol) included so that symbols[i].index === i. */
  all(): ElfSymbol[] {
    const out = new Array<ElfSymbol>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.symbol(i);
    return out;
  }

  /**
   * Whether a lookup of `symbol`'s own name reaches it: it is in the hash chain its name falls in
   * (what `named` finds, without decoding the chain); always so without a hash table.
   */
  reachesByName(symbol: ElfSymbol): boolean {
    if (this.hash === null) return true;
    return symbol.index < this.count && this.hash.candidates(symbol.name).includes(symbol.index);
  }

  /**
   * The symbols named `name` that a lookup through the hash table reaches, as do_lookup_x finds
   * them; every symbol of that name when the object has no usable hash table.
   */
  named(name: string): ElfSymbol[] {
    if (this.count === 0) return [];
    if (this.hash === null) return this.all().filter((s) => s.name === name);
    const out: ElfSymbol[] = [];
    for (const i of this.hash.candidates(name)) {
      if (i >= this.count) continue;
      // The name is compared in the string table, so a hit costs no string of its own.
      const st_name = this.d.u32(this.dv!, i * this.entsize);
      if (st_name === 0 ? name === '' : this.strings!.equals(st_name, name, 'st_name')) out.push(this.symbol(i, name));
    }
    return out;
  }
}

export function parseDynamicSymbols(ctx: DynamicContext, count: number): ElfSymbol[] {
  return new DynamicSymbolTable(ctx, count).all();
}
