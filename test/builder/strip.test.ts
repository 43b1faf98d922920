// Stripping without breaking what auditwheel repaired: numpy's numpy.libs/libscipy_openblas64_ (grown
// by patchelf) comes out of a plain `strip --strip-debug` with a LOAD segment whose offset no longer
// matches its address, and the real loader refuses it with the message loadSegmentProblems gives.
// stripDebug leaves such a file (no debug sections) byte for byte alone, and still strips a
// library that has debug information.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ElfFile } from '../../src/elf/elf-file.js';
import { hasDebugSections, loadSegmentProblems } from '../../src/builder/elf-layout.js';
import { stripDebug } from '../../src/builder/runpath.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, ensureScientificWheelhouse } from './wheelhouse.js';

/** numpy.libs/ of the wheel into argv[2] (OpenBLAS finds libgfortran through its $ORIGIN); prints OpenBLAS's name. */
const EXTRACT = `import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith("numpy.libs/") and not name.endswith("/"):
            open(os.path.join(sys.argv[2], os.path.basename(name)), "wb").write(z.read(name))
            if "openblas" in name:
                print(os.path.basename(name))
`;

const LOAD =
  'import ctypes, sys\ntry:\n    ctypes.CDLL(sys.argv[1])\n    print("loaded")\nexcept OSError as e:\n    print(e)\n';

test(
  "numpy's OpenBLAS: plain strip makes it unloadable " + '(as the real loader says); stripDebug leaves it as it is',
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const wheelhouse = await ensureScientificWheelhouse();
    const dir = await makeTempDir('pyrelo-strip-');
    try {
      const { stdout: wheel } = await execa('sh', ['-c', 'ls "$1"/numpy-*.whl', 'sh', wheelhouse]);
      const original = join(dir, (await execa(BASE_PYTHON, ['-I', '-c', EXTRACT, wheel.trim(), dir])).stdout.trim());
      assert.deepEqual(loadSegmentProblems(original), []);
      assert.equal(hasDebugSections(original), false, 'the wheel ships it without debug sections');

      const plain = join(dir, 'plain.so');
      copyFileSync(original, plain);
      await execa('strip', ['--strip-debug', plain]);
      const problems = loadSegmentProblems(plain);
      assert.ok(
        problems.some((p) => p.endsWith('ELF load command address/offset not page-aligned')),
        problems.join('\n'),
      );
      const real = await execa(BASE_PYTHON, ['-I', '-c', LOAD, plain]);
      assert.match(
        real.stdout,
        /ELF load command address\/offset not page-aligned/,
        'the host loader refuses it the same way',
      );

      const ours = join(dir, 'ours.so');
      copyFileSync(original, ours);
      const result = await stripDebug([ours]);
      assert.deepEqual(result, { stripped: 0, untouched: 1, refused: [] });
      assert.ok(readFileSync(ours).equals(readFileSync(original)), 'byte for byte unchanged');
      assert.equal((await execa(BASE_PYTHON, ['-I', '-c', LOAD, ours])).stdout, 'loaded');
    } finally {
      await removeDir(dir);
    }
  },
);

test('stripDebug strips a library with debug information and keeps it loadable and executable', async (t) => {
  if (!existsTool('gcc') || !existsTool('strip')) return t.skip('gcc and strip needed');
  const dir = await makeTempDir('pyrelo-strip-');
  try {
    const lib = await compileSharedLibrary({
      dir,
      file: 'libanswer.so',
      source: 'int answer(void) { return 42; }\n',
      cflags: ['-g'],
    });
    assert.equal(hasDebugSections(lib), true);
    const mode = statSync(lib).mode;
    const result = await stripDebug([lib]);
    assert.deepEqual(result, { stripped: 1, untouched: 0, refused: [] });
    assert.equal(hasDebugSections(lib), false);
    assert.equal(statSync(lib).mode, mode, 'mode kept');
    assert.deepEqual(loadSegmentProblems(lib), []);
    const elf = ElfFile.open(lib);
    try {
      assert.ok(elf.dynamicSymbols().some((s) => s.name === 'answer'));
    } finally {
      elf.close();
    }
  } finally {
    await removeDir(dir);
  }
});

function existsTool(name: string): boolean {
  return ['/usr/bin', '/bin'].some((d) => existsSync(join(d, name)));
}
