// The dynamic symbol hash tables, as the ELF gABI (DT_HASH) and the GNU extension (DT_GNU_HASH)
// lay them out, with the field names pyelftools and glibc use. ld.so finds a definition through
// them (do_lookup_x walks the GNU table when there is one, else the SysV one), so a lookup by
// name decodes only the few symbols of one chain instead of the whole table.
//
// Both tables are read whole in one positional read when the file is open, so lookups keep
// working after the file is closed.

import { EM_ALPHA, EM_S390 } from './constants.js';
import type { DynamicContext } from './symbols.js';
import { ChunkReader } from './source.js';

/** The SysV hash function (gABI "Hash Table"; glibc's _dl_elf_hash). */
export function elfHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + (name.charCodeAt(i) & 0xff)) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h &= ~g >>> 0;
  }
  return h >>> 0;
}

/** The GNU hash function (djb2, h * 33 + c, over the name's bytes; glibc's dl_new_hash). */
export function gnuHash(name: string): number {
  let h = 5381;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 33) + (name.charCodeAt(i) & 0xff)) >>> 0;
  return h;
}

/**
 * ld.so hashes a name once per lookup and then walks every object of the scope with it; callers
 * here probe object after object with the same name, so the last name's hashes are kept.
 */
let last: { name: string; bytes: string; gnu: number | null; sysv: number | null } = {
  name: '',
  bytes: '',
  gnu: null,
  sysv: null,
};

function lastHashes(name: string): typeof last {
  if (name !== last.name) last = { name, bytes: bytesOf(name), gnu: null, sysv: null };
  return last;
}

/** gnuHash of `name`'s UTF-8 bytes, remembered for the last name asked (see `last`). */
export function gnuHashOfName(name: string): number {
  const h = lastHashes(name);
  return (h.gnu ??= gnuHash(h.bytes));
}

function elfHashOfName(name: string): number {
  const h = lastHashes(name);
  return (h.sysv ??= elfHash(h.bytes));
}

/** `name`'s UTF-8 bytes as a latin1 string (one char per byte), remembered for the last name asked. */
export function nameBytesOf(name: string): string {
  return lastHashes(name).bytes;
}

/**
 * Names are compared as bytes; the hash functions above read one byte per char, so a non-ASCII name
 * is hashed from its UTF-8 bytes.
 */
function bytesOf(name: string): string {
  // eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL by definition
  return /^[\x00-\x7f]*$/.test(name) ? name : Buffer.from(name, 'utf8').toString('latin1');
}

export interface SymbolHashTable {
  /** Indexes of the symbols whose hash chain `name` falls in, in chain order; the caller compares names. */
  candidates(name: string): number[];
}

/** DT_HASH: nbucket, nchain, bucket[nbucket], chain[nchain]. */
export class SysvHashTable implements SymbolHashTable {
  private constructor(
    readonly nbucket: number,
    readonly nchain: number,
    private readonly bucket: Uint32Array,
    private readonly chain: Uint32Array,
  ) {}

  /** Null when the table does not fit its segment (lookups then fall back to a scan). */
  static read(ctx: DynamicContext, addr: number): SysvHashTable | null {
    const { d } = ctx;
    // s390x and Alpha use 64-bit hash words in ELF64 (glibc's ElfW(Hashelt)); not worth a lookup path.
    if (d.is64 && (ctx.header.e_machine === EM_S390 || ctx.header.e_machine === EM_ALPHA)) return null;
    try {
      const head = ctx.map.map(addr, 8, 'DT_HASH');
      const hv = d.view(ctx.source.read(head.offset, 8, 'DT_HASH'));
      const nbucket = d.u32(hv, 0);
      const nchain = d.u32(hv, 4);
      const length = 8 + 4 * (nbucket + nchain);
      if (nbucket === 0 || length > ctx.source.size) return null;
      const m = ctx.map.map(addr, length, 'DT_HASH');
      const words = wordsOf(ctx, ctx.source.read(m.offset, length, 'DT_HASH'));
      return new SysvHashTable(nbucket, nchain, words.subarray(2, 2 + nbucket), words.subarray(2 + nbucket));
    } catch {
      return null;
    }
  }

  candidates(name: string): number[] {
    const out: number[] = [];
    let seen = 0;
    for (let i = this.bucket[elfHashOfName(name) % this.nbucket]!; i !== 0 && i < this.nchain; i = this.chain[i]!) {
      out.push(i);
      // A looping chain in a corrupt file must not hang the lookup.
      if (++seen > this.nchain) break;
    }
    return out;
  }
}

/** DT_GNU_HASH: nbuckets, symoffset, bloom_size, bloom_shift, bloom[bloom_size], buckets[nbuckets], chains[]. */
export class GnuHashTable implements SymbolHashTable {
  private constructor(
    readonly nbuckets: number,
    readonly symoffset: number,
    readonly bloomShift: number,
    /** ElfW(Addr)-sized bloom words, held as 32-bit halves in file order (two per word in ELF64). */
    private readonly bloom: Uint32Array,
    private readonly bloomWordBits: 32 | 64,
    private readonly le: boolean,
    private readonly buckets: Uint32Array,
    /** chains[i - symoffset] for every hashed symbol i. */
    private readonly chains: Uint32Array,
  ) {}

  /** Null when the table does not fit its segment or a chain does not end (lookups then fall back to a scan). */
  static read(ctx: DynamicContext, addr: number): GnuHashTable | null {
    const { d, source } = ctx;
    try {
      const head = ctx.map.map(addr, 16, 'DT_GNU_HASH');
      const hv = d.view(source.read(head.offset, 16, 'DT_GNU_HASH'));
      const nbuckets = d.u32(hv, 0);
      const symoffset = d.u32(hv, 4);
      const bloomSize = d.u32(hv, 8);
      const bloomShift = d.u32(hv, 12);
      const fixed = 16 + bloomSize * d.wordSize + nbuckets * 4;
      if (nbuckets === 0 || bloomSize === 0 || fixed > source.size) return null;
      const m = ctx.map.map(addr, fixed, 'DT_GNU_HASH');
      const words = wordsOf(ctx, source.read(m.offset, fixed, 'DT_GNU_HASH'));
      const bloomWords = (bloomSize * d.wordSize) / 4;
      const bloom = words.subarray(4, 4 + bloomWords);
      const buckets = words.subarray(4 + bloomWords);
      let maxIdx = 0;
      for (const b of buckets) if (b > maxIdx) maxIdx = b;
      let hashed = symoffset;
      if (maxIdx >= symoffset) {
        // The last chain ends at the last hashed symbol (the entry with the low bit set).
        const chainOff = m.offset + fixed;
        const reader = new ChunkReader(source, m.end);
        for (let idx = maxIdx; ; idx++) {
          const { buf, pos } = reader.at(chainOff + (idx - symoffset) * 4, 4, 'DT_GNU_HASH');
          if (((d.le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos)) & 1) !== 0) {
            hashed = idx + 1;
            break;
          }
        }
      }
      const chainBytes = (hashed - symoffset) * 4;
      const chains =
        chainBytes === 0 ? new Uint32Array(0) : wordsOf(ctx, source.read(m.offset + fixed, chainBytes, 'DT_GNU_HASH'));
      return new GnuHashTable(nbuckets, symoffset, bloomShift, bloom, d.is64 ? 64 : 32, d.le, buckets, chains);
    } catch {
      return null;
    }
  }

  /** One bloom word's bit `bit` (0..bloomWordBits-1). */
  private bloomBit(word: number, bit: number): boolean {
    if (this.bloomWordBits === 32) return ((this.bloom[word]! >>> bit) & 1) !== 0;
    const low = this.le ? this.bloom[2 * word]! : this.bloom[2 * word + 1]!;
    const high = this.le ? this.bloom[2 * word + 1]! : this.bloom[2 * word]!;
    return (((bit < 32 ? low : high) >>> (bit & 31)) & 1) !== 0;
  }

  candidates(name: string): number[] {
    const h = gnuHashOfName(name);
    const bits = this.bloomWordBits;
    // glibc's do_lookup_x: the bloom filter first, two bits per symbol.
    // bitmask[(hash / __ELF_NATIVE_CLASS) & (bloom_size - 1)]: bloom_size is a power of two.
    const words = this.bloom.length / (bits / 32);
    const word = Math.floor(h / bits) & (words - 1);
    if (!this.bloomBit(word, h % bits) || !this.bloomBit(word, (h >>> this.bloomShift) & (bits - 1))) return [];
    const out: number[] = [];
    let i = this.buckets[h % this.nbuckets]!;
    if (i < this.symoffset) return out;
    for (; i - this.symoffset < this.chains.length; i++) {
      const entry = this.chains[i - this.symoffset]!;
      if ((entry ^ h) >>> 1 === 0) out.push(i);
      if ((entry & 1) !== 0) break;
    }
    return out;
  }
}

/** The bytes as 32-bit words in the file's byte order, copied so the view is aligned. */
function wordsOf(ctx: DynamicContext, buf: Buffer): Uint32Array {
  const n = Math.floor(buf.length / 4);
  const out = new Uint32Array(n);
  const dv = ctx.d.view(buf);
  for (let i = 0; i < n; i++) out[i] = ctx.d.u32(dv, i * 4);
  return out;
}
