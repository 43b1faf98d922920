// Mutation fuzzer for the ELF reader.
//
// Takes real ELF files (small ones of this machine, plus crafted ELF32 and big-endian images so
// that every decoder path is mutated) and, per case, applies byte flips, boundary values written
// over header/program header/dynamic/hash/version fields, version chain rewrites and
// truncations; then runs the mutant through ElfFile.fromBuffer and every accessor. A case fails
// when anything but ElfFormatError escapes, or when it takes more than a second.
//
// Every case draws from its own generator seeded by (seed, case number), so a failure is
// reproduced alone with `--seed S --case N`.
//
//   node dist/bench/fuzz-elf.js [--cases N] [--seed S] [--case N] [extra ELF files...]

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ElfFile, ElfFormatError, type ElfErrorReason } from '../src/elf/index.js';
import {
  DT_GNU_HASH,
  DT_HASH,
  DT_VERDEF,
  DT_VERNEED,
  EM_PPC,
  EM_S390,
  PT_LOAD,
  STB_GLOBAL,
  STT_FUNC,
} from '../src/elf/constants.js';
import { definitionLookups, describeElf, headerOf, indexedDefinitionsOf } from '../src/loader/loadable.js';
import { decodeLoadable, encodeLoadable } from '../src/loader/loadable-codec.js';
import { buildElf, type BuildOptions } from '../test/elf/builder.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Extra seed files besides the defaults. */
  files?: readonly string[];
  /** Only use these seed files (skip the defaults). */
  onlyFiles?: boolean;
  /** Run just this case number (reproduction). */
  onlyCase?: number;
  /** A case slower than this fails (ms). */
  caseTimeLimitMs?: number;
}

export interface FuzzFailure {
  seed: number;
  caseNo: number;
  file: string;
  mutations: string[];
  error: string;
}

export interface FuzzResult {
  cases: number;
  /** Cases where every accessor returned. */
  ok: number;
  reasons: Record<ElfErrorReason, number>;
  failures: FuzzFailure[];
  elapsedMs: number;
  casesPerSecond: number;
  /** The slowest case, to see how far from the time limit the reader stays. */
  slowest: { caseNo: number; ms: number };
  seeds: string[];
}

/** Small real files, preferred because each case copies and parses the whole image. */
export const DEFAULT_SEED_FILES = [
  '/usr/lib/x86_64-linux-gnu/libxshmfence.so.1',
  '/usr/lib/x86_64-linux-gnu/libX11-xcb.so.1',
  '/usr/lib/x86_64-linux-gnu/libutempter.so.0',
  '/usr/lib/x86_64-linux-gnu/libz.so.1',
  '/usr/lib/x86_64-linux-gnu/libjansson.so.4',
  '/usr/bin/true',
  '/usr/bin/env',
];

/** Calls every accessor, as a consumer would. Exported for the tests. */
export function exerciseAll(f: ElfFile): void {
  f.sectionHeaders();
  f.interpreter();
  f.dynamic();
  const symbols = f.dynamicSymbols();
  // Lookups by name walk the (mutated) hash tables: bloom words, buckets and chains.
  const table = f.dynamicSymbolTable();
  table.validate();
  for (const s of symbols.slice(0, 64)) table.named(s.name);
  table.named('pyrelo_absent');
  f.versionDefinitions();
  f.versionNeeds();
  f.abiTag();
  f.x86IsaNeeded();
  f.symbolReferences();
  for (const s of symbols.slice(0, 64)) table.reachesByName(s);
  // The loader's view of the file, and that view through the parse cache's form (what a cached check reads back).
  const object = describeElf(f);
  const decoded = decodeLoadable(headerOf(f), encodeLoadable(object, indexedDefinitionsOf(f)));
  void decoded.definitions;
  for (const r of decoded.requirements.slice(0, 64)) definitionLookups.get(decoded)?.(r.name);
  f.close();
}

// ---- randomness --------------------------------------------------------------------------

type Rng = () => number;

function mulberry32(a: number): Rng {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function caseRng(seed: number, caseNo: number): Rng {
  return mulberry32((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(caseNo + 1, 0xc2b2ae35)) >>> 0);
}

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[int(rng, xs.length)] as T;
}

// ---- seeds and their interesting fields ----------------------------------------------------

interface Field {
  name: string;
  offset: number;
  width: 1 | 2 | 4 | 8;
}

interface Seed {
  name: string;
  bytes: Uint8Array;
  le: boolean;
  /** Fields worth overwriting with boundary values. */
  fields: Field[];
  /** Version chain links (vd_next, vda_next, vn_aux...). */
  links: Field[];
  /** Offsets where a truncation is most telling (table starts and ends). */
  cuts: number[];
}

function describeSeed(name: string, bytes: Uint8Array): Seed {
  const f = ElfFile.fromBuffer(name, bytes);
  const h = f.header;
  const is64 = h.e_ident.class === 64;
  const le = h.e_ident.data === 'lsb';
  const W = is64 ? 8 : 4;
  const fields: Field[] = [];
  const links: Field[] = [];
  const cuts = new Set<number>([0, 4, 5, 6, 15, 16, 17, 51, 52, 63, 64, h.e_phoff, h.e_shoff, bytes.length - 1]);
  const add = (n: string, offset: number, width: Field['width']): void => {
    if (offset + width <= bytes.length) fields.push({ name: n, offset, width });
  };

  // ELF header.
  add('EI_CLASS', 4, 1);
  add('EI_DATA', 5, 1);
  add('e_type', 16, 2);
  add('e_machine', 18, 2);
  add('e_phoff', 24 + W, W as 4 | 8);
  add('e_shoff', 24 + 2 * W, W as 4 | 8);
  const at = 24 + 3 * W;
  add('e_phentsize', at + 6, 2);
  add('e_phnum', at + 8, 2);
  add('e_shentsize', at + 10, 2);
  add('e_shnum', at + 12, 2);
  add('e_shstrndx', at + 14, 2);

  // Program headers.
  const phent = is64 ? 56 : 32;
  f.programHeaders.forEach((p, i) => {
    const o = h.e_phoff + i * phent;
    cuts.add(p.p_offset);
    cuts.add(p.p_offset + p.p_filesz);
    cuts.add(o);
    add('p_type', o, 4);
    if (is64) {
      add('p_offset', o + 8, 8);
      add('p_vaddr', o + 16, 8);
      add('p_filesz', o + 32, 8);
      add('p_align', o + 48, 8);
    } else {
      add('p_offset', o + 4, 4);
      add('p_vaddr', o + 8, 4);
      add('p_filesz', o + 16, 4);
      add('p_align', o + 28, 4);
    }
  });

  // Dynamic entries, and the tables they point to.
  const loads = f.programHeaders.filter((p) => p.p_type === PT_LOAD);
  const toOffset = (vaddr: number): number | null => {
    const p = loads.find((l) => vaddr >= l.p_vaddr && vaddr < l.p_vaddr + l.p_filesz);
    return p === undefined ? null : vaddr - p.p_vaddr + p.p_offset;
  };
  const dynPh = f.programHeaders.find((p) => p.p_type === 2);
  const dyn = f.dynamic();
  if (dynPh !== undefined && dyn !== null) {
    dyn.entries.forEach((e, i) => {
      const o = dynPh.p_offset + i * 2 * W;
      add('d_tag', o, W as 4 | 8);
      add('d_val', o + W, W as 4 | 8);
      const target = toOffset(e.d_val);
      if (target !== null && e.d_val > 0x100) cuts.add(target);
    });
    const u16 = (o: number): number => new DataView(bytes.buffer, bytes.byteOffset).getUint16(o, le);
    const u32 = (o: number): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(o, le);
    const tag = (t: number): number | null => {
      const e = dyn.entries.find((x) => x.d_tag === t);
      return e === undefined ? null : toOffset(e.d_val);
    };
    const hash = tag(DT_HASH);
    if (hash !== null) add('nchain', hash + 4, 4);
    const gnu = tag(DT_GNU_HASH);
    if (gnu !== null) {
      add('nbuckets', gnu, 4);
      add('symoffset', gnu + 4, 4);
      add('bloom_size', gnu + 8, 4);
    }
    // Version chains, walked on the pristine file.
    const walk = (
      start: number | null,
      recSize: number,
      cntAt: number,
      auxAt: number,
      nextAt: number,
      auxNextAt: number,
      names: [string, string, string, string],
    ): void => {
      let o = start;
      for (let i = 0; o !== null && i < 64 && o + recSize <= bytes.length; i++) {
        add(names[0], o + cntAt, 2);
        links.push({ name: names[1], offset: o + auxAt, width: 4 }, { name: names[2], offset: o + nextAt, width: 4 });
        let a = o + u32(o + auxAt);
        for (let j = 0; j < u16(o + cntAt) && j < 64 && a + 8 <= bytes.length; j++) {
          links.push({ name: names[3], offset: a + auxNextAt, width: 4 });
          const n = u32(a + auxNextAt);
          if (n === 0) break;
          a += n;
        }
        const next = u32(o + nextAt);
        o = next === 0 ? null : o + next;
      }
    };
    walk(tag(DT_VERDEF), 20, 6, 12, 16, 4, ['vd_cnt', 'vd_aux', 'vd_next', 'vda_next']);
    walk(tag(DT_VERNEED), 16, 2, 8, 12, 12, ['vn_cnt', 'vn_aux', 'vn_next', 'vna_next']);
  }
  for (const s of f.sectionHeaders()) {
    cuts.add(s.sh_offset);
    cuts.add(s.sh_offset + s.sh_size);
  }
  return { name, bytes, le, fields, links, cuts: [...cuts].filter((c) => c >= 0 && c <= bytes.length) };
}

/** Crafted images for the decoder paths the machine's own files do not reach. */
function craftedSeeds(): [string, Uint8Array][] {
  const base = (cls: 32 | 64, data: 'lsb' | 'msb', machine: number, hash: BuildOptions['hash']): BuildOptions => ({
    class: cls,
    data,
    machine,
    hash,
    interp: '/lib/ld.so.1',
    needed: ['libc.so.6', 'libm.so.6'],
    soname: 'libfuzz.so.1',
    runpath: '$ORIGIN',
    flags: 8,
    flags1: 1,
    symbols: [
      { name: 'puts', info: (STB_GLOBAL << 4) | STT_FUNC, version: 3 },
      { name: 'f', info: (STB_GLOBAL << 4) | STT_FUNC, shndx: 7, value: 0x1000, size: 8, version: 2 },
      { name: 'g', info: (STB_GLOBAL << 4) | STT_FUNC, shndx: 7, value: 0x1010, size: 8, version: 0x8002 },
    ],
    verdefs: [
      { flags: 1, ndx: 1, names: ['libfuzz.so.1'] },
      { flags: 0, ndx: 2, names: ['FUZZ_1', 'FUZZ_0'] },
    ],
    verneeds: [
      {
        file: 'libc.so.6',
        aux: [
          { name: 'GLIBC_2.0', flags: 0, other: 3 },
          { name: 'GLIBC_2.1', flags: 2, other: 4 },
        ],
      },
    ],
    relocs: [
      { sym: 2, type: 1 },
      { sym: 1, type: 6 },
    ],
    pltRelocs: [
      { sym: 1, type: 7 },
      { sym: 3, type: 7 },
    ],
  });
  return [
    ['crafted-elf32-lsb', buildElf({ ...base(32, 'lsb', 3, 'sysv'), versionCounts: false }).bytes],
    ['crafted-elf32-msb', buildElf(base(32, 'msb', EM_PPC, 'gnu')).bytes],
    ['crafted-elf64-msb', buildElf(base(64, 'msb', EM_S390, 'gnu')).bytes],
  ];
}

function loadSeeds(options: FuzzOptions): Seed[] {
  const paths = [...(options.onlyFiles === true ? [] : DEFAULT_SEED_FILES), ...(options.files ?? [])];
  const seeds: Seed[] = [];
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const real = realpathSync(p);
    seeds.push(describeSeed(real, readFileSync(real)));
  }
  if (options.onlyFiles !== true) for (const [n, b] of craftedSeeds()) seeds.push(describeSeed(n, b));
  if (seeds.length === 0) throw new Error('fuzz-elf: no seed files found');
  return seeds;
}

// ---- mutations ---------------------------------------------------------------------------

function write(buf: Uint8Array, f: Field, value: bigint, le: boolean): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const mask = (1n << BigInt(f.width * 8)) - 1n;
  const v = value & mask;
  switch (f.width) {
    case 1:
      dv.setUint8(f.offset, Number(v));
      break;
    case 2:
      dv.setUint16(f.offset, Number(v), le);
      break;
    case 4:
      dv.setUint32(f.offset, Number(v), le);
      break;
    case 8:
      dv.setBigUint64(f.offset, v, le);
      break;
  }
}

function read(buf: Uint8Array, f: Field, le: boolean): bigint {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (f.width) {
    case 1:
      return BigInt(dv.getUint8(f.offset));
    case 2:
      return BigInt(dv.getUint16(f.offset, le));
    case 4:
      return BigInt(dv.getUint32(f.offset, le));
    case 8:
      return dv.getBigUint64(f.offset, le);
  }
}

function boundary(rng: Rng, orig: bigint, size: number): bigint {
  const s = BigInt(size);
  const choices = [
    0n,
    1n,
    2n,
    0x7fn,
    0xffn,
    0xffffn,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0xfffffff0n,
    0x100000000n,
    s,
    s - 1n,
    s + 1n,
    s / 2n,
    orig + 1n,
    orig - 1n,
    orig * 2n,
    orig + 8n,
    orig - 8n,
    0x1fffffffffffffn,
    0x20000000000000n,
    0x7fffffffffffffffn,
    0xffffffffffffffffn,
    BigInt(int(rng, size + 1)),
  ];
  return pick(rng, choices);
}

/** Applies 1..3 mutations to `buf` in place; returns the length to keep and what was done. */
function mutate(rng: Rng, seed: Seed, buf: Uint8Array): { length: number; what: string[] } {
  const what: string[] = [];
  let length = buf.length;
  const n = 1 + int(rng, 3);
  for (let k = 0; k < n; k++) {
    const r = rng();
    if (r < 0.2) {
      const flips = 1 + int(rng, 8);
      for (let i = 0; i < flips; i++) {
        const o = int(rng, buf.length);
        buf[o] = (buf[o] ?? 0) ^ (1 << int(rng, 8));
      }
      what.push(`flip x${flips}`);
    } else if (r < 0.3) {
      const o = int(rng, buf.length);
      const len = Math.min(1 + int(rng, 16), buf.length - o);
      for (let i = 0; i < len; i++) buf[o + i] = int(rng, 256);
      what.push(`random bytes @${o}+${len}`);
    } else if (r < 0.65 && seed.fields.length > 0) {
      const f = pick(rng, seed.fields);
      const v = boundary(rng, read(buf, f, seed.le), buf.length);
      write(buf, f, v, seed.le);
      what.push(`${f.name}@${f.offset}=0x${v.toString(16)}`);
    } else if (r < 0.85 && seed.links.length > 0) {
      const f = pick(rng, seed.links);
      const orig = read(buf, f, seed.le);
      const v = pick(rng, [
        0n,
        1n,
        4n,
        8n,
        16n,
        20n,
        orig + 4n,
        orig - 4n,
        orig * 2n,
        -16n,
        -20n,
        -8n,
        0xffffffffn,
        BigInt(int(rng, 256)),
      ]);
      write(buf, f, v, seed.le);
      what.push(`${f.name}@${f.offset}=0x${(v & 0xffffffffn).toString(16)}`);
    } else {
      const c = rng() < 0.7 ? pick(rng, seed.cuts) + int(rng, 17) - 8 : int(rng, buf.length);
      length = Math.max(0, Math.min(length, c));
      what.push(`truncate ${length}`);
    }
  }
  return { length, what };
}

// ---- the loop ----------------------------------------------------------------------------

export function fuzz(options: FuzzOptions): FuzzResult {
  const seeds = loadSeeds(options);
  const limit = options.caseTimeLimitMs ?? 1000;
  const reasons: Record<ElfErrorReason, number> = {
    'too-short': 0,
    'bad-magic': 0,
    'bad-class': 0,
    'bad-data': 0,
    'out-of-range': 0,
    'too-large': 0,
    cycle: 0,
    malformed: 0,
  };
  const failures: FuzzFailure[] = [];
  const scratch = seeds.map((s) => new Uint8Array(s.bytes.length));
  let ok = 0;
  let ran = 0;
  const slowest = { caseNo: -1, ms: 0 };
  const first = options.onlyCase ?? 0;
  const last = options.onlyCase !== undefined ? options.onlyCase + 1 : options.cases;
  const start = performance.now();
  for (let caseNo = first; caseNo < last; caseNo++) {
    const rng = caseRng(options.seed, caseNo);
    const si = int(rng, seeds.length);
    const seed = seeds[si] as Seed;
    const buf = scratch[si] as Uint8Array;
    buf.set(seed.bytes);
    const { length, what } = mutate(rng, seed, buf);
    const t0 = performance.now();
    let error: string | null = null;
    try {
      exerciseAll(ElfFile.fromBuffer(seed.name, buf.subarray(0, length)));
      ok++;
    } catch (e) {
      if (e instanceof ElfFormatError && e.file === seed.name && e.field !== '' && e.reason in reasons) {
        reasons[e.reason]++;
      } else {
        error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
    }
    const dt = performance.now() - t0;
    if (dt > slowest.ms) {
      slowest.ms = dt;
      slowest.caseNo = caseNo;
    }
    if (error === null && dt > limit) error = `took ${dt.toFixed(0)} ms`;
    if (error !== null) failures.push({ seed: options.seed, caseNo, file: seed.name, mutations: what, error });
    ran++;
  }
  const elapsedMs = performance.now() - start;
  return {
    cases: ran,
    ok,
    reasons,
    failures,
    elapsedMs,
    casesPerSecond: ran / (elapsedMs / 1000),
    slowest,
    seeds: seeds.map((s) => s.name),
  };
}

// ---- CLI ---------------------------------------------------------------------------------

function main(argv: string[]): number {
  const options: FuzzOptions = { cases: 100_000, seed: 1, files: [] };
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const val = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--cases') options.cases = val();
    else if (a === '--seed') options.seed = val();
    else if (a === '--case') options.onlyCase = val();
    else if (a === '--only-files') options.onlyFiles = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: fuzz-elf [--cases N] [--seed S] [--case N] [--only-files] [ELF files...]');
      return 0;
    } else files.push(a);
  }
  options.files = files;
  const r = fuzz(options);
  console.log(`seeds: ${r.seeds.join(', ')}`);
  console.log(`${r.cases} cases in ${(r.elapsedMs / 1000).toFixed(1)} s: ${Math.round(r.casesPerSecond)} cases/s`);
  console.log(`slowest case: #${r.slowest.caseNo}, ${r.slowest.ms.toFixed(1)} ms`);
  console.log(`parsed cleanly: ${r.ok}`);
  for (const [reason, n] of Object.entries(r.reasons)) console.log(`  ElfFormatError ${reason}: ${n}`);
  for (const f of r.failures.slice(0, 50)) {
    console.log(`FAIL --seed ${f.seed} --case ${f.caseNo} (${f.file}; ${f.mutations.join('; ')}): ${f.error}`);
  }
  console.log(`${r.failures.length === 0 ? 'OK' : `${r.failures.length} FAILURES`}`);
  return r.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
