// Lookups by name through DT_GNU_HASH / DT_HASH (hash-tables.ts) against a scan of the whole
// dynamic symbol table: for real libraries of this machine and for libraries gcc links here with
// each hash style, every defined name is found with exactly the symbols the scan finds, in table
// order, and names the library does not define are not found.

import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ElfFile, isElf } from '../../src/elf/index.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

const LIBDIR = '/usr/lib/x86_64-linux-gnu';

/** Every name with a symbol in the table (index 0 aside) must be found as the scan finds it. */
function assertLookupsEqualScan(path: string): number {
  const elf = ElfFile.open(path);
  try {
    const table = elf.dynamicSymbolTable();
    const all = elf.dynamicSymbols();
    const byName = new Map<string, number[]>();
    // Only hashed symbols are reachable through a hash table: the defined ones (st_shndx != 0),
    // which are the only ones a lookup may return (GNU hash leaves undefined symbols out).
    for (const s of all) {
      if (s.index === 0 || s.name === '' || s.st_shndx === 0) continue;
      byName.set(s.name, [...(byName.get(s.name) ?? []), s.index]);
    }
    for (const [name, indexes] of byName) {
      assert.deepEqual(
        table
          .named(name)
          .filter((s) => s.st_shndx !== 0)
          .map((s) => s.index),
        indexes,
        `${path}: ${name}`,
      );
    }
    for (const absent of ['pyrelo_no_such_symbol', 'pyrelo_no_such_symbol_2', '']) {
      assert.deepEqual(
        table.named(absent).filter((s) => s.st_shndx !== 0),
        [],
        `${path}: ${absent}`,
      );
    }
    assert.equal(table.hashed, true, `${path} has a hash table`);
    return byName.size;
  } finally {
    elf.close();
  }
}

function sampleLibraries(): string[] {
  const fixed = ['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libz.so.1']
    .map((n) => join(LIBDIR, n))
    .filter((p) => existsSync(p));
  const all = readdirSync(LIBDIR)
    .sort()
    .map((n) => join(LIBDIR, n))
    .filter((p) => {
      try {
        return lstatSync(p).isFile() && isElf(p);
      } catch {
        return false;
      }
    });
  const step = Math.max(1, Math.floor(all.length / 40));
  const picked = all.filter((_, i) => i % step === 0);
  return [...new Set([...fixed, ...picked])];
}

describe('symbol lookup through the hash tables', () => {
  it('finds what a scan finds in real libraries of this machine', (t) => {
    const libraries = sampleLibraries();
    if (libraries.length === 0) {
      t.skip(`no ELF libraries in ${LIBDIR}`);
      return;
    }
    let names = 0;
    for (const path of libraries) {
      let hashed = false;
      try {
        const elf = ElfFile.open(path);
        hashed = elf.dynamic() !== null && elf.dynamicSymbolTable().hashed;
        elf.close();
      } catch {
        continue;
      }
      if (hashed) names += assertLookupsEqualScan(path);
    }
    assert.ok(names > 1000, `looked up ${names} names`);
  });

  let dir = '';
  before(async () => {
    dir = await makeTempDir('pyrelo-hash-');
  });
  after(async () => {
    await removeDir(dir);
  });

  // Many symbols, so that buckets hold chains and the bloom filter has more than one word.
  const source = Array.from(
    { length: 600 },
    (_, i) => `int sym_${i}(void) { return ${i}; }\nint data_${i} = ${i};\n`,
  ).join('');
  for (const style of ['gnu', 'sysv', 'both'] as const) {
    it(`finds what a scan finds with --hash-style=${style}`, async () => {
      const path = await compileSharedLibrary({
        dir,
        file: `lib${style}.so`,
        source,
        linkArgs: [`-Wl,--hash-style=${style}`],
      });
      assert.ok(assertLookupsEqualScan(path) >= 1200);
    });
  }
});
