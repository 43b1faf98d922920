// A bundle is named after what it installs, with its version in the manifest (README, "pyrelo
// build"): a setup.py folder (the name pip's direct_url.json leads to), a wheel file (its
// distribution name, not its file name); with only -r requirements, as before (the first --entry).
// Then --slim-package-tests in a real build: numpy's test folders go, listed with their bytes,
// and the application still runs. (A pyproject.toml's [project] name and a requirement's name are
// in sdist.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { readManifest } from '../../src/bundle/manifest.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, ensureScientificWheelhouse, ensureSdistWheelhouse, writeWheel } from './wheelhouse.js';

const PYRELO = join(import.meta.dirname, '..', '..', 'src', 'client', 'main.js');

function pyrelo(args: string[], cwd: string): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  return execa(process.execPath, [PYRELO, 'build', '--python', BASE_PYTHON, '--without-pip', ...args], {
    reject: false,
    cwd,
  });
}

test('bundle names: a setup.py folder, a wheel file and -r alone', { timeout: 600_000 }, async (t) => {
  const reason = buildSkipReason();
  if (reason) return t.skip(reason);
  const cached = await ensureSdistWheelhouse(); // setuptools' `wheel`, and greet
  const dir = await makeTempDir('pyrelo-names-');
  try {
    const wheelhouse = join(dir, 'wheelhouse');
    mkdirSync(wheelhouse);
    for (const name of readdirSync(cached).filter((n) => !n.startsWith('.')))
      symlinkSync(join(cached, name), join(wheelhouse, name));

    // A setup.py project in a folder named otherwise: named after what setup() says.
    mkdirSync(join(dir, 'src-folder', 'legacy'), { recursive: true });
    writeFileSync(
      join(dir, 'src-folder', 'setup.py'),
      'from setuptools import setup\nsetup(name="legacy-app", version="3.1", packages=["legacy"])\n',
    );
    writeFileSync(join(dir, 'src-folder', 'legacy', '__init__.py'), 'WORD = "legacy"\n');
    const legacy = await pyrelo(['src-folder', '--wheelhouse', 'wheelhouse', '-o', 'legacy-out'], dir);
    assert.equal(legacy.exitCode, 0, legacy.stderr);
    const legacyManifest = readManifest(join(dir, 'legacy-out'));
    assert.equal(legacyManifest.name, 'legacy-app');
    assert.equal(legacyManifest.version, '3.1');
    assert.match(legacy.stdout, /legacy-out: legacy-app 3\.1, Python 3\.11\.7, /);
    assert.match(legacy.stderr, /^pyrelo build: {5}bundle legacy-app: legacy-app 3\.1$/m);

    // A wheel file: its distribution name, not the file name.
    await writeWheel(join(dir, 'wheelhouse'), {
      name: 'Hello_World',
      version: '0.5',
      tag: 'py3-none-any',
      requires: [],
      files: { 'hello_world/__init__.py': '' },
    });
    const wheel = await pyrelo(
      ['wheelhouse/Hello_World-0.5-py3-none-any.whl', '--wheelhouse', 'wheelhouse', '-o', 'wheel-out.tar.gz'],
      dir,
    );
    assert.equal(wheel.exitCode, 0, wheel.stderr);
    await execa('tar', ['-xzf', 'wheel-out.tar.gz', 'pyrelo.json'], { cwd: dir });
    const wheelManifest = JSON.parse(readFileSync(join(dir, 'pyrelo.json'), 'utf8')) as {
      name: string;
      version?: string;
    };
    assert.equal(wheelManifest.name, 'Hello_World');
    assert.equal(wheelManifest.version, '0.5');

    // Only -r: nothing to name it after; as before, the first --entry names it, and no version.
    writeFileSync(join(dir, 'reqs.txt'), 'greet\n');
    const reqs = await pyrelo(
      ['-r', 'reqs.txt', '--wheelhouse', 'wheelhouse', '--entry', 'hello=greet:hello', '-o', 'reqs-out'],
      dir,
    );
    assert.equal(reqs.exitCode, 0, reqs.stderr);
    const reqsManifest = readManifest(join(dir, 'reqs-out'));
    assert.equal(reqsManifest.name, 'hello');
    assert.equal('version' in reqsManifest, false);
    assert.match(
      reqs.stderr,
      /bundle hello \(no PROJECT: named as before, after --prompt, the first --entry or "bundle"\)/,
    );
  } finally {
    await removeDir(dir);
  }
});

test(
  "--slim-package-tests in a real build: numpy's test folders go, listed with their bytes and recorded; the " +
    'app still runs',
  { timeout: 600_000 },
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const wheelhouse = await ensureScientificWheelhouse();
    const project = join(
      wheelhouse,
      readdirSync(wheelhouse).find((n) => n.startsWith('scismoke-') && n.endsWith('.whl'))!,
    );
    const dir = await makeTempDir('pyrelo-names-slim-');
    try {
      const r = await pyrelo([project, '--wheelhouse', wheelhouse, '--slim-package-tests', '-o', 'out'], dir);
      assert.equal(r.exitCode, 0, r.stderr);
      const bundle = join(dir, 'out');
      const manifest = readManifest(bundle);
      assert.equal(manifest.name, 'scismoke');
      assert.equal(manifest.version, '1.0');
      const category = manifest.slimmed.find((c) => c.category === 'package tests (--slim-package-tests)');
      assert.ok(category?.paths !== undefined, JSON.stringify(manifest.slimmed));
      const site = 'lib/python3.11/site-packages';
      assert.ok(category.paths.includes(`${site}/numpy/_core/tests`), category.paths.join(' '));
      assert.ok(category.bytes > 1_000_000);
      // Every folder is listed with its bytes, and they add up to the record.
      const listed = [
        ...r.stderr.matchAll(/^pyrelo build: {5}package tests: removed (\S+) \((\d+\.\d) (KB|MB), (\d+) files\)$/gm),
      ];
      assert.deepEqual(
        listed.map((m) => `${site}/${m[1]}`),
        category.paths,
      );
      assert.equal(
        listed.reduce((a, m) => a + Number(m[4]), 0),
        category.files,
      );
      const listedBytes = listed.reduce((a, m) => a + Number(m[2]) * (m[3] === 'MB' ? 1e6 : 1e3), 0);
      assert.ok(Math.abs(listedBytes - category.bytes) < listed.length * 0.05e6, `${listedBytes} vs ${category.bytes}`);
      for (const path of category.paths) {
        assert.equal(existsSync(join(bundle, path)), false, path);
        assert.ok(!manifest.files.some((f) => f.path.startsWith(`${path}/`)), `${path} is not in the manifest's files`);
      }
      assert.ok(existsSync(join(bundle, site, 'numpy', 'testing', '__init__.py')), 'numpy.testing stays');
      const record = readFileSync(
        join(
          bundle,
          site,
          readdirSync(join(bundle, site)).find((n) => /^numpy-.*\.dist-info$/.test(n))!,
          'RECORD',
        ),
        'utf8',
      );
      assert.doesNotMatch(record, /^numpy\/_core\/tests\//m, 'RECORD no longer lists removed files');
      const run = await execa(join(bundle, 'bin', 'python3'), ['-c', 'import scismoke; scismoke.main()'], {
        cwd: '/',
        reject: false,
      });
      assert.equal(run.exitCode, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { matmul: number[][]; solve: number[] };
      assert.deepEqual(out.matmul, [
        [10, 13],
        [28, 40],
      ]);
      assert.deepEqual(out.solve, [2, 3]);
    } finally {
      await removeDir(dir);
    }
  },
);
