// patchelf, growing the dynamic strings of a non-PIE executable, maps a new segment right before
// the first one and lets .dynstr run on from it into the next: the reader must follow the table
// across segments that are contiguous both in memory and in the file, as ld.so (which maps them
// all) does. Debian's /usr/bin/python3.11 is such an executable once pyrelo build sets its RUNPATH.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { ElfFile } from '../../src/elf/elf-file.js';
import { compileExecutable, makeTempDir, removeDir } from '../support/fixtures.js';

test('a non-PIE executable grown by patchelf reads like readelf says', async () => {
  const dir = await makeTempDir('pyrelo-patchelf-');
  try {
    // Many exported names make .dynstr larger than the page patchelf adds, as in python3.11.
    const exported = Array.from(
      { length: 1500 },
      (_, i) => `int exported_function_with_a_long_name_${i}(void) { return ${i}; }`,
    ).join('\n');
    const program = await compileExecutable({
      dir,
      file: 'prog',
      source: `#include <stdio.h>\n${exported}\nint main(void) { puts("ok"); return 0; }\n`,
      cflags: ['-fno-pie'],
      linkArgs: ['-no-pie', '-rdynamic'],
    });
    const runpath = `$ORIGIN/${'long/'.repeat(400)}lib`;
    await execa('patchelf', ['--set-rpath', runpath, program]);
    const run = await execa(program, [], { reject: false });
    assert.equal(run.stdout, 'ok', 'the patched program no longer runs');
    const readelf = await execa('readelf', ['-dW', program]);
    assert.match(readelf.stdout, /RUNPATH/);
    const readelfRunpath = /Library runpath: \[(.*)\]/.exec(readelf.stdout)?.[1];
    const readelfNeeded = [...readelf.stdout.matchAll(/Shared library: \[(.*)\]/g)].map((m) => m[1]);
    const elf = ElfFile.open(program);
    try {
      assert.equal(elf.dynamic()?.runpath, runpath);
      assert.equal(elf.dynamic()?.runpath, readelfRunpath, 'the reader and readelf agree on DT_RUNPATH');
      assert.deepEqual(elf.dynamic()?.needed, ['libc.so.6']);
      assert.deepEqual(elf.dynamic()?.needed, readelfNeeded, 'and on DT_NEEDED');
      assert.ok(elf.dynamicSymbols().some((s) => s.name === 'puts'));
    } finally {
      elf.close();
    }
  } finally {
    await removeDir(dir);
  }
});
