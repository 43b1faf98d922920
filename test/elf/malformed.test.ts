// Malformed real files: a small library of this machine truncated at every interesting offset
// and with boundary values written over its fields; plus the seeded fuzz sample. Whatever
// happens, only ElfFormatError (naming the file and a field) may escape.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_SEED_FILES, exerciseAll, fuzz } from '../../bench/fuzz-elf.js';
import { ElfFile, ElfFormatError, PT_DYNAMIC } from '../../src/elf/index.js';

const NAME = 'victim';

function smallLibrary(): Uint8Array {
  const p = DEFAULT_SEED_FILES.find((f) => existsSync(f)) ?? '/usr/bin/true';
  return readFileSync(realpathSync(p));
}

/** Runs every accessor; returns the ElfFormatError or null, and fails on anything else. */
function run(bytes: Uint8Array, what: string): ElfFormatError | null {
  try {
    exerciseAll(ElfFile.fromBuffer(NAME, bytes));
    return null;
  } catch (e) {
    if (!(e instanceof ElfFormatError)) assert.fail(`${what}: ${String(e)}`);
    assert.equal(e.file, NAME, what);
    assert.ok(e.field.length > 0, what);
    assert.ok(e.message.startsWith(`${NAME}: ${e.field}: `), what);
    return e;
  }
}

describe('truncations of a real library', () => {
  const bytes = smallLibrary();
  const f = ElfFile.fromBuffer(NAME, bytes);
  const cuts = new Set<number>();
  for (let i = 0; i <= 80; i++) cuts.add(i);
  const edges = (o: number, n: number) => {
    for (const c of [o - 1, o, o + 1, o + n - 1, o + n, o + n + 1]) cuts.add(c);
  };
  const phent = f.header.e_phentsize;
  f.programHeaders.forEach((p, i) => {
    edges(f.header.e_phoff + i * phent, phent);
    edges(p.p_offset, p.p_filesz);
  });
  for (const s of f.sectionHeaders()) edges(s.sh_offset, s.sh_size);
  for (let c = 0; c < bytes.length; c += 97) cuts.add(c);
  const valid = [...cuts].filter((c) => c >= 0 && c < bytes.length).sort((a, b) => a - b);

  it(`raises only ElfFormatError at ${valid.length} cut points`, () => {
    let errors = 0;
    for (const c of valid) if (run(bytes.subarray(0, c), `cut at ${c}`) !== null) errors++;
    assert.ok(errors > valid.length / 2);
  });

  it('names the structure that was cut', () => {
    assert.equal(run(bytes.subarray(0, 0), 'empty')?.reason, 'too-short');
    assert.equal(run(bytes.subarray(0, 15), '15')?.reason, 'too-short');
    assert.equal(run(bytes.subarray(0, 63), '63')?.field, 'e_ehsize');
    const e = run(bytes.subarray(0, f.header.e_phoff + 10), 'in phdrs');
    assert.deepEqual([e?.reason, e?.field], ['out-of-range', 'e_phoff']);
    const dyn = f.programHeaders.find((p) => p.p_type === PT_DYNAMIC);
    assert.ok(dyn !== undefined);
    const cut = ElfFile.fromBuffer(NAME, bytes.subarray(0, dyn.p_offset + 8));
    assert.throws(
      () => cut.dynamic(),
      (x: unknown) => x instanceof ElfFormatError && x.field === 'PT_DYNAMIC' && x.reason === 'out-of-range',
    );
  });
});

describe('boundary values over every header and program header field of a real library', () => {
  it('raises only ElfFormatError', () => {
    const bytes = smallLibrary();
    const f = ElfFile.fromBuffer(NAME, bytes);
    const W = f.header.e_ident.class === 64 ? 8 : 4;
    const end = f.header.e_phoff + f.header.e_phnum * f.header.e_phentsize;
    const values = [
      0n,
      1n,
      0xffffn,
      0x7fffffffn,
      0xffffffffn,
      BigInt(bytes.length),
      BigInt(bytes.length - 1),
      0xffffffffffffffffn,
      1n << 53n,
    ];
    let cases = 0;
    // Every aligned word of the header and of the program header table.
    for (let o = 16; o + 2 <= end; o += 2) {
      for (const v of values) {
        for (const width of [2, 4, W]) {
          if (o % width !== 0 || o + width > bytes.length) continue;
          const m = Uint8Array.from(bytes);
          const dv = new DataView(m.buffer);
          if (width === 2) dv.setUint16(o, Number(v & 0xffffn), true);
          else if (width === 4) dv.setUint32(o, Number(v & 0xffffffffn), true);
          else dv.setBigUint64(o, v & 0xffffffffffffffffn, true);
          run(m, `offset ${o} width ${width} = ${v}`);
          cases++;
        }
      }
    }
    assert.ok(cases > 100);
  });
});

describe('seeded fuzz sample', () => {
  it('3,000 mutants raise only ElfFormatError, each within a second', () => {
    const r = fuzz({ cases: 3000, seed: 20240601 });
    assert.equal(r.cases, 3000);
    assert.deepEqual(r.failures, []);
    // The sample must actually reach deep: clean parses and several kinds of error.
    assert.ok(r.ok > 300, `only ${r.ok} mutants parsed cleanly`);
    assert.ok(Object.values(r.reasons).filter((n) => n > 0).length >= 5, JSON.stringify(r.reasons));
  });
});
