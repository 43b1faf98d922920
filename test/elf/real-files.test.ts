// The reader against readelf on this machine's real files, and stripped (sstrip-ed) copies of a
// library built here against the original.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ElfFile, ElfFormatError, isElf, jumpSlotType, SHN_ABS, SHN_COMMON, SHN_UNDEF } from '../../src/elf/index.js';
import { sstrip } from './builder.js';
import {
  haveReadelf, readelfAbiTag, readelfDynamic, readelfDynSyms, readelfInterpreter, readelfSymbolRefs, readelfVersions,
} from './readelf.js';

const LIBDIR = '/usr/lib/x86_64-linux-gnu';
const noReadelf = !haveReadelf();

const TYPES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS', '7', '8', '9', 'IFUNC'];
const BINDS: Record<number, string> = { 0: 'LOCAL', 1: 'GLOBAL', 2: 'WEAK', 10: 'UNIQUE' };
const VIS = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'];
const FLAGS_1 = ['NOW', 'GLOBAL', 'GROUP', 'NODELETE', 'LOADFLTR', 'INITFIRST', 'NOOPEN', 'ORIGIN', 'DIRECT', 'TRANS',
  'INTERPOSE', 'NODEFLIB', 'NODUMP', 'CONFALT', 'ENDFILTEE', 'DISPRELDNE', 'DISPRELPND', 'NODIRECT', 'IGNMULDEF',
  'NOKSYMS', 'NOHDR', 'EDITED', 'NORELOC', 'SYMINTPOSE', 'GLOBAUDIT', 'SINGLETON', 'STUB', 'PIE'];

function flagNames(flags: number, names: readonly string[]): string[] {
  return names.filter((_, bit) => (flags & (2 ** bit)) !== 0);
}

function verFlags(flags: number): string {
  const n = flagNames(flags, ['BASE', 'WEAK']);
  return n.length === 0 ? 'none' : n.join(' | ');
}

function ndxName(shndx: number): string {
  if (shndx === SHN_UNDEF) return 'UND';
  if (shndx === SHN_ABS) return 'ABS';
  if (shndx === SHN_COMMON) return 'COM';
  return String(shndx);
}

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
    `${LIBDIR}/libc.so.6`, `${LIBDIR}/libm.so.6`, `${LIBDIR}/libz.so.1`, `${LIBDIR}/ld-linux-x86-64.so.2`,
    `${LIBDIR}/libstdc++.so.6`, '/usr/bin/true', '/usr/bin/ls', '/usr/bin/env', '/usr/bin/readelf',
  ];
  const files = fixed.map((p) => { try { return realpathSync(p); } catch { return null; } }).filter((p): p is string => p !== null);
  const all = elfFilesIn(LIBDIR).filter((p) => lstatSync(p).size < 8 * 1024 * 1024);
  const step = Math.max(1, Math.floor(all.length / 24));
  for (let i = 0; i < all.length; i += step) files.push(all[i] as string);
  return [...new Set(files)];
}

function compareWithReadelf(path: string): void {
  const f = ElfFile.open(path);
  try {
    assert.equal(f.interpreter(), readelfInterpreter(path), `${path}: interpreter`);
    const tag = f.abiTag();
    assert.equal(tag === null ? null : `${tag.os === 0 ? 'Linux' : tag.os} ${tag.major}.${tag.minor}.${tag.patch}`, readelfAbiTag(path), `${path}: ABI tag`);

    const rd = readelfDynamic(path);
    const dyn = f.dynamic();
    if (rd === null) {
      assert.equal(dyn, null, `${path}: no dynamic section`);
      return;
    }
    assert.ok(dyn !== null);
    assert.equal(dyn.entries.length, rd.count, `${path}: dynamic entries`);
    assert.deepEqual(dyn.needed, rd.needed, `${path}: DT_NEEDED`);
    assert.equal(dyn.soname, rd.soname, `${path}: DT_SONAME`);
    assert.equal(dyn.rpath, rd.rpath, `${path}: DT_RPATH`);
    assert.equal(dyn.runpath, rd.runpath, `${path}: DT_RUNPATH`);
    assert.deepEqual(flagNames(dyn.flags1, FLAGS_1), rd.flags1, `${path}: DT_FLAGS_1`);

    const rv = readelfVersions(path);
    const defs = f.versionDefinitions();
    assert.deepEqual(defs.map((v) => ({ flags: verFlags(v.vd_flags), index: v.vd_ndx, cnt: v.vd_cnt, names: v.names })), rv.defs, `${path}: verdef`);
    const needs = f.versionNeeds();
    assert.deepEqual(needs.map((v) => ({
      version: v.vn_version, file: v.vn_file, cnt: v.aux.length,
      aux: v.aux.map((a) => ({ name: a.vna_name, flags: verFlags(a.vna_flags), other: a.vna_other })),
    })), rv.needs, `${path}: verneed`);

    const defNames = new Map(defs.map((v) => [v.vd_ndx, v.names[0] ?? '']));
    const needNames = new Map(needs.flatMap((v) => v.aux.map((a) => [a.vna_other, a.vna_name] as const)));
    const mine = f.dynamicSymbols().map((s) => {
      let version = '';
      const vi = s.versionIndex;
      if (vi !== null && vi > 1) {
        const def = s.st_shndx !== SHN_UNDEF ? defNames.get(vi) : undefined;
        // readelf leaves out the version of the symbol that names the version itself.
        if (def !== undefined) version = def === s.name && !s.versionHidden ? '' : `${s.versionHidden ? '@' : '@@'}${def}`;
        else if (needNames.has(vi)) version = `@${needNames.get(vi) ?? ''} (${vi})`;
      }
      return {
        index: s.index, value: s.st_value, size: s.st_size, type: TYPES[s.type] ?? String(s.type),
        bind: BINDS[s.binding] ?? String(s.binding), vis: VIS[s.visibility] ?? '', ndx: ndxName(s.st_shndx),
        name: s.name, version,
      };
    });
    assert.deepEqual(mine, readelfDynSyms(path), `${path}: dynamic symbols`);

    const jump = jumpSlotType(f.header.e_machine) ?? -1;
    const refs = readelfSymbolRefs(path, f.header.e_ident.class === 64, jump);
    assert.deepEqual(f.symbolReferences(),
      [...refs].sort((a, b) => a[0] - b[0]).map(([symbolIndex, pltOnly]) => ({ symbolIndex, pltOnly })), `${path}: relocations`);
  } finally {
    f.close();
  }
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
  writeFileSync(src, [
    '#include <stdio.h>', '#include <string.h>', '#include <math.h>',
    'int answer_v1(void) { return 41; }', 'int answer_v2(void) { return 42; }',
    '__asm__(".symver answer_v1,answer@LIBX_1.0");', '__asm__(".symver answer_v2,answer@@LIBX_2.0");',
    'int shout(const char *s) { return printf("%s %zu\\n", s, strlen(s)); }',
    'double root(double x) { return sqrt(x); }',
    'int counter = 3;',
  ].join('\n'));
  writeFileSync(map, 'LIBX_1.0 { global: shout; root; counter; answer; local: *; };\nLIBX_2.0 { global: answer; } LIBX_1.0;\n');
  let gcc = true;
  for (const hash of ['gnu', 'sysv', 'both']) {
    const out = join(dir, `libx-${hash}.so`);
    try {
      execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', out, src, '-lm', `-Wl,--version-script=${map}`, `-Wl,--hash-style=${hash}`,
        '-Wl,-soname,libx.so.1', '-Wl,-rpath,$ORIGIN/../lib', '-Wl,--enable-new-dtags', '-Wl,-z,nodelete'], { stdio: 'ignore' });
    } catch {
      gcc = false;
    }
  }
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const hash of ['gnu', 'sysv', 'both']) {
    it(`gives the same results without section headers (--hash-style=${hash})`, { skip: !gcc && 'gcc unavailable' }, () => {
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
          assert.deepEqual(f.versionDefinitions().map((v) => v.names), [['libx.so.1'], ['LIBX_1.0'], ['LIBX_2.0', 'LIBX_1.0']]);
          const answer = f.dynamicSymbols().filter((s) => s.name === 'answer');
          assert.deepEqual(answer.map((s) => [s.versionIndex, s.versionHidden]).sort(), [[2, true], [3, false]]);
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
    });
  }
});

describe('open() and isElf() on odd paths', () => {
  it('propagates filesystem errors unchanged', () => {
    assert.throws(() => ElfFile.open('/nonexistent/libnope.so'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.throws(() => ElfFile.open('/usr'), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
    assert.throws(() => isElf('/nonexistent'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  it('refuses non-ELF files with ElfFormatError', () => {
    assert.equal(isElf('/etc/passwd'), false);
    assert.equal(isElf('/usr/bin/true'), true);
    assert.throws(() => ElfFile.open('/etc/passwd'), (e: unknown) => e instanceof ElfFormatError && e.reason === 'bad-magic' && e.file === '/etc/passwd');
    assert.throws(() => ElfFile.open('/dev/null'), (e: unknown) => e instanceof ElfFormatError && e.reason === 'too-short');
  });

  it('close() is idempotent and memoized results survive it', () => {
    const f = ElfFile.open('/usr/bin/true');
    const needed = f.dynamic()?.needed;
    f.close();
    f.close();
    assert.deepEqual(f.dynamic()?.needed, needed);
  });
});
