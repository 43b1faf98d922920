// The reader on crafted images: every class and byte order, the symbol-count fallbacks, and
// precise corruptions (cycles, out-of-range links, oversize counts) with the error each gives.
// The well-formed images are also read by readelf (which reads every machine and byte order) and
// the reader must agree with it, not only with what the builder meant to write.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DF_1_NODELETE,
  DF_1_NOW,
  DF_BIND_NOW,
  DF_ORIGIN,
  DT_GNU_HASH,
  DT_HASH,
  DT_JMPREL,
  DT_NULL,
  DT_PLTREL,
  DT_STRSZ,
  DT_STRTAB,
  DT_SYMENT,
  DT_SYMTAB,
  DT_VERDEFNUM,
  DT_VERNEEDNUM,
  EM_386,
  EM_PPC,
  EM_PPC64,
  EM_S390,
  EM_X86_64,
  ElfFile,
  ElfFormatError,
  R_386_JMP_SLOT,
  R_X86_64_JUMP_SLOT,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
  STT_OBJECT,
  VER_FLG_BASE,
  VER_FLG_WEAK,
  type ElfErrorReason,
} from '../../src/elf/index.js';
import { BASE, buildElf, sstrip, type BuildOptions, type Built } from './builder.js';
import { compareWithReadelf, haveReadelf } from './readelf.js';

const noReadelf = !haveReadelf() && 'readelf not installed';
const scratch = mkdtempSync(join(tmpdir(), 'pyrelo-crafted-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Writes `bytes` to a file and holds the reader against readelf on it: through the dynamic segment
 * as the loader reads it (readelf -D) when the image has no section headers, else by its sections.
 */
function agreesWithReadelf(name: string, bytes: Uint8Array): void {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  const sections = ElfFile.fromBuffer(name, bytes).sectionHeaders().length > 0;
  compareWithReadelf(path, sections ? 'sections' : 'dynamic');
}

function options(cls: 32 | 64, data: 'lsb' | 'msb', machine: number, hash: BuildOptions['hash']): BuildOptions {
  const jump = cls === 64 ? R_X86_64_JUMP_SLOT : R_386_JMP_SLOT;
  return {
    class: cls,
    data,
    machine,
    hash,
    interp: '/lib/ld-test.so.1',
    needed: ['libc.so.6', 'libm.so.6'],
    soname: 'libt.so.1',
    rpath: '/opt/r',
    runpath: '$ORIGIN/../lib',
    flags: DF_ORIGIN | DF_BIND_NOW,
    flags1: DF_1_NOW | DF_1_NODELETE,
    symbols: [
      { name: 'puts', info: (STB_GLOBAL << 4) | STT_FUNC, version: 3 },
      { name: 'defined', info: (STB_GLOBAL << 4) | STT_FUNC, shndx: 7, value: 0x1234, size: 16, version: 2 },
      { name: 'old', info: (STB_WEAK << 4) | STT_FUNC, shndx: 7, value: 0x2000, size: 4, other: 2, version: 0x8002 },
      { name: 'environ', info: (STB_GLOBAL << 4) | STT_OBJECT, version: 4 },
    ],
    verdefs: [
      { flags: VER_FLG_BASE, ndx: 1, names: ['libt.so.1'] },
      { flags: 0, ndx: 2, names: ['T_2', 'T_1'] },
    ],
    verneeds: [
      {
        file: 'libc.so.6',
        aux: [
          { name: 'GLIBC_2.0', flags: 0, other: 3 },
          { name: 'GLIBC_2.1', flags: VER_FLG_WEAK, other: 4 },
        ],
      },
      { file: 'libm.so.6', aux: [{ name: 'GLIBC_2.2', flags: 0, other: 5 }] },
    ],
    // puts: PLT only; defined: eager and PLT; environ: eager only.
    relocs: [
      { sym: 4, type: 1 },
      { sym: 2, type: 1 },
    ],
    pltRelocs: [
      { sym: 1, type: jump },
      { sym: 2, type: jump },
    ],
    abiTag: [0, 3, 2, 0],
  };
}

function expectElfError(fn: () => unknown, reason: ElfErrorReason, field?: string): ElfFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ElfFormatError, `expected ElfFormatError(${reason}), got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  if (field !== undefined) assert.equal(caught.field, field, caught.message);
  assert.equal(caught.file, 'crafted');
  assert.ok(caught.message.startsWith(`crafted: ${caught.field}: `));
  return caught;
}

/** Byte-level editing of a built image in its own class and byte order. */
class Patch {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  constructor(
    built: Built,
    readonly cls: 32 | 64,
    readonly le: boolean,
    private readonly at = built.at,
  ) {
    this.bytes = Uint8Array.from(built.bytes);
    this.dv = new DataView(this.bytes.buffer);
  }
  u16(off: number, v: number): this {
    this.dv.setUint16(off, v, this.le);
    return this;
  }
  u32(off: number, v: number): this {
    this.dv.setUint32(off, v, this.le);
    return this;
  }
  word(off: number, v: bigint): this {
    if (this.cls === 64) this.dv.setBigUint64(off, v, this.le);
    else this.dv.setUint32(off, Number(v), this.le);
    return this;
  }
  /** Rewrites the value of dynamic tag `tag` (or the tag itself with `newTag`). */
  dyn(tag: number, value: bigint, newTag?: number): this {
    const W = this.cls === 64 ? 8 : 4;
    for (let o = this.at.dynamic; ; o += 2 * W) {
      const t = this.cls === 64 ? Number(this.dv.getBigInt64(o, this.le)) : this.dv.getInt32(o, this.le);
      if (t === tag) {
        this.word(o + W, value);
        if (newTag !== undefined) this.word(o, BigInt(newTag));
        return this;
      }
      if (t === DT_NULL) throw new Error(`tag ${tag} not in the crafted image`);
    }
  }
  file(): ElfFile {
    return ElfFile.fromBuffer('crafted', this.bytes);
  }
}

const VARIANTS = [
  { cls: 32, data: 'lsb', machine: EM_386 },
  { cls: 32, data: 'msb', machine: EM_PPC },
  { cls: 64, data: 'lsb', machine: EM_X86_64 },
  { cls: 64, data: 'msb', machine: EM_PPC64 },
] as const;

function variantOptions(v: (typeof VARIANTS)[number], hash: BuildOptions['hash']): BuildOptions {
  const o = options(v.cls, v.data, v.machine, hash);
  if (v.machine !== EM_X86_64 && v.machine !== EM_386) {
    // Use the machine's own JUMP_SLOT number (21 on both PowerPCs).
    o.pltRelocs = [
      { sym: 1, type: 21 },
      { sym: 2, type: 21 },
    ];
  }
  return o;
}

describe('crafted images in every class and byte order', () => {
  for (const v of VARIANTS) {
    for (const hash of ['sysv', 'gnu'] as const) {
      it(
        `ELF${v.cls} ${v.data} (${hash} hash) reads as readelf reads it, without and with section headers`,
        { skip: noReadelf },
        () => {
          const o = variantOptions(v, hash);
          const name = `elf${v.cls}-${v.data}-${hash}`;
          agreesWithReadelf(name, buildElf(o).bytes);
          agreesWithReadelf(`${name}-sections`, buildElf({ ...o, sectionHeaders: 'full' }).bytes);
        },
      );

      it(`ELF${v.cls} ${v.data} (${hash} hash)`, () => {
        const o = variantOptions(v, hash);
        const f = ElfFile.fromBuffer('crafted', buildElf(o).bytes);
        assert.equal(f.header.e_ident.class, v.cls);
        assert.equal(f.header.e_ident.data, v.data);
        assert.equal(f.header.e_machine, v.machine);
        assert.equal(f.interpreter(), '/lib/ld-test.so.1');
        const dyn = f.dynamic();
        assert.ok(dyn !== null);
        assert.deepEqual(dyn.needed, ['libc.so.6', 'libm.so.6']);
        assert.equal(dyn.soname, 'libt.so.1');
        assert.equal(dyn.rpath, '/opt/r');
        assert.equal(dyn.runpath, '$ORIGIN/../lib');
        assert.equal(dyn.flags, DF_ORIGIN | DF_BIND_NOW);
        assert.equal(dyn.flags1, DF_1_NOW | DF_1_NODELETE);
        assert.deepEqual(dyn.entries.find((e) => e.d_tag === DT_STRTAB)?.d_val !== undefined, true);

        const syms = f.dynamicSymbols();
        assert.deepEqual(
          syms.map((s) => s.name),
          ['', 'puts', 'defined', 'old', 'environ'],
        );
        assert.deepEqual(
          syms.map((s) => s.index),
          [0, 1, 2, 3, 4],
        );
        const defined = syms[2];
        assert.ok(defined !== undefined);
        assert.equal(defined.st_value, 0x1234);
        assert.equal(defined.st_size, 16);
        assert.equal(defined.st_shndx, 7);
        assert.equal(defined.binding, STB_GLOBAL);
        assert.equal(defined.type, STT_FUNC);
        assert.deepEqual([defined.versionIndex, defined.versionHidden], [2, false]);
        const old = syms[3];
        assert.deepEqual(
          [old?.binding, old?.visibility, old?.versionIndex, old?.versionHidden],
          [STB_WEAK, 2, 2, true],
        );
        assert.deepEqual([syms[0]?.versionIndex, syms[1]?.versionIndex], [0, 3]);

        assert.deepEqual(f.versionDefinitions(), [
          { vd_version: 1, vd_flags: VER_FLG_BASE, vd_ndx: 1, vd_cnt: 1, vd_hash: 0, names: ['libt.so.1'] },
          { vd_version: 1, vd_flags: 0, vd_ndx: 2, vd_cnt: 2, vd_hash: 0, names: ['T_2', 'T_1'] },
        ]);
        assert.deepEqual(f.versionNeeds(), [
          {
            vn_version: 1,
            vn_file: 'libc.so.6',
            aux: [
              { vna_hash: 0, vna_flags: 0, vna_other: 3, vna_name: 'GLIBC_2.0' },
              { vna_hash: 0, vna_flags: VER_FLG_WEAK, vna_other: 4, vna_name: 'GLIBC_2.1' },
            ],
          },
          {
            vn_version: 1,
            vn_file: 'libm.so.6',
            aux: [{ vna_hash: 0, vna_flags: 0, vna_other: 5, vna_name: 'GLIBC_2.2' }],
          },
        ]);
        assert.deepEqual(f.abiTag(), { os: 0, major: 3, minor: 2, patch: 0 });
        assert.deepEqual(f.symbolReferences(), [
          { symbolIndex: 1, pltOnly: true },
          { symbolIndex: 2, pltOnly: false },
          { symbolIndex: 4, pltOnly: false },
        ]);
        assert.deepEqual(f.sectionHeaders(), []);
      });
    }
  }

  it('reads s390x ELF64 DT_HASH with 64-bit words', () => {
    // The builder writes 32-bit hash words; rewrite the table as s390x's 8-byte entries.
    const built = buildElf({ ...options(64, 'msb', EM_S390, 'sysv'), pltRelocs: [] });
    const p = new Patch(built, 64, false);
    // nbucket (8 bytes) = 1, nchain (8 bytes) = 5: the second word lands on the old bucket slot.
    p.u32(built.at.hash, 0)
      .u32(built.at.hash + 4, 1)
      .u32(built.at.hash + 8, 0)
      .u32(built.at.hash + 12, 5);
    assert.equal(p.file().dynamicSymbols().length, 5);
  });

  it('reads the s390x image as readelf reads it (its DT_HASH words are 8 bytes there too)', { skip: noReadelf }, () => {
    const built = buildElf({ ...options(64, 'msb', EM_S390, 'sysv'), pltRelocs: [] });
    const p = new Patch(built, 64, false);
    p.u32(built.at.hash, 0)
      .u32(built.at.hash + 4, 1)
      .u32(built.at.hash + 8, 0)
      .u32(built.at.hash + 12, 5);
    agreesWithReadelf('s390x', p.bytes);
  });
});

describe('symbol count fallbacks', () => {
  it('uses the .dynsym section size when there is no hash table, and fails once it is stripped', () => {
    const built = buildElf({ ...options(64, 'lsb', EM_X86_64, 'none'), sectionHeaders: true });
    const f = ElfFile.fromBuffer('crafted', built.bytes);
    assert.deepEqual(
      f.sectionHeaders().map((s) => s.name),
      ['', '.shstrtab', '.dynsym'],
    );
    assert.equal(f.dynamicSymbols().length, 5);
    const stripped = ElfFile.fromBuffer('crafted', sstrip(built.bytes));
    expectElfError(() => stripped.dynamicSymbols(), 'malformed', '.dynsym');
    // Everything that does not need the count still works.
    assert.equal(stripped.versionNeeds().length, 2);
  });

  it('an object with no dynamic section has no symbols', () => {
    const built = buildElf(options(64, 'lsb', EM_X86_64, 'sysv'));
    const p = new Patch(built, 64, true);
    p.u32(built.at.phdrs + 2 * 56, 0); // PT_DYNAMIC -> PT_NULL (phdr 0 is PT_INTERP, 1 PT_LOAD)
    const f = p.file();
    assert.equal(f.dynamic(), null);
    assert.deepEqual(f.dynamicSymbols(), []);
    assert.deepEqual(f.versionNeeds(), []);
    assert.deepEqual(f.symbolReferences(), []);
  });
});

describe('header oddities are exposed, not refused', () => {
  it('keeps odd osabi, EI_VERSION, padding, e_type and e_machine', () => {
    const built = buildElf(options(64, 'lsb', 0xbeef, 'sysv'));
    const p = new Patch(built, 64, true);
    p.bytes[6] = 0;
    p.bytes[7] = 97;
    p.bytes[8] = 5;
    p.bytes[12] = 1;
    p.u16(16, 0xfe00).u32(20, 7);
    const h = p.file().header;
    assert.deepEqual(h.e_ident, { class: 64, data: 'lsb', version: 0, osabi: 97, abiversion: 5, paddingNonZero: true });
    assert.deepEqual([h.e_type, h.e_machine, h.e_version], [0xfe00, 0xbeef, 7]);
  });

  it('refuses what cannot be parsed', () => {
    const bytes = buildElf(options(32, 'lsb', EM_386, 'sysv')).bytes;
    expectElfError(() => ElfFile.fromBuffer('crafted', bytes.subarray(0, 10)), 'too-short', 'e_ident');
    expectElfError(() => ElfFile.fromBuffer('crafted', bytes.subarray(0, 40)), 'too-short', 'e_ehsize');
    const bad = (i: number, v: number) => {
      const b = Uint8Array.from(bytes);
      b[i] = v;
      return b;
    };
    expectElfError(() => ElfFile.fromBuffer('crafted', bad(1, 0x46)), 'bad-magic', 'e_ident');
    expectElfError(() => ElfFile.fromBuffer('crafted', bad(4, 3)), 'bad-class', 'EI_CLASS');
    expectElfError(() => ElfFile.fromBuffer('crafted', bad(5, 0)), 'bad-data', 'EI_DATA');
    expectElfError(() => ElfFile.fromBuffer('crafted', bad(42, 33)), 'malformed', 'e_phentsize');
    const built = buildElf(options(64, 'lsb', EM_X86_64, 'sysv'));
    expectElfError(() => new Patch(built, 64, true).word(32, 0x8000000000000000n).file(), 'too-large', 'e_phoff');
    expectElfError(
      () => new Patch(built, 64, true).word(32, BigInt(built.bytes.length - 8)).file(),
      'out-of-range',
      'e_phoff',
    );
  });
});

describe('corrupt tables raise ElfFormatError naming the field', () => {
  const b64 = buildElf(options(64, 'lsb', EM_X86_64, 'sysv'));
  const b32 = buildElf(options(32, 'lsb', EM_386, 'sysv'));
  const p64 = () => new Patch(b64, 64, true);
  const p32 = () => new Patch(b32, 32, true);

  it('verdef cycle (ELF32 addresses wrap at 2^32)', () => {
    // Second Elf_Verdef's vd_next = -(20 + 8) mod 2^32 points back at the first one.
    const f = p32()
      .u32(b32.at.verdef + 28 + 16, 0x100000000 - 28)
      .dyn(DT_VERDEFNUM, 100n)
      .file();
    expectElfError(() => f.versionDefinitions(), 'cycle', 'vd_next');
  });

  it('vernaux cycle', () => {
    const vn = b32.at.verneed;
    // vn_cnt = 50 and the second Vernaux links back to the first.
    const f = p32()
      .u16(vn + 2, 50)
      .u32(vn + 16 + 16 + 12, 0x100000000 - 16)
      .file();
    expectElfError(() => f.versionNeeds(), 'cycle', 'vna_next');
  });

  it('the counts bound the walk even when a link goes on', () => {
    // DT_VERDEFNUM = 1 although vd_next of the first record is not 0.
    assert.equal(p32().dyn(DT_VERDEFNUM, 1n).file().versionDefinitions().length, 1);
    assert.equal(p64().dyn(DT_VERNEEDNUM, 1n).file().versionNeeds().length, 1);
  });

  it('links out of the segment', () => {
    expectElfError(
      () =>
        p64()
          .u32(b64.at.verdef + 16, 0x7fffffff)
          .file()
          .versionDefinitions(),
      'out-of-range',
      'vd_next',
    );
    expectElfError(
      () =>
        p64()
          .u32(b64.at.verdef + 12, 0xfffffff0)
          .file()
          .versionDefinitions(),
      'out-of-range',
      'vd_aux',
    );
    expectElfError(
      () =>
        p64()
          .u32(b64.at.verneed + 8, 0x10000000)
          .file()
          .versionNeeds(),
      'out-of-range',
      'vn_aux',
    );
    expectElfError(
      () =>
        p64()
          .u32(b64.at.verneed + 16 + 12, 0x10000000)
          .file()
          .versionNeeds(),
      'out-of-range',
      'vna_next',
    );
  });

  it('strings: out of the table, or not terminated', () => {
    expectElfError(
      () =>
        p64()
          .u32(b64.at.verneed + 4, 0xffffff)
          .file()
          .versionNeeds(),
      'out-of-range',
      'vn_file',
    );
    // Cut DT_STRSZ by one: the last string (added last: a version name) loses its NUL.
    const strsz =
      p64()
        .file()
        .dynamic()
        ?.entries.find((e) => e.d_tag === DT_STRSZ)?.d_val ?? 0;
    const g = p64()
      .dyn(DT_STRSZ, BigInt(strsz - 1))
      .file();
    assert.deepEqual(g.dynamic()?.needed, ['libc.so.6', 'libm.so.6']);
    expectElfError(() => g.versionNeeds(), 'malformed', 'vna_name');
  });

  it('tables outside every PT_LOAD', () => {
    expectElfError(() => p64().dyn(DT_STRTAB, 0x10n).file().dynamic(), 'out-of-range', 'DT_STRTAB');
    expectElfError(() => p64().dyn(DT_STRSZ, 0x7fffffffn).file().dynamic(), 'out-of-range', 'DT_STRSZ');
    expectElfError(
      () =>
        p64()
          .dyn(DT_HASH, BigInt(BASE - 8))
          .file()
          .dynamicSymbols(),
      'out-of-range',
      'DT_HASH',
    );
  });

  it('huge counts are refused before allocating', () => {
    expectElfError(
      () =>
        p64()
          .u32(b64.at.hash + 4, 0xffffffff)
          .file()
          .dynamicSymbols(),
      'out-of-range',
      '.dynsym',
    );
    expectElfError(
      () =>
        p32()
          .u32(b32.at.hash + 4, 100000)
          .file()
          .dynamicSymbols(),
      'out-of-range',
      '.dynsym',
    );
    expectElfError(
      () =>
        p32()
          .dyn(DT_SYMTAB, BigInt(BASE + b32.bytes.length - 20))
          .file()
          .dynamicSymbols(),
      'out-of-range',
      'DT_SYMTAB',
    );
    const gnu = buildElf(options(64, 'msb', EM_PPC64, 'gnu'));
    const g = new Patch(gnu, 64, false);
    expectElfError(() => g.u32(gnu.at.hash, 0xffffffff).file().dynamicSymbols(), 'out-of-range', 'DT_GNU_HASH');
    const g2 = new Patch(gnu, 64, false);
    // A bucket naming a symbol whose chain entry lies past the end of the segment.
    const bucket0 = gnu.at.hash + 16 + 8;
    expectElfError(() => g2.u32(bucket0, 0x7fffffff).file().dynamicSymbols(), 'out-of-range', 'DT_GNU_HASH');
    expectElfError(() => p64().dyn(DT_SYMENT, 23n).file().dynamicSymbols(), 'malformed', 'DT_SYMENT');
  });

  it('64-bit values above 2^53', () => {
    const sym2 = b64.at.dynsym + 2 * 24;
    expectElfError(
      () =>
        new Patch(b64, 64, true)
          .word(sym2 + 8, 1n << 60n)
          .file()
          .dynamicSymbols(),
      'too-large',
      'st_value',
    );
    expectElfError(
      () =>
        p64()
          .dyn(DT_HASH, 1n << 62n)
          .file()
          .dynamic(),
      'too-large',
      'd_val',
    );
  });

  it('relocations', () => {
    expectElfError(() => p64().dyn(DT_PLTREL, 99n).file().symbolReferences(), 'malformed', 'DT_PLTREL');
    const rel2 = b64.at.rela + 24;
    expectElfError(
      () =>
        new Patch(b64, 64, true)
          .u32(rel2 + 12, 1000)
          .file()
          .symbolReferences(),
      'out-of-range',
      'r_info',
    );
    expectElfError(
      () =>
        p64()
          .dyn(DT_JMPREL, BigInt(BASE + b64.bytes.length - 8))
          .file()
          .symbolReferences(),
      'out-of-range',
      'DT_JMPREL',
    );
    // A JMPREL whose symbols are all PLT-only, and a GNU-hash-only file sized from the chain.
    const f = ElfFile.fromBuffer('crafted', buildElf({ ...options(64, 'lsb', EM_X86_64, 'gnu'), relocs: [] }).bytes);
    assert.deepEqual(f.symbolReferences(), [
      { symbolIndex: 1, pltOnly: true },
      { symbolIndex: 2, pltOnly: true },
    ]);
    assert.equal(f.dynamicSymbols().length, 5);
    assert.ok(f.dynamic()?.entries.some((e) => e.d_tag === DT_GNU_HASH && e.d_val > 0));
    assert.ok(f.dynamic()?.entries.some((e) => e.d_tag === DT_JMPREL));
  });

  it('a malformed note is skipped as glibc skips it', () => {
    const f = p64().u32(b64.at.note, 0xfffffff0).file();
    assert.equal(f.abiTag(), null);
  });
});
