// Slim's "when unused" groups (data/slim-unused-stdlib.json): a group goes only when nothing in
// site-packages imports it, in any of the ways code imports a module; a removed module takes
// its extension modules and its legacy bytecode with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BasePython } from '../../src/builder/base-python.js';
import { plannedRemovals, slimBundle } from '../../src/builder/slim.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

const BASE: BasePython = {
  prefix: '/nonexistent',
  version: '3.11.7',
  short: '3.11',
  executable: 'bin/python3.11',
  stdlib: 'lib/python3.11',
  purelib: 'lib/python3.11/site-packages',
  sharedLibrary: null,
  sharedLibraryPath: null,
  multiarch: 'x86_64-linux-gnu',
};

function write(path: string, text = ''): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

/** A bundle with the modules of both groups, and site-packages/app.py holding `appSource`. */
async function bundleImporting(appSource: string): Promise<string> {
  const bundle = await makeTempDir('pyrelo-slim-');
  const stdlib = join(bundle, 'lib', 'python3.11');
  for (const module of [
    'tkinter/__init__.py',
    'idlelib/__init__.py',
    'turtle.py',
    'turtle.pyc',
    'lib2to3/__init__.py',
    'distutils/__init__.py',
    'crypt.py',
    'crypt.pyc',
    'json/__init__.py',
  ])
    write(join(stdlib, module));
  for (const ext of ['_tkinter', 'nis', '_crypt', '_json'])
    write(join(stdlib, 'lib-dynload', `${ext}.cpython-311-x86_64-linux-gnu.so`));
  write(join(stdlib, 'site-packages', 'app.py'), appSource);
  return bundle;
}

const TK = 'idle and tkinter (unused)';
const REMOVED_LATER = 'modules later Pythons removed (unused)';

function planned(bundle: string): Map<string, string[]> {
  const byCategory = new Map<string, string[]>();
  for (const r of plannedRemovals(bundle, BASE, true))
    byCategory.set(r.category, [...(byCategory.get(r.category) ?? []), r.path.replace('lib/python3.11/', '')]);
  return byCategory;
}

test('slim: a group goes when nothing imports it, with its extension modules', async () => {
  const bundle = await bundleImporting('import json\n');
  try {
    const plan = planned(bundle);
    assert.deepEqual(plan.get(TK), [
      'idlelib',
      'tkinter',
      'turtledemo',
      'turtle.py',
      'lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so',
    ]);
    assert.deepEqual(plan.get(REMOVED_LATER), [
      'distutils',
      'lib2to3',
      'lib-dynload/nis.cpython-311-x86_64-linux-gnu.so',
      'crypt.py',
      'lib-dynload/_crypt.cpython-311-x86_64-linux-gnu.so',
    ]);
    const result = slimBundle(bundle, BASE, true);
    assert.ok(
      result.categories.some((c) => c.category === REMOVED_LATER && c.files === 5),
      result.summary,
    );
    const stdlib = join(bundle, 'lib', 'python3.11');
    assert.equal(existsSync(join(stdlib, 'crypt.pyc')), false, 'the bytecode beside a removed module goes too');
    assert.equal(existsSync(join(stdlib, 'turtle.pyc')), false);
    assert.equal(existsSync(join(stdlib, 'json', '__init__.py')), true);
    assert.equal(existsSync(join(stdlib, 'lib-dynload', '_json.cpython-311-x86_64-linux-gnu.so')), true);
  } finally {
    await removeDir(bundle);
  }
});

test('slim: an import keeps its own group, and only that', async () => {
  const cases: Array<[string, string]> = [
    ['import os, lib2to3.pgen2\n', 'lib2to3'],
    ['    from distutils.core import setup\n', 'distutils'],
    ['nis = importlib.import_module("nis")\n', 'lib-dynload/nis.cpython-311-x86_64-linux-gnu.so'],
    ["crypt = __import__('crypt')\n", 'crypt.py'],
    ['import turtle\n', 'tkinter'],
  ];
  const unused = await bundleImporting('');
  const plannedUnused = planned(unused);
  await removeDir(unused);
  const all = [...(plannedUnused.get(TK) ?? []), ...(plannedUnused.get(REMOVED_LATER) ?? [])];
  for (const [source, kept] of cases) {
    const bundle = await bundleImporting(source);
    try {
      const plan = planned(bundle);
      const removed = [...(plan.get(TK) ?? []), ...(plan.get(REMOVED_LATER) ?? [])];
      assert.equal(removed.includes(kept), false, `${JSON.stringify(source)} keeps ${kept}`);
      const group =
        kept === 'tkinter'
          ? ['idlelib', 'tkinter', 'turtledemo', 'turtle.py', 'lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so']
          : kept === 'crypt.py'
            ? ['crypt.py', 'lib-dynload/_crypt.cpython-311-x86_64-linux-gnu.so']
            : [kept];
      assert.deepEqual(
        removed.sort(),
        all.filter((p) => !group.includes(p)).sort(),
        `${JSON.stringify(source)} keeps its group only`,
      );
    } finally {
      await removeDir(bundle);
    }
  }
  // Names that merely contain a group's module do not keep it.
  const bundle = await bundleImporting(
    'from setuptools import _distutils\nimport mynis\n# import lib2to3 in a comment\n',
  );
  try {
    assert.equal(planned(bundle).get(REMOVED_LATER)?.length, 5);
  } finally {
    await removeDir(bundle);
  }
});
