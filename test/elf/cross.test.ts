// Real big-endian objects, linked by the GNU cross linkers (Debian's binutils-s390x-linux-gnu and
// binutils-powerpc-linux-gnu) when they are installed, checked against readelf: ELF64 MSB with
// s390x's 64-bit DT_HASH words, and ELF32 MSB. Skipped when the cross binutils are absent; the
// crafted big-endian images of crafted.test.ts always run.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile, EM_PPC, EM_S390 } from '../../src/elf/index.js';
import { compareWithReadelf, haveReadelf } from './readelf.js';

interface Target {
  prefix: string;
  machine: number;
  cls: 32 | 64;
  dep: string;
  main: string;
}

const TARGETS: Target[] = [
  {
    prefix: 's390x-linux-gnu',
    machine: EM_S390,
    cls: 64,
    dep:
      '.text\n.globl dep_fn\n.type dep_fn,@function\ndep_fn:\n br %r14\n.size dep_fn,.-dep_fn\n' +
      '.data\n.globl dep_var\n.type dep_var,@object\ndep_var:\n .quad 7\n.size dep_var,8\n',
    main:
      '.text\n.globl main_fn\n.type main_fn,@function\nmain_fn:\n brasl %r14,dep_fn@PLT\n br %r14\n.size ' +
      'main_fn,.-main_fn\n' +
      '.data\n.globl ptr\nptr:\n .quad dep_var\n',
  },
  {
    prefix: 'powerpc-linux-gnu',
    machine: EM_PPC,
    cls: 32,
    dep:
      '.text\n.globl dep_fn\n.type dep_fn,@function\ndep_fn:\n blr\n.size dep_fn,.-dep_fn\n' +
      '.data\n.globl dep_var\n.type dep_var,@object\ndep_var:\n .long 7\n.size dep_var,4\n',
    main:
      '.text\n.globl main_fn\n.type main_fn,@function\nmain_fn:\n bl dep_fn@plt\n blr\n.size main_fn,.-main_fn\n' +
      '.data\n.globl ptr\nptr:\n .long dep_var\n',
  },
];

function have(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('big-endian objects from the cross linkers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-cross-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of TARGETS) {
    for (const hash of ['sysv', 'gnu', 'both']) {
      const skip = !haveReadelf()
        ? 'readelf not installed'
        : !have(`${t.prefix}-ld`)
          ? `${t.prefix} binutils not installed`
          : false;
      it(`${t.prefix} (--hash-style=${hash})`, { skip }, () => {
        const x = (tool: string, args: string[]) =>
          execFileSync(`${t.prefix}-${tool}`, args, { cwd: dir, stdio: 'ignore' });
        const tag = `${t.prefix}-${hash}`;
        writeFileSync(join(dir, `${tag}-dep.s`), t.dep);
        writeFileSync(join(dir, `${tag}-main.s`), t.main);
        writeFileSync(join(dir, 'dep.map'), 'DEP_1 { global: dep_fn; dep_var; local: *; };\n');
        writeFileSync(join(dir, 'main.map'), 'MAIN_1 { global: main_fn; ptr; local: *; };\n');
        x('as', ['-o', `${tag}-dep.o`, `${tag}-dep.s`]);
        x('ld', [
          '-shared',
          '-soname',
          'libdep.so.1',
          '--version-script',
          'dep.map',
          '-o',
          `lib${tag}-dep.so`,
          `${tag}-dep.o`,
        ]);
        x('as', ['-o', `${tag}-main.o`, `${tag}-main.s`]);
        x('ld', [
          '-shared',
          '-soname',
          'libmain.so.1',
          `--hash-style=${hash}`,
          '--version-script',
          'main.map',
          '-rpath',
          '$ORIGIN',
          '-o',
          `lib${tag}-main.so`,
          `${tag}-main.o`,
          `lib${tag}-dep.so`,
        ]);
        const path = join(dir, `lib${tag}-main.so`);
        compareWithReadelf(path);
        const f = ElfFile.open(path);
        try {
          assert.equal(f.header.e_ident.data, 'msb');
          assert.equal(f.header.e_ident.class, t.cls);
          assert.equal(f.header.e_machine, t.machine);
          assert.deepEqual(f.dynamic()?.needed, ['libdep.so.1']);
          assert.deepEqual(
            f.versionNeeds().map((v) => [v.vn_file, v.aux.map((a) => a.vna_name)]),
            [['libdep.so.1', ['DEP_1']]],
          );
          const refs = f.symbolReferences();
          const byName = new Map(refs.map((r) => [f.dynamicSymbols()[r.symbolIndex]?.name, r.pltOnly]));
          assert.deepEqual([byName.get('dep_fn'), byName.get('dep_var')], [true, false]);
        } finally {
          f.close();
        }
      });
    }
  }
});
