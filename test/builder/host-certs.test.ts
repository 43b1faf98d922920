// Step "host" on its own, on a bare folder: which fallback CA file goes into the bundle and what
// is recorded about it (certifi from the wheelhouse, newest version first, else this build host's
// store), the host paths copied as data, the .pth hook line, and bad data named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BasePython } from '../../src/builder/base-python.js';
import { installHostHooks, loadHostCerts } from '../../src/builder/host-certs.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { BASE_PYTHON } from './wheelhouse.js';

const BASE: BasePython = {
  prefix: '/nowhere', version: '3.11.7', short: '3.11', executable: 'bin/python3.11', stdlib: 'lib/python3.11',
  purelib: 'lib/python3.11/site-packages', sharedLibrary: null, sharedLibraryPath: null, multiarch: 'x86_64-linux-gnu',
};

const MAKE_WHEEL = `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("certifi/cacert.pem", sys.argv[2])
`;

const pem = (n: number) => Array.from({ length: n }, () => '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n').join('');

test('host step: certifi from the wheelhouse (newest) is the fallback, recorded in host-certs.json and the summary', async (t) => {
  if (!existsSync(BASE_PYTHON)) return t.skip(`no ${BASE_PYTHON}`);
  const dir = await makeTempDir('pyrelo-host-certs-');
  try {
    const wheelhouse = join(dir, 'wheels');
    mkdirSync(wheelhouse);
    await execa(BASE_PYTHON, ['-c', MAKE_WHEEL, join(wheelhouse, 'certifi-2024.8.30-py3-none-any.whl'), pem(2)]);
    await execa(BASE_PYTHON, ['-c', MAKE_WHEEL, join(wheelhouse, 'certifi-2024.12.14-py3-none-any.whl'), pem(3)]);
    const bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, BASE.stdlib), { recursive: true });
    const result = await installHostHooks(bundle, BASE, BASE_PYTHON, wheelhouse);
    assert.equal(result.fallback, 'certifi 2024.12.14 (wheelhouse)');
    assert.equal(readFileSync(join(bundle, 'lib/pyrelo/cacert.pem'), 'utf8'), pem(3));
    assert.match(result.summary, /fallback lib\/pyrelo\/cacert\.pem: 3 certificates from certifi 2024\.12\.14 \(wheelhouse\)/);
    const recorded = JSON.parse(readFileSync(join(bundle, 'lib/pyrelo/host-certs.json'), 'utf8')) as { files: Array<{ path: string }>; fallback: string; fallbackSource: string };
    assert.equal(recorded.fallback, 'cacert.pem');
    assert.equal(recorded.fallbackSource, 'certifi 2024.12.14 (wheelhouse)');
    assert.deepEqual(recorded.files.map((f) => f.path), loadHostCerts().files.map((f) => f.path), 'the host paths are the data file\'s');
    assert.ok(recorded.files.some((f) => f.path === '/etc/pki/tls/certs/ca-bundle.crt') && recorded.files.some((f) => f.path === '/etc/ssl/ca-bundle.pem'));
    assert.equal(readFileSync(join(bundle, BASE.purelib, 'pyrelo-host.pth'), 'utf8'), 'import _pyrelo_host; _pyrelo_host.install()\n');
    assert.ok(existsSync(join(bundle, BASE.stdlib, '_pyrelo_host.py')));
    assert.ok(existsSync(join(bundle, 'lib/pyrelo/terminfo/x/xterm')));
  } finally {
    await removeDir(dir);
  }
});

test('host step: without certifi, this build host\'s own store is the fallback', async (t) => {
  const store = loadHostCerts().files.find((f) => existsSync(f.path));
  if (store === undefined) return t.skip('no CA store on this host');
  const dir = await makeTempDir('pyrelo-host-certs-');
  try {
    mkdirSync(join(dir, 'bundle', BASE.stdlib), { recursive: true });
    const result = await installHostHooks(join(dir, 'bundle'), BASE, BASE_PYTHON, null);
    assert.equal(result.fallback, `this build host's ${store.path}`);
    assert.deepEqual(readFileSync(join(dir, 'bundle/lib/pyrelo/cacert.pem')), readFileSync(store.path));
  } finally {
    await removeDir(dir);
  }
});

test('host-certs.json: a relative path is named', async () => {
  const dir = await makeTempDir('pyrelo-host-certs-');
  try {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ files: [{ path: 'etc/ssl/cert.pem', hosts: 'x' }], dirs: [] }));
    assert.throws(() => loadHostCerts(join(dir, 'bad.json')), /files: expected a list of \{ path \(absolute\), hosts \}/);
  } finally {
    await removeDir(dir);
  }
});
