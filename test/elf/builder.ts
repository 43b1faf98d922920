// Crafts small but complete dynamic ELF images in any class and byte order, for what the
// machine's toolchain cannot produce (big endian, odd corner cases) and for precise corruption:
// the builder reports where each table landed so a test can rewrite one field.
//
// Layout: one PT_LOAD maps the whole file at BASE (so addresses differ from offsets, as the
// address mapping must handle), plus PT_DYNAMIC, PT_NOTE (ABI tag) and optionally PT_INTERP.

import {
  DT_FLAGS,
  DT_FLAGS_1,
  DT_GNU_HASH,
  DT_HASH,
  DT_JMPREL,
  DT_NEEDED,
  DT_PLTREL,
  DT_PLTRELSZ,
  DT_REL,
  DT_RELA,
  DT_RELAENT,
  DT_RELASZ,
  DT_RELENT,
  DT_RELSZ,
  DT_RPATH,
  DT_RUNPATH,
  DT_SONAME,
  DT_STRSZ,
  DT_STRTAB,
  DT_SYMENT,
  DT_SYMTAB,
  DT_VERDEF,
  DT_VERDEFNUM,
  DT_VERNEED,
  DT_VERNEEDNUM,
  DT_VERSYM,
  EM_X86_64,
  ET_DYN,
  PT_DYNAMIC,
  PT_INTERP,
  PT_LOAD,
  PT_NOTE,
  SHT_DYNAMIC,
  SHT_DYNSYM,
  SHT_GNU_HASH,
  SHT_GNU_verdef,
  SHT_GNU_verneed,
  SHT_GNU_versym,
  SHT_HASH,
  SHT_NOTE,
  SHT_PROGBITS,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
} from '../../src/elf/constants.js';

export const BASE = 0x400000;

export interface BuildSymbol {
  name: string;
  value?: number;
  size?: number;
  info?: number;
  other?: number;
  shndx?: number;
  /** Raw .gnu.version entry (hidden bit included). */
  version?: number;
}

export interface BuildOptions {
  class: 32 | 64;
  data: 'lsb' | 'msb';
  machine?: number;
  type?: number;
  interp?: string;
  needed?: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags?: number;
  flags1?: number;
  /** Symbols after the null symbol. */
  symbols?: BuildSymbol[];
  verdefs?: { flags: number; ndx: number; names: string[] }[];
  verneeds?: { file: string; aux: { name: string; flags: number; other: number }[] }[];
  /** Eager relocations: Rela in ELF64, Rel in ELF32. */
  relocs?: { sym: number; type: number }[];
  pltRelocs?: { sym: number; type: number }[];
  hash?: 'sysv' | 'gnu' | 'none';
  abiTag?: [number, number, number, number] | null;
  /** Emit DT_VERDEFNUM/DT_VERNEEDNUM (default true); without them only the 0 links end the chains. */
  versionCounts?: boolean;
  /**
   * Emit a section header table: true, with .shstrtab and .dynsym only; 'full', with a section for
   * every table (what readelf needs to read the version tables, which it finds only by section).
   */
  sectionHeaders?: boolean | 'full';
}

export interface Built {
  bytes: Uint8Array;
  /** File offsets of the tables. */
  at: {
    phdrs: number;
    dynamic: number;
    dynstr: number;
    dynsym: number;
    hash: number;
    versym: number;
    verdef: number;
    verneed: number;
    rela: number;
    jmprel: number;
    note: number;
    shdrs: number;
  };
}

class Strtab {
  bytes: number[] = [0];
  private seen = new Map<string, number>();
  add(s: string): number {
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    const off = this.bytes.length;
    this.bytes.push(...Buffer.from(s, 'utf8'), 0);
    this.seen.set(s, off);
    return off;
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

export function buildElf(o: BuildOptions): Built {
  const is64 = o.class === 64;
  const le = o.data === 'lsb';
  const W = is64 ? 8 : 4;
  const syms: BuildSymbol[] = [{ name: '' }, ...(o.symbols ?? [])];
  const verdefs = o.verdefs ?? [];
  const verneeds = o.verneeds ?? [];
  const relocs = o.relocs ?? [];
  const plt = o.pltRelocs ?? [];
  const hash = o.hash ?? 'sysv';
  const abiTag = o.abiTag === undefined ? [0, 3, 2, 0] : o.abiTag;
  const rela = is64;
  const relEnt = is64 ? 24 : 8;

  const str = new Strtab();
  const symNames = syms.map((s) => (s.name === '' ? 0 : str.add(s.name)));
  const neededOffs = (o.needed ?? []).map((n) => str.add(n));
  const soname = o.soname === undefined ? undefined : str.add(o.soname);
  const rpath = o.rpath === undefined ? undefined : str.add(o.rpath);
  const runpath = o.runpath === undefined ? undefined : str.add(o.runpath);
  const vdNames = verdefs.map((v) => v.names.map((n) => str.add(n)));
  const vnFiles = verneeds.map((v) => str.add(v.file));
  const vnaNames = verneeds.map((v) => v.aux.map((a) => str.add(a.name)));

  // Dynamic entries (values filled once the layout is known).
  const dyn: [number, () => number][] = [];
  const layout: Record<string, number> = {};
  const addr = (k: string) => () => BASE + (layout[k] ?? 0);
  for (const n of neededOffs) dyn.push([DT_NEEDED, () => n]);
  if (soname !== undefined) dyn.push([DT_SONAME, () => soname]);
  if (rpath !== undefined) dyn.push([DT_RPATH, () => rpath]);
  if (runpath !== undefined) dyn.push([DT_RUNPATH, () => runpath]);
  if (hash === 'sysv') dyn.push([DT_HASH, addr('hash')]);
  if (hash === 'gnu') dyn.push([DT_GNU_HASH, addr('hash')]);
  dyn.push(
    [DT_STRTAB, addr('dynstr')],
    [DT_SYMTAB, addr('dynsym')],
    [DT_STRSZ, () => str.bytes.length],
    [DT_SYMENT, () => (is64 ? 24 : 16)],
  );
  if (relocs.length > 0) {
    if (rela) dyn.push([DT_RELA, addr('rela')], [DT_RELASZ, () => relocs.length * relEnt], [DT_RELAENT, () => relEnt]);
    else dyn.push([DT_REL, addr('rela')], [DT_RELSZ, () => relocs.length * relEnt], [DT_RELENT, () => relEnt]);
  }
  if (plt.length > 0) {
    dyn.push(
      [DT_JMPREL, addr('jmprel')],
      [DT_PLTRELSZ, () => plt.length * relEnt],
      [DT_PLTREL, () => (rela ? DT_RELA : DT_REL)],
    );
  }
  if (syms.some((s) => s.version !== undefined)) dyn.push([DT_VERSYM, addr('versym')]);
  const counts = o.versionCounts ?? true;
  if (verdefs.length > 0) dyn.push([DT_VERDEF, addr('verdef')]);
  if (verdefs.length > 0 && counts) dyn.push([DT_VERDEFNUM, () => verdefs.length]);
  if (verneeds.length > 0) dyn.push([DT_VERNEED, addr('verneed')]);
  if (verneeds.length > 0 && counts) dyn.push([DT_VERNEEDNUM, () => verneeds.length]);
  if (o.flags !== undefined) dyn.push([DT_FLAGS, () => o.flags ?? 0]);
  if (o.flags1 !== undefined) dyn.push([DT_FLAGS_1, () => o.flags1 ?? 0]);
  dyn.push([0, () => 0]);

  // Section headers: [null, .shstrtab, .dynsym] and, when 'full', one per table that has content.
  // Each: name, type, layout key, size, link (a section name), info, entsize.
  type SectionPlan = {
    name: string;
    type: number;
    at: string;
    size: number;
    link?: string;
    info?: number;
    entsize?: number;
    align?: number;
  };
  const symEntSize = is64 ? 24 : 16;
  const sections: SectionPlan[] = [];
  if (o.sectionHeaders !== undefined && o.sectionHeaders !== false) {
    const full = o.sectionHeaders === 'full';
    sections.push({ name: '.shstrtab', type: SHT_STRTAB, at: 'shstrtab', size: 0, align: 1 });
    sections.push({
      name: '.dynsym',
      type: SHT_DYNSYM,
      at: 'dynsym',
      size: syms.length * symEntSize,
      link: full ? '.dynstr' : undefined,
      info: 1,
      entsize: symEntSize,
    });
    if (full) {
      const hasVersym = syms.some((s) => s.version !== undefined);
      const relName = rela ? '.rela' : '.rel';
      sections.push({ name: '.dynstr', type: SHT_STRTAB, at: 'dynstr', size: str.bytes.length, align: 1 });
      if (hasVersym)
        sections.push({
          name: '.gnu.version',
          type: SHT_GNU_versym,
          at: 'versym',
          size: syms.length * 2,
          link: '.dynsym',
          entsize: 2,
          align: 2,
        });
      if (verdefs.length > 0)
        sections.push({
          name: '.gnu.version_d',
          type: SHT_GNU_verdef,
          at: 'verdef',
          size: verdefs.reduce((n, v) => n + 20 + 8 * v.names.length, 0),
          link: '.dynstr',
          info: verdefs.length,
          align: 4,
        });
      if (verneeds.length > 0)
        sections.push({
          name: '.gnu.version_r',
          type: SHT_GNU_verneed,
          at: 'verneed',
          size: verneeds.reduce((n, v) => n + 16 + 16 * v.aux.length, 0),
          link: '.dynstr',
          info: verneeds.length,
          align: 4,
        });
      if (hash === 'sysv')
        sections.push({
          name: '.hash',
          type: SHT_HASH,
          at: 'hash',
          size: 8 + 4 + syms.length * 4,
          link: '.dynsym',
          entsize: 4,
        });
      if (hash === 'gnu')
        sections.push({
          name: '.gnu.hash',
          type: SHT_GNU_HASH,
          at: 'hash',
          size: 16 + W + 4 + syms.length * 4,
          link: '.dynsym',
        });
      if (relocs.length > 0)
        sections.push({
          name: `${relName}.dyn`,
          type: rela ? SHT_RELA : SHT_REL,
          at: 'rela',
          size: relocs.length * relEnt,
          link: '.dynsym',
          entsize: relEnt,
        });
      if (plt.length > 0)
        sections.push({
          name: `${relName}.plt`,
          type: rela ? SHT_RELA : SHT_REL,
          at: 'jmprel',
          size: plt.length * relEnt,
          link: '.dynsym',
          entsize: relEnt,
        });
      sections.push({
        name: '.dynamic',
        type: SHT_DYNAMIC,
        at: 'dynamic',
        size: dyn.length * 2 * W,
        link: '.dynstr',
        entsize: 2 * W,
      });
      if (abiTag !== null) sections.push({ name: '.note.ABI-tag', type: SHT_NOTE, at: 'note', size: 32, align: 4 });
      if (o.interp !== undefined)
        sections.push({
          name: '.interp',
          type: SHT_PROGBITS,
          at: 'interp',
          size: Buffer.byteLength(o.interp) + 1,
          align: 1,
        });
    }
  }
  const shstr = new Strtab();
  const sectionNames = sections.map((sec) => shstr.add(sec.name));
  if (sections[0] !== undefined) sections[0].size = shstr.bytes.length;
  const shnum = sections.length === 0 ? 0 : sections.length + 1;

  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const phnum = 3 + (o.interp === undefined ? 0 : 1);
  const symEnt = is64 ? 24 : 16;
  const nsym = syms.length;
  const sizes: [string, number][] = [
    ['phdrs', phnum * phentsize],
    ['interp', o.interp === undefined ? 0 : Buffer.byteLength(o.interp) + 1],
    ['note', abiTag === null ? 0 : 32],
    ['dynstr', str.bytes.length],
    ['dynsym', nsym * symEnt],
    ['hash', hash === 'sysv' ? 8 + 4 + nsym * 4 : hash === 'gnu' ? 16 + W + 4 + nsym * 4 : 0],
    ['versym', nsym * 2],
    ['verdef', verdefs.reduce((n, v) => n + 20 + 8 * v.names.length, 0)],
    ['verneed', verneeds.reduce((n, v) => n + 16 + 16 * v.aux.length, 0)],
    ['rela', relocs.length * relEnt],
    ['jmprel', plt.length * relEnt],
    ['dynamic', dyn.length * 2 * W],
    ['shstrtab', shstr.bytes.length],
    ['shdrs', shnum * (is64 ? 64 : 40)],
  ];
  let pos = ehsize;
  for (const [k, n] of sizes) {
    pos = align8(pos);
    layout[k] = pos;
    pos += n;
  }
  const total = align8(pos);
  const buf = Buffer.alloc(total);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u8 = (off: number, v: number) => dv.setUint8(off, v);
  const u16 = (off: number, v: number) => dv.setUint16(off, v, le);
  const u32 = (off: number, v: number) => dv.setUint32(off, v, le);
  const word = (off: number, v: number) => {
    if (is64) dv.setBigUint64(off, BigInt(v), le);
    else dv.setUint32(off, v, le);
  };
  const L = (k: string): number => layout[k] ?? 0;

  // ---- ELF header
  buf.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1, 0], 0);
  u16(16, o.type ?? ET_DYN);
  u16(18, o.machine ?? EM_X86_64);
  u32(20, 1);
  word(24, 0);
  word(24 + W, L('phdrs'));
  word(24 + 2 * W, shnum > 0 ? L('shdrs') : 0);
  const at = 24 + 3 * W;
  u32(at, 0);
  u16(at + 4, ehsize);
  u16(at + 6, phentsize);
  u16(at + 8, phnum);
  u16(at + 10, is64 ? 64 : 40);
  u16(at + 12, shnum);
  u16(at + 14, shnum > 0 ? 1 : 0);

  // ---- program headers
  const phdr = (i: number, type: number, off: number, filesz: number, flags: number, palign: number) => {
    const p = L('phdrs') + i * phentsize;
    if (is64) {
      u32(p, type);
      u32(p + 4, flags);
      word(p + 8, off);
      word(p + 16, BASE + off);
      word(p + 24, BASE + off);
      word(p + 32, filesz);
      word(p + 40, filesz);
      word(p + 48, palign);
    } else {
      u32(p, type);
      u32(p + 4, off);
      u32(p + 8, BASE + off);
      u32(p + 12, BASE + off);
      u32(p + 16, filesz);
      u32(p + 20, filesz);
      u32(p + 24, flags);
      u32(p + 28, palign);
    }
  };
  let ph = 0;
  if (o.interp !== undefined) phdr(ph++, PT_INTERP, L('interp'), Buffer.byteLength(o.interp) + 1, 4, 1);
  phdr(ph++, PT_LOAD, 0, total, 5, 0x1000);
  phdr(ph++, PT_DYNAMIC, L('dynamic'), dyn.length * 2 * W, 6, W);
  phdr(ph++, PT_NOTE, L('note'), abiTag === null ? 0 : 32, 4, 4);

  if (o.interp !== undefined) buf.write(o.interp, L('interp'), 'utf8');
  if (abiTag !== null) {
    const n = L('note');
    u32(n, 4);
    u32(n + 4, 16);
    u32(n + 8, 1);
    buf.write('GNU\0', n + 12, 'latin1');
    abiTag.forEach((v, i) => u32(n + 16 + 4 * i, v));
  }
  buf.set(str.bytes, L('dynstr'));

  // ---- symbols and versions
  syms.forEach((s, i) => {
    const p = L('dynsym') + i * symEnt;
    if (is64) {
      u32(p, symNames[i] ?? 0);
      u8(p + 4, s.info ?? 0);
      u8(p + 5, s.other ?? 0);
      u16(p + 6, s.shndx ?? 0);
      word(p + 8, s.value ?? 0);
      word(p + 16, s.size ?? 0);
    } else {
      u32(p, symNames[i] ?? 0);
      u32(p + 4, s.value ?? 0);
      u32(p + 8, s.size ?? 0);
      u8(p + 12, s.info ?? 0);
      u8(p + 13, s.other ?? 0);
      u16(p + 14, s.shndx ?? 0);
    }
    u16(L('versym') + i * 2, s.version ?? (i === 0 ? 0 : 1));
  });
  if (hash === 'sysv') {
    // nbucket 1, nchain = nsym; the chain contents do not matter to the reader.
    u32(L('hash'), 1);
    u32(L('hash') + 4, nsym);
  } else if (hash === 'gnu') {
    const h = L('hash');
    u32(h, 1);
    u32(h + 4, 1);
    u32(h + 8, 1);
    u32(h + 12, 6);
    word(h + 16, 0);
    const buckets = h + 16 + W;
    u32(buckets, nsym > 1 ? 1 : 0);
    for (let i = 1; i < nsym; i++) u32(buckets + 4 + (i - 1) * 4, i === nsym - 1 ? 1 : 0);
  }
  let p = L('verdef');
  verdefs.forEach((v, i) => {
    const last = i === verdefs.length - 1;
    u16(p, 1);
    u16(p + 2, v.flags);
    u16(p + 4, v.ndx);
    u16(p + 6, v.names.length);
    u32(p + 8, 0);
    u32(p + 12, 20);
    u32(p + 16, last ? 0 : 20 + 8 * v.names.length);
    (vdNames[i] ?? []).forEach((name, j) => {
      const a = p + 20 + 8 * j;
      u32(a, name);
      u32(a + 4, j === v.names.length - 1 ? 0 : 8);
    });
    p += 20 + 8 * v.names.length;
  });
  p = L('verneed');
  verneeds.forEach((v, i) => {
    const last = i === verneeds.length - 1;
    u16(p, 1);
    u16(p + 2, v.aux.length);
    u32(p + 4, vnFiles[i] ?? 0);
    u32(p + 8, 16);
    u32(p + 12, last ? 0 : 16 + 16 * v.aux.length);
    v.aux.forEach((a, j) => {
      const q = p + 16 + 16 * j;
      u32(q, 0);
      u16(q + 4, a.flags);
      u16(q + 6, a.other);
      u32(q + 8, vnaNames[i]?.[j] ?? 0);
      u32(q + 12, j === v.aux.length - 1 ? 0 : 16);
    });
    p += 16 + 16 * v.aux.length;
  });

  // ---- relocations
  const writeRel = (base: number, list: { sym: number; type: number }[]) => {
    list.forEach((r, i) => {
      const q = base + i * relEnt;
      word(q, 0x1000 + i * W);
      if (is64) {
        u32(q + (le ? 8 : 12), r.type);
        u32(q + (le ? 12 : 8), r.sym);
      } else {
        u32(q + 4, (r.sym << 8) | (r.type & 0xff));
      }
    });
  };
  writeRel(L('rela'), relocs);
  writeRel(L('jmprel'), plt);

  // ---- dynamic
  dyn.forEach(([tag, val], i) => {
    const q = L('dynamic') + i * 2 * W;
    word(q, tag);
    word(q + W, val());
  });

  // ---- section headers (index 0 stays the null section)
  if (shnum > 0) {
    buf.set(shstr.bytes, L('shstrtab'));
    sections.forEach((sec, k) => {
      const q = L('shdrs') + (k + 1) * (is64 ? 64 : 40);
      const off = L(sec.at);
      const link = sec.link === undefined ? 0 : sections.findIndex((other) => other.name === sec.link) + 1;
      const addr = sec.at === 'shstrtab' ? 0 : BASE + off;
      const [name, info, entsize, align] = [sectionNames[k] ?? 0, sec.info ?? 0, sec.entsize ?? 0, sec.align ?? W];
      if (is64) {
        u32(q, name);
        u32(q + 4, sec.type);
        word(q + 8, 0);
        word(q + 16, addr);
        word(q + 24, off);
        word(q + 32, sec.size);
        u32(q + 40, link);
        u32(q + 44, info);
        word(q + 48, align);
        word(q + 56, entsize);
      } else {
        u32(q, name);
        u32(q + 4, sec.type);
        u32(q + 8, 0);
        u32(q + 12, addr);
        u32(q + 16, off);
        u32(q + 20, sec.size);
        u32(q + 24, link);
        u32(q + 28, info);
        u32(q + 32, align);
        u32(q + 36, entsize);
      }
    });
  }

  return {
    bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
    at: {
      phdrs: L('phdrs'),
      dynamic: L('dynamic'),
      dynstr: L('dynstr'),
      dynsym: L('dynsym'),
      hash: L('hash'),
      versym: L('versym'),
      verdef: L('verdef'),
      verneed: L('verneed'),
      rela: L('rela'),
      jmprel: L('jmprel'),
      note: L('note'),
      shdrs: L('shdrs'),
    },
  };
}

/** A copy of `bytes` with the section header table forgotten, as sstrip leaves a file. */
export function sstrip(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  const dv = new DataView(out.buffer);
  const is64 = out[4] === 2;
  const le = out[5] === 1;
  if (is64) {
    dv.setBigUint64(40, 0n, le); // e_shoff
    dv.setUint16(58, 0, le); // e_shentsize
    dv.setUint16(60, 0, le); // e_shnum
    dv.setUint16(62, 0, le); // e_shstrndx
  } else {
    dv.setUint32(32, 0, le);
    dv.setUint16(46, 0, le);
    dv.setUint16(48, 0, le);
    dv.setUint16(50, 0, le);
  }
  return out;
}
