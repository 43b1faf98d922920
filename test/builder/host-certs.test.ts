// Step "host" on its own, on a bare folder: which fallback CA file goes into the bundle and what
// is recorded about it (certifi from the wheelhouse, newest version first, else this build host's
// store), the host paths copied as data, the .pth hook line, and bad data named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BasePython } from '../../src/builder/base-python.js';
import { dataFile } from '../../src/common/package-files.js';
import { installHostHooks, loadHostCerts } from '../../src/builder/host-certs.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { BASE_PYTHON } from './wheelhouse.js';

const BASE: BasePython = {
  prefix: '/nowhere',
  version: '3.11.7',
  short: '3.11',
  executable: 'bin/python3.11',
  stdlib: 'lib/python3.11',
  purelib: 'lib/python3.11/site-packages',
  sharedLibrary: null,
  sharedLibraryPath: null,
  multiarch: 'x86_64-linux-gnu',
};

const MAKE_WHEEL = `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("certifi/cacert.pem", sys.argv[2])
`;

const pem = (n: number) =>
  Array.from({ length: n }, () => '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n').join('');

test(
  'host step: certifi from the wheelhouse (newest) is ' + 'the fallback, recorded in host-certs.json and the summary',
  async (t) => {
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
      assert.match(
        result.summary,
        /fallback lib\/pyrelo\/cacert\.pem: 3 certificates from certifi 2024\.12\.14 \(wheelhouse\)/,
      );
      const recorded = JSON.parse(readFileSync(join(bundle, 'lib/pyrelo/host-certs.json'), 'utf8')) as {
        files: Array<{ path: string }>;
        fallback: string;
        fallbackSource: string;
      };
      assert.equal(recorded.fallback, 'cacert.pem');
      assert.equal(recorded.fallbackSource, 'certifi 2024.12.14 (wheelhouse)');
      assert.deepEqual(
        recorded.files.map((f) => f.path),
        loadHostCerts().files.map((f) => f.path),
        "the host paths are the data file's",
      );
      assert.ok(
        recorded.files.some((f) => f.path === '/etc/pki/tls/certs/ca-bundle.crt') &&
          recorded.files.some((f) => f.path === '/etc/ssl/ca-bundle.pem'),
      );
      assert.equal(
        readFileSync(join(bundle, BASE.purelib, 'pyrelo-host.pth'), 'utf8'),
        'import _pyrelo_host; _pyrelo_host.install()\n',
      );
      assert.ok(existsSync(join(bundle, BASE.stdlib, '_pyrelo_host.py')));
      assert.equal(
        readFileSync(join(bundle, BASE.stdlib, 'sitecustomize.py'), 'utf8'),
        readFileSync(dataFile('python/sitecustomize.py'), 'utf8'),
      );
      assert.match(
        result.summary,
        /hook in lib\/python3\.11\/sitecustomize\.py \(venvs made from the bundle keep it\) and pyrelo-host\.pth/,
      );
      assert.ok(existsSync(join(bundle, 'lib/pyrelo/terminfo/x/xterm')));
    } finally {
      await removeDir(dir);
    }
  },
);

test("host step: without certifi, this build host's own store is the fallback", async (t) => {
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
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ files: [{ path: 'etc/ssl/cert.pem', hosts: 'x' }], dirs: [] }),
    );
    assert.throws(
      () => loadHostCerts(join(dir, 'bad.json')),
      /files: expected a list of \{ path \(absolute\), hosts \}/,
    );
  } finally {
    await removeDir(dir);
  }
});

/** What start-up left: the sitecustomize module Python kept, whether the hook is installed, the chained marks. */
const STARTUP = `import json, sys, sitecustomize
print(json.dumps({"module": sitecustomize.__file__, "mark": getattr(sitecustomize, "MARK", None),
    "hook": any(getattr(f, "__module__", "") == "_pyrelo_host" for f in sys.meta_path),
    "ssl": "ssl" in sys.modules, "order": getattr(sys, "_pyrelo_test_order", [])}))
`;

test(
  'stdlib sitecustomize.py: installs the hook, then runs the sitecustomize Python would have found (next on ' +
    "sys.path, or the base's own)",
  async (t) => {
    if (!existsSync(BASE_PYTHON)) return t.skip(`no ${BASE_PYTHON}`);
    const dir = await makeTempDir('pyrelo-sitecustomize-');
    try {
      // A folder standing for the bundle's stdlib (sitecustomize + _pyrelo_host + lib/pyrelo/), one
      // for an app's site-packages.
      const stdlib = join(dir, 'lib', 'python3.11');
      mkdirSync(stdlib, { recursive: true });
      mkdirSync(join(dir, 'lib', 'pyrelo'));
      writeFileSync(join(stdlib, 'sitecustomize.py'), readFileSync(dataFile('python/sitecustomize.py')));
      writeFileSync(join(stdlib, '_pyrelo_host.py'), readFileSync(dataFile('python/_pyrelo_host.py')));
      const app = join(dir, 'app');
      mkdirSync(app);
      const mark = (name: string) =>
        `import sys\nMARK = ${JSON.stringify(name)}\nsys._pyrelo_test_order = getattr(sys, "_pyrelo_test_order", ` +
        '[]) + [MARK + (" after hook" if any(getattr(f, "__module__", "") == "_pyrelo_host" for f in ' +
        'sys.meta_path) else " before hook")]\n';
      const run = async () =>
        JSON.parse(
          (await execa(BASE_PYTHON, ['-c', STARTUP], { env: { PYTHONPATH: `${stdlib}:${app}` }, extendEnv: false }))
            .stdout,
        ) as { module: string; mark: string | null; hook: boolean; ssl: boolean; order: string[] };

      const alone = await run();
      assert.equal(alone.module, join(stdlib, 'sitecustomize.py'));
      assert.equal(alone.hook, true, 'the hook is installed');
      assert.equal(alone.ssl, false, 'start-up imports no ssl');

      writeFileSync(join(app, 'sitecustomize.py'), mark('app'));
      const chained = await run();
      assert.equal(chained.module, join(app, 'sitecustomize.py'), "the app's sitecustomize is the module Python keeps");
      assert.equal(chained.mark, 'app');
      assert.deepEqual(chained.order, ['app after hook']);
      assert.equal(chained.hook, true);

      writeFileSync(join(stdlib, '_pyrelo_base_sitecustomize.py'), mark('base'));
      const base = await run();
      assert.deepEqual(
        base.order,
        ['base after hook'],
        "the base's own stdlib sitecustomize shadows the app's, as without pyrelo",
      );
      assert.equal(base.hook, true);

      // A sourceless bundle keeps only _pyrelo_base_sitecustomize.pyc.
      await execa(BASE_PYTHON, [
        '-c',
        'import py_compile, sys; py_compile.compile(sys.argv[1], sys.argv[1] + "c", doraise=True)',
        join(stdlib, '_pyrelo_base_sitecustomize.py'),
      ]);
      rmSync(join(stdlib, '_pyrelo_base_sitecustomize.py'));
      assert.deepEqual((await run()).order, ['base after hook'], "the base's bytecode-only sitecustomize runs too");
      rmSync(join(stdlib, '_pyrelo_base_sitecustomize.pyc'));

      writeFileSync(join(app, 'sitecustomize.py'), 'raise RuntimeError("broken on purpose")\n');
      const broken = await execa(BASE_PYTHON, ['-c', 'print("still started")'], {
        env: { PYTHONPATH: `${stdlib}:${app}` },
        extendEnv: false,
      });
      assert.equal(broken.stdout, 'still started');
      assert.match(
        broken.stderr,
        /Error in sitecustomize; set PYTHONVERBOSE for traceback:\nRuntimeError: broken on purpose/,
        'reported as Python reports its own',
      );
    } finally {
      await removeDir(dir);
    }
  },
);
