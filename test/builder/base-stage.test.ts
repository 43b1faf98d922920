// The base stage's two promises, checked on small real inputs: its cache key follows the base's
// files that end up in a bundle (and nothing else), and the compile step recompiles exactly the
// modules whose bytecode is not of their current source, so a stage compiled earlier never leaves
// stale bytecode behind. (That a cached stage gives the same archive bytes as a fresh one is
// checked with whole builds in build.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BasePython } from '../../src/builder/base-python.js';
import { stageKey, type StageOptions } from '../../src/builder/base-stage.js';
import { compileBytecode } from '../../src/builder/compile.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { BASE_PYTHON } from './wheelhouse.js';

function fakeBase(prefix: string): BasePython {
  return {
    prefix,
    version: '3.11.7',
    short: '3.11',
    executable: 'bin/python3.11',
    stdlib: 'lib/python3.11',
    purelib: 'lib/python3.11/site-packages',
    sharedLibrary: 'libpython3.11.so',
    sharedLibraryPath: 'lib/libpython3.11.so.1.0',
    multiarch: 'x86_64-linux-gnu',
  };
}

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

const OPTIONS: StageOptions = { slim: true, withPip: true, sourceless: false };

test(
  'base stage key: changes with the stdlib, libpython, the interpreter and the options; not with packages or ' +
    'scripts installed into the base',
  async () => {
    const dir = await makeTempDir('pyrelo-stage-key-');
    try {
      const prefix = join(dir, 'prefix');
      const base = fakeBase(prefix);
      write(join(prefix, 'bin', 'python3.11'), 'interpreter');
      write(join(prefix, 'bin', 'pip3'), '#!/usr/bin/python3.11\n');
      write(join(prefix, 'lib', 'libpython3.11.so.1.0'), 'libpython');
      write(join(prefix, 'lib', 'python3.11', 'os.py'), 'import abc\n');
      write(join(prefix, 'lib', 'python3.11', 'site-packages', 'requests', '__init__.py'), '');
      const first = await stageKey(base, OPTIONS);
      assert.match(first, /^[0-9a-f]{24}$/);
      assert.equal(await stageKey(base, OPTIONS), first, 'the same files give the same key');

      // What a bundle never takes from the base does not count.
      write(join(prefix, 'lib', 'python3.11', 'site-packages', 'numpy', '__init__.py'), '');
      write(join(prefix, 'bin', 'pip3'), '#!/usr/bin/python3.11\n# upgraded\n');
      write(join(prefix, 'lib', 'python3.11', '__pycache__', 'os.cpython-311.pyc'), 'bytecode');
      assert.equal(
        await stageKey(base, OPTIONS),
        first,
        "site-packages, bin/ scripts and __pycache__ are not the stage's",
      );

      // Each option that shapes the stage makes another key.
      const keys = new Set([first]);
      for (const options of [
        { ...OPTIONS, slim: false },
        { ...OPTIONS, withPip: false },
        { ...OPTIONS, sourceless: true },
      ])
        keys.add(await stageKey(base, options));
      assert.equal(keys.size, 4);

      // A changed stdlib module (same size, new time), a new one, libpython, the interpreter.
      const changes: Array<() => void> = [
        () => utimesSync(join(prefix, 'lib', 'python3.11', 'os.py'), new Date(1_000_000), new Date(1_000_000)),
        () => write(join(prefix, 'lib', 'python3.11', 'json', '__init__.py'), ''),
        () => write(join(prefix, 'lib', 'libpython3.11.so.1.0'), 'libpython, rebuilt'),
        () => write(join(prefix, 'bin', 'python3.11'), 'interpreter, rebuilt'),
      ];
      for (const change of changes) {
        change();
        const key = await stageKey(base, OPTIONS);
        assert.ok(!keys.has(key), `a new key after ${change.toString()}`);
        keys.add(key);
      }
    } finally {
      await removeDir(dir);
    }
  },
);

test(
  'compile: only bytecode that is missing or not of its ' +
    'current source is written; bytecode of removed sources goes',
  async (t) => {
    if (!existsSync(BASE_PYTHON)) return t.skip(`no base interpreter at ${BASE_PYTHON}`);
    const dir = await makeTempDir('pyrelo-stage-compile-');
    try {
      // A minimal "bundle": the real interpreter (by link) and a package under lib/.
      const bundle = join(dir, 'bundle');
      mkdirSync(join(bundle, 'bin'), { recursive: true });
      symlinkSync(BASE_PYTHON, join(bundle, 'bin', 'python3.11'));
      const pkg = join(bundle, 'lib', 'pkg');
      write(join(pkg, '__init__.py'), '');
      write(join(pkg, 'a.py'), 'VALUE = "first"\n');
      write(join(pkg, 'b.py'), 'VALUE = "b"\n');
      const base = fakeBase(bundle);
      const home = join(dir, 'home');
      mkdirSync(home);
      const compile = (): Promise<{ summary: string }> =>
        compileBytecode(bundle, base, home, { legacy: false, dropSources: false });
      const compiledHere = (summary: string): number => Number(/: (\d+) compiled here/.exec(summary)?.[1] ?? -1);

      assert.equal(compiledHere((await compile()).summary), 3);
      assert.equal(compiledHere((await compile()).summary), 0, 'nothing is stale the second time');

      // Same size, so only the source hash tells: the stale bytecode would still say "first".
      write(join(pkg, 'a.py'), 'VALUE = "other"\n');
      assert.equal(compiledHere((await compile()).summary), 1);
      // Unchecked-hash bytecode is used without looking at the source: it must be the new one.
      const imported = await execa(
        BASE_PYTHON,
        [
          '-I',
          '-c',
          'import sys; sys.path.insert(0, "lib"); import pkg.a; print(pkg.a.VALUE, pkg.a.__cached__ is not None)',
        ],
        { cwd: bundle },
      );
      assert.equal(imported.stdout, 'other True');

      rmSync(join(pkg, 'b.py'));
      const summary = (await compile()).summary;
      assert.match(summary, /removed 1 \.pyc files whose source is gone/);
      assert.deepEqual(readdirSync(join(pkg, '__pycache__')).sort(), ['__init__.cpython-311.pyc', 'a.cpython-311.pyc']);
    } finally {
      await removeDir(dir);
    }
  },
);
