// --slim-package-tests (src/builder/package-tests.ts): which folders count as a package's own
// tests, and the rule that a test folder stays when anything outside it imports it, on small
// made-up packages; then on numpy's real wheel, which must still work without its tests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BasePython } from '../../src/builder/base-python.js';
import { importedNames } from '../../src/builder/import-scan.js';
import { PACKAGE_TESTS_CATEGORY, planPackageTests } from '../../src/builder/package-tests.js';
import { slimBundle } from '../../src/builder/slim.js';
import { sizeOf } from '../../src/builder/tree-size.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { BASE_PYTHON, ensureScientificWheelhouse } from './wheelhouse.js';

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

/** site-packages of made-up packages, one per rule; returns the bundle folder. */
async function madeUpSite(): Promise<string> {
  const bundle = await makeTempDir('pyrelo-pkgtests-');
  mkdirSync(join(bundle, 'lib', 'python3.11'), { recursive: true });
  const files: Record<string, string> = {
    // Nothing imports these: they go (a `test` folder deep inside a package, too).
    'plain/__init__.py': 'from .core import run\n',
    'plain/core.py': 'def run():\n    return 1\n',
    'plain/tests/__init__.py': '',
    'plain/tests/test_core.py': 'from plain.tests import helpers\nfrom ..core import run\n',
    'plain/tests/helpers.py': 'X = 1\n',
    'plain/sub/test/test_sub.py': 'import plain.sub.test.data\n',
    'plain/sub/test/nested/tests/test_deep.py': '',
    // Imported from outside, each in another way: kept.
    'relative/__init__.py': '',
    'relative/util.py': 'from .tests import fixtures\n',
    'relative/tests/fixtures.py': 'from chained.tests.base import Base\n',
    'parent/__init__.py': 'from . import tests\n',
    'parent/tests/__init__.py': '',
    'absolute/__init__.py': '',
    'absolute/conftest.py': 'from absolute.tests.plugin import (\n    fixture_a,\n    fixture_b,\n)\n',
    'absolute/tests/plugin.py': '',
    'dynamic/__init__.py': 'import importlib\nmod = importlib.import_module("dynamic.tests.registry")\n',
    'dynamic/tests/registry.py': '',
    'strings/__init__.py': 'pytest_plugins = ["strings.tests.fixtures"]\n',
    'strings/tests/fixtures.py': '',
    'entry/__init__.py': '',
    'entry/tests/plugin.py': '',
    'entry-1.0.dist-info/entry_points.txt': '[pytest11]\nentry = entry.tests.plugin:main\n',
    // Kept because a kept test folder (relative/tests) imports it.
    'chained/__init__.py': '',
    'chained/tests/base.py': 'class Base: pass\n',
    // Names that merely resemble the module, and imports in comments, keep nothing.
    'lookalike/__init__.py':
      'import lookalike.tests_util\n# from lookalike.tests import x\nfrom lookalike import testsuite\n',
    'lookalike/tests_util.py': '',
    'lookalike/testsuite.py': '',
    'lookalike/tests/test_it.py': '',
    // Not test folders: a top-level `tests`, `testing` helpers, data without Python, a folder
    // whose path is not importable.
    'tests/__init__.py': '',
    'helpers/__init__.py': '',
    'helpers/testing/__init__.py': '',
    'helpers/data/test/sample.txt': 'data',
    'helpers/some-data/tests/script.py': '',
  };
  for (const [path, text] of Object.entries(files)) write(join(bundle, BASE.purelib, path), text);
  return bundle;
}

test(
  'package tests: tests/ and test/ inside packages go; kept when imported from outside (relative, absolute, ' +
    'dynamic, strings, entry points, through a kept one)',
  async () => {
    const bundle = await madeUpSite();
    try {
      const site = join(bundle, BASE.purelib);
      const plan = planPackageTests(site);
      assert.deepEqual(
        plan.removed.map((f) => f.path),
        ['lookalike/tests', 'plain/sub/test', 'plain/tests'],
      );
      assert.deepEqual(plan.kept.map((f) => `${f.path} <- ${f.importer}`).sort(), [
        'absolute/tests <- absolute/conftest.py',
        'chained/tests <- relative/tests/fixtures.py',
        'dynamic/tests <- dynamic/__init__.py',
        'entry/tests <- entry-1.0.dist-info/entry_points.txt',
        'parent/tests <- parent/__init__.py',
        'relative/tests <- relative/util.py',
        'strings/tests <- strings/__init__.py',
      ]);

      const expected =
        sizeOf(join(site, 'plain', 'tests')).bytes +
        sizeOf(join(site, 'plain', 'sub', 'test')).bytes +
        sizeOf(join(site, 'lookalike', 'tests')).bytes;
      const lines: string[] = [];
      const result = slimBundle(bundle, BASE, true, [], { packageTests: true, note: (line) => lines.push(line) });
      const category = result.categories.find((c) => c.category === PACKAGE_TESTS_CATEGORY);
      assert.ok(category, result.summary);
      assert.equal(category.bytes, expected);
      assert.equal(category.files, 6);
      assert.deepEqual(
        category.paths,
        ['lookalike/tests', 'plain/sub/test', 'plain/tests'].map((p) => `${BASE.purelib}/${p}`),
      );
      assert.ok(
        lines.some((l) => /^package tests: removed plain\/tests \(0\.\d KB, 3 files\)$/.test(l)),
        lines.join('\n'),
      );
      assert.ok(
        lines.includes('package tests: kept relative/tests: relative/util.py imports relative.tests'),
        lines.join('\n'),
      );
      assert.match(result.summary, /; 3 package test folders removed, 7 kept \(imported from outside\)$/);
      for (const gone of ['plain/tests', 'plain/sub/test', 'lookalike/tests'])
        assert.equal(existsSync(join(site, gone)), false, gone);
      for (const stays of [
        'plain/core.py',
        'relative/tests/fixtures.py',
        'chained/tests/base.py',
        'tests/__init__.py',
        'helpers/testing/__init__.py',
        'helpers/data/test/sample.txt',
        'helpers/some-data/tests/script.py',
      ]) {
        assert.equal(existsSync(join(site, stays)), true, stays);
      }
      // Without the option, installed packages are never touched.
      const other = await madeUpSite();
      try {
        const plain = slimBundle(other, BASE, true);
        assert.ok(!plain.categories.some((c) => c.category === PACKAGE_TESTS_CATEGORY));
        assert.equal(existsSync(join(other, BASE.purelib, 'plain', 'tests')), true);
      } finally {
        await removeDir(other);
      }
    } finally {
      await removeDir(bundle);
    }
  },
);

test("import scanner: relative imports resolve against the file's package; aliases, lists and parentheses", () => {
  const names = importedNames(
    'from .a import b as c, d\nfrom .. import e\nfrom ...x import y\nimport f.g as h, i\nfrom j import (\n  ' +
      'k,  # note\n  l,\n)\n',
    { package: 'p.q' },
  );
  assert.deepEqual(
    [...names].sort(),
    ['f.g', 'i', 'j', 'j.k', 'j.l', 'p', 'p.e', 'p.q.a', 'p.q.a.b', 'p.q.a.d'].sort(),
  );
  assert.deepEqual(
    [...importedNames('from . import x\n', { package: null })],
    [],
    'no package: a relative import names nothing',
  );
});

test(
  "package tests on numpy's real wheel: its */tests folders go, numpy.testing stays, and numpy still works",
  { timeout: 300_000 },
  async (t) => {
    if (!existsSync(BASE_PYTHON)) return t.skip(`no base interpreter at ${BASE_PYTHON}`);
    const wheelhouse = await ensureScientificWheelhouse();
    const wheel = readdirSync(wheelhouse).find((n) => n.startsWith('numpy-') && n.endsWith('.whl'));
    if (wheel === undefined) return t.skip('no numpy wheel in the scientific wheelhouse');
    const bundle = await makeTempDir('pyrelo-pkgtests-numpy-');
    try {
      const site = join(bundle, BASE.purelib);
      mkdirSync(site, { recursive: true });
      await execa(BASE_PYTHON, ['-I', '-m', 'zipfile', '-e', join(wheelhouse, wheel), site]);
      // What the wheel holds, read from its files rather than written down here.
      const expected = (
        await execa('find', [
          join(site, 'numpy'),
          '-type',
          'd',
          '(',
          '-name',
          'tests',
          '-o',
          '-name',
          'test',
          ')',
          '-prune',
        ])
      ).stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.slice(site.length + 1))
        .sort();
      assert.ok(expected.includes('numpy/_core/tests') && expected.length > 5, expected.join(' '));
      const lines: string[] = [];
      const result = slimBundle(bundle, BASE, true, [], { packageTests: true, note: (line) => lines.push(line) });
      const category = result.categories.find((c) => c.category === PACKAGE_TESTS_CATEGORY);
      t.diagnostic(result.summary);
      assert.deepEqual(
        [...(category?.paths ?? [])].sort(),
        expected.map((p) => `${BASE.purelib}/${p}`),
      );
      assert.ok(category!.bytes > 1_000_000, "numpy's tests are megabytes");
      assert.ok(
        lines.some((l) => /^package tests: removed numpy\/_core\/tests \(\d+\.\d MB, \d+ files\)$/.test(l)),
        lines.join('\n'),
      );
      assert.equal(
        existsSync(join(site, 'numpy', 'testing', '__init__.py')),
        true,
        'numpy.testing is not a test folder',
      );
      const run = await execa(
        BASE_PYTHON,
        [
          '-I',
          '-c',
          'import sys; sys.path.insert(0, sys.argv[1]); import numpy as np, numpy.testing; ' +
            'print(np.linalg.solve(np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([9.0, 8.0])).round(6).tolist())',
          site,
        ],
        { cwd: '/', reject: false },
      );
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout, '[2.0, 3.0]');
    } finally {
      await removeDir(bundle);
    }
  },
);
