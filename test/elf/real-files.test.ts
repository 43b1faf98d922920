// The reader against readelf on this machine's real files, and stripped (sstrip-ed) copies of a
// library built here against the original.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ElfFile, ElfFormatError, isElf } from '../../src/elf/index.js';
import { sstrip } from './builder.js';
import { compareWithReadelf, haveReadelf } from './readelf.js';

const LIBDIR = '/usr/lib/x86_64-linux-gnu';
const noReadelf = !haveReadelf();

/** Real ELF files of this machine, regular files only, sorted. */
function elfFilesIn(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    try {
      const st = lstatSync(p);
      if (st.isFile() && st.size > 0 && isElf(p)) out.push(p);
    } catch {
      // unreadable: not our concern here
    }
  }
  return out;
}

function sample(): string[] {
  const fixed = [
    `${LIBDIR}/libc.so.6`,
    `${LIBDIR}/libm.so.6`,
    `${LIBDIR}/libz.so.1`,
    `${LIBDIR}/ld-linux-x86-64.so.2`,
    `${LIBDIR}/libstdc++.so.6`,
    '/usr/bin/true',
    '/usr/bin/ls',
    '/usr/bin/env',
    '/usr/bin/readelf',
  ];
  const files = fixed
    .map((p) => {
      try {
        return realpathSync(p);
      } catch {
        return null;
      }
    })
    .filter((p): p is string => p !== null);
  const all = elfFilesIn(LIBDIR).filter((p) => lstatSync(p).size < 8 * 1024 * 1024);
  const step = Math.max(1, Math.floor(all.length / 24));
  for (let i = 0; i < all.length; i += step) files.push(all[i] as string);
  return [...new Set(files)];
}

describe('real files against readelf', { skip: noReadelf && 'readelf not installed' }, () => {
  for (const path of sample()) {
    it(path, () => compareWithReadelf(path));
  }

  it('an ELF32 program built with gcc -m32', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pyrelo-elf32-'));
    try {
      writeFileSync(join(dir, 'a.c'), '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n');
      try {
        execFileSync('gcc', ['-m32', '-o', join(dir, 'a'), join(dir, 'a.c')], { stdio: 'ignore' });
      } catch {
        t.skip('gcc -m32 unavailable (gcc-multilib)');
        return;
      }
      compareWithReadelf(join(dir, 'a'));
      assert.equal(ElfFile.fromBuffer('a', readFileSync(join(dir, 'a'))).header.e_ident.class, 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every ELF file of the library directory', () => {
  it('reads dynamic info, symbols and versions of all of them', (t) => {
    const files = elfFilesIn(LIBDIR);
    const start = process.hrtime.bigint();
    let symbols = 0;
    for (const p of files) {
      const f = ElfFile.open(p);
      try {
        f.dynamic();
        symbols += f.dynamicSymbols().length;
        f.versionDefinitions();
        f.versionNeeds();
        f.symbolReferences();
        f.abiTag();
      } catch (e) {
        assert.fail(`${p}: ${String(e)}`);
      } finally {
        f.close();
      }
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    t.diagnostic(`${files.length} files, ${symbols} dynamic symbols in ${ms.toFixed(0)} ms`);
    assert.ok(files.length > 0);
  });
});

describe('a library stripped of its section headers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-sstrip-'));
  const src = join(dir, 'lib.c');
  const map = join(dir, 'lib.map');
  writeFileSync(
    src,
    [
      '#include <stdio.h>',
      '#include <string.h>',
      '#include <math.h>',
      'int answer_v1(void) { return 41; }',
      'int answer_v2(void) { return 42; }',
      '__asm__(".symver answer_v1,answer@LIBX_1.0");',
      '__asm__(".symver answer_v2,answer@@LIBX_2.0");',
      'int shout(const char *s) { return printf("%s %zu\\n", s, strlen(s)); }',
      'double root(double x) { return sqrt(x); }',
      'int counter = 3;',
    ].join('\n'),
  );
  writeFileSync(
    map,
    'LIBX_1.0 { global: shout; root; counter; answer; local: *; };\nLIBX_2.0 { global: answer; } LIBX_1.0;\n',
  );
  let gcc = true;
  for (const hash of ['gnu', 'sysv', 'both']) {
    const out = join(dir, `libx-${hash}.so`);
    try {
      execFileSync(
        'gcc',
        [
          '-shared',
          '-fPIC',
          '-O1',
          '-o',
          out,
          src,
          '-lm',
          `-Wl,--version-script=${map}`,
          `-Wl,--hash-style=${hash}`,
          '-Wl,-soname,libx.so.1',
          '-Wl,-rpath,$ORIGIN/../lib',
          '-Wl,--enable-new-dtags',
          '-Wl,-z,nodelete',
        ],
        { stdio: 'ignore' },
      );
    } catch {
      gcc = false;
    }
  }
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const hash of ['gnu', 'sysv', 'both']) {
    it(
      `gives the same results without section headers (--hash-style=${hash})`,
      { skip: !gcc && 'gcc unavailable' },
      () => {
        const path = join(dir, `libx-${hash}.so`);
        const bytes = readFileSync(path);
        const full = ElfFile.open(path);
        const stripped = ElfFile.fromBuffer('stripped', sstrip(bytes));
        try {
          assert.ok(full.sectionHeaders().length > 0);
          assert.deepEqual(stripped.sectionHeaders(), []);
          for (const f of [full, stripped]) {
            const dyn = f.dynamic();
            assert.equal(dyn?.soname, 'libx.so.1');
            assert.equal(dyn?.runpath, '$ORIGIN/../lib');
            assert.deepEqual(
              f.versionDefinitions().map((v) => v.names),
              [['libx.so.1'], ['LIBX_1.0'], ['LIBX_2.0', 'LIBX_1.0']],
            );
            const answer = f.dynamicSymbols().filter((s) => s.name === 'answer');
            assert.deepEqual(answer.map((s) => [s.versionIndex, s.versionHidden]).sort(), [
              [2, true],
              [3, false],
            ]);
          }
          assert.deepEqual(stripped.dynamic(), full.dynamic());
          assert.deepEqual(stripped.dynamicSymbols(), full.dynamicSymbols());
          assert.deepEqual(stripped.versionDefinitions(), full.versionDefinitions());
          assert.deepEqual(stripped.versionNeeds(), full.versionNeeds());
          assert.deepEqual(stripped.symbolReferences(), full.symbolReferences());
          assert.deepEqual(stripped.abiTag(), full.abiTag());
          assert.equal(stripped.interpreter(), full.interpreter());
          if (!noReadelf) compareWithReadelf(path);
        } finally {
          full.close();
        }
      },
    );
  }
});

describe('open() and isElf() on odd paths', () => {
  it('propagates filesystem errors unchanged', () => {
    assert.throws(
      () => ElfFile.open('/nonexistent/libnope.so'),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    );
    assert.throws(
      () => ElfFile.open('/usr'),
      (e: NodeJS.ErrnoException) => e.code === 'EISDIR',
    );
    assert.throws(
      () => isElf('/nonexistent'),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    );
  });

  it('refuses non-ELF files with ElfFormatError', () => {
    assert.equal(isElf('/etc/passwd'), false);
    assert.equal(isElf('/usr/bin/true'), true);
    assert.throws(
      () => ElfFile.open('/etc/passwd'),
      (e: unknown) => e instanceof ElfFormatError && e.reason === 'bad-magic' && e.file === '/etc/passwd',
    );
    assert.throws(
      () => ElfFile.open('/dev/null'),
      (e: unknown) => e instanceof ElfFormatError && e.reason === 'too-short',
    );
  });

  it('close() is idempotent and memoized results survive it', () => {
    const f = ElfFile.open('/usr/bin/true');
    const needed = f.dynamic()?.needed;
    f.close();
    f.close();
    assert.deepEqual(f.dynamic()?.needed, needed);
  });
});
