// A bare runtime (no project, --without-pip) with --sourceless: only bytecode, the pip wheels and
// topic docs slimmed away. It still runs from anywhere after being moved (stdlib, ssl, sqlite3,
// the host hook as sitecustomize.pyc), makes venvs with --without-pip, and is about a fifth smaller
// than the same build with sources.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { walkBundle } from '../../src/bundle/file-list.js';
import { readManifest } from '../../src/bundle/manifest.js';
import { BASE_PYTHON } from './wheelhouse.js';
import { buildSkipReason } from './shared-build.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const installed = (dir: string): number => readManifest(dir).files.reduce((sum, f) => sum + (f.size ?? 0), 0);

test('a sourceless bare runtime: bytecode only, runs after a move, smaller', { timeout: 300_000 }, async (t) => {
  const reason = buildSkipReason();
  if (reason) return t.skip(reason);
  const dir = await makeTempDir('pyrelo-sourceless-');
  try {
    for (const [name, extra] of [
      ['with-source', []],
      ['sourceless', ['--sourceless']],
    ] as const) {
      const r = await execa(
        process.execPath,
        [PYRELO, 'build', '--python', BASE_PYTHON, '--without-pip', ...extra, '-o', join(dir, name)],
        { reject: false, all: true },
      );
      assert.equal(r.exitCode, 0, r.all);
    }
    const bundle = join(dir, 'moved sourceless');
    renameSync(join(dir, 'sourceless'), bundle);
    const stdlib = readManifest(bundle).python.executable.replace(/^bin\/(python3\.\d+)$/, 'lib/$1');
    const files = walkBundle(bundle).files;
    assert.equal(
      files.filter((f) => f.startsWith(`${stdlib}/`) && f.endsWith('.py')).length,
      0,
      'no stdlib source left',
    );
    assert.ok(files.includes(`${stdlib}/json/decoder.pyc`), 'bytecode beside where the source was');
    assert.equal(
      files.some((f) => f.includes('__pycache__')),
      false,
    );
    assert.equal(existsSync(join(bundle, stdlib, 'ensurepip', '_bundled')), false, '--without-pip: no pip wheels');
    assert.equal(existsSync(join(bundle, stdlib, 'pydoc_data')), false);

    const python = join(bundle, 'bin', 'python3');
    const run = await execa(
      python,
      [
        '-c',
        'import json, ssl, sqlite3, decimal, sitecustomize; print(sitecustomize.__file__.endswith(".pyc"), ' +
          'json.dumps([1]), bool(ssl.OPENSSL_VERSION), sqlite3.sqlite_version != "")',
      ],
      { cwd: '/', env: { PATH: '/usr/bin:/bin' }, extendEnv: false },
    );
    assert.equal(run.stdout, 'True [1] True True');
    const venv = join(dir, 'venv');
    await execa(python, ['-m', 'venv', '--without-pip', venv]);
    assert.equal((await execa(join(venv, 'bin', 'python'), ['-c', 'import json; print("venv")'])).stdout, 'venv');

    const ratio = installed(bundle) / installed(join(dir, 'with-source'));
    t.diagnostic(
      `installed: sourceless ${(installed(bundle) / 1e6).toFixed(1)} MB, with source ` +
        `${(installed(join(dir, 'with-source')) / 1e6).toFixed(1)} MB (${ratio.toFixed(2)})`,
    );
    assert.ok(ratio < 0.85, `sourceless is ${ratio.toFixed(2)} of the size with sources`);
  } finally {
    await removeDir(dir);
  }
});
