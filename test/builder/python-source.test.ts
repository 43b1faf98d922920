// pyrelo build --python-source: Debian bookworm's pristine CPython 3.11.2 tarball compiled with
// --enable-shared and an $ORIGIN RUNPATH (once; cached outside the checkout), bundled with the
// combined app of the other build tests (cryptography, cffi, a libyaml extension, numpy, lxml, a
// spawn pool), which passes the same smoke test. The bundle must run from any folder on its own
// libpython (this host has Debian's
// libpython3.11.so.1.0 in ld.so.cache: the trap the RUNPATH avoids), import ssl, sqlite3, ctypes,
// zlib, lzma and bz2, hold no build path (prefix, staging folder, unpacked source) and no absolute
// RUNPATH, and run in the lab's bookworm and trixie. A failing compile names its log; a tarball that
// is no CPython source is refused as bad input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { readManifest } from '../../src/bundle/manifest.js';
import { filesHoldingBuildPaths } from '../../src/builder/build-paths.js';
import { listBundleElves } from '../../src/builder/bundle-elves.js';
import { DEFAULT_MIRROR } from '../../src/builder/cpython-fetch.js';
import { BuildInputError } from '../../src/builder/errors.js';
import { Progress } from '../../src/builder/progress.js';
import { defaultCpythonCache, ensurePythonFromSource, runpathOf } from '../../src/builder/python-source.js';
import { absoluteRunpathElements } from '../../src/builder/verify.js';
import { build } from '../../src/builder/build.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { ensureCpythonSource, ORIG, SOURCE_VERSION } from '../support/cpython-source.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { checkAllSmoke, type AllSmoke } from './allsmoke-check.js';
import { buildCombined, buildSkipReason } from './shared-build.js';
import { makeCombinedWheelhouse } from './wheelhouse.js';

const TIMEOUT = 30 * 60_000;
const HEADERS = ['openssl/ssl.h', 'sqlite3.h', 'zlib.h', 'bzlib.h', 'lzma.h', 'x86_64-linux-gnu/ffi.h'];

function skipReason(): string | undefined {
  const reason = buildSkipReason();
  if (reason) return reason;
  if (!existsSync('/usr/bin/make')) return 'make is not installed (scripts/install-system-deps.sh)';
  const missing = HEADERS.filter((h) => !existsSync(join('/usr/include', h)));
  if (missing.length > 0)
    return `CPython's build dependencies are missing (${missing.join(', ')}): scripts/install-system-deps.sh`;
  return undefined;
}

const MODULES = `
import json, sys, ssl, sqlite3, ctypes, zlib, lzma, bz2
ctypes.CDLL(None).getpid.restype = ctypes.c_int
print(json.dumps({
  "version": sys.version.split()[0],
  "ssl": ssl.OPENSSL_VERSION, "sqlite": sqlite3.connect(":memory:").execute("select sqlite_version()").fetchone()[0],
  "ctypes": ctypes.CDLL(None).getpid(), "zlib": zlib.decompress(zlib.compress(b"z")).decode(),
  "lzma": lzma.decompress(lzma.compress(b"x")).decode(), "bz2": bz2.decompress(bz2.compress(b"b")).decode(),
  "libpython": sorted({l.split()[-1] for l in open("/proc/self/maps") if "libpython" in l}),
}))
`;

interface Built {
  dir: string;
  bundle: string;
  lines: string[];
  seconds: number;
}
let built: Promise<Built> | null = null;

/** One bundle for the file, built from the cached tarball (and the cached compile, when there). */
function sharedBundle(): Promise<Built> {
  built ??= (async () => {
    const tarball = await ensureCpythonSource();
    const dir = await makeTempDir('pyrelo-source-build-');
    writeFileSync(
      join(dir, 'smoke.py'),
      'import sys\nimport allsmoke\n\nif __name__ == "__main__":\n    sys.exit(allsmoke.main())\n',
    );
    writeFileSync(join(dir, 'modules.py'), MODULES);
    const lines: string[] = [];
    const result = await buildCombined(await makeCombinedWheelhouse(dir), join(dir, 'built'), 'host', lines, tarball);
    mkdirSync(join(dir, 'moved'));
    renameSync(join(dir, 'built'), join(dir, 'moved', 'app'));
    return { dir, bundle: join(dir, 'moved', 'app'), lines, seconds: result.seconds };
  })();
  return built;
}

test.after(async () => {
  if (built !== null) await removeDir((await built).dir);
});

test(
  '--python-source: the Debian orig tarball, compiled and cached, gives a bundle that passes the smoke test',
  { timeout: TIMEOUT },
  async (t) => {
    const reason = skipReason();
    if (reason) return t.skip(reason);
    const { bundle, dir, lines, seconds } = await sharedBundle();
    const compiled = lines.find((l) => /python-source: CPython .* compiled (in|before)/.test(l));
    t.diagnostic(`bundle built in ${seconds.toFixed(1)} s; ${compiled ?? 'no compile line'}`);
    assert.ok(compiled, lines.join('\n'));
    if (/compiled in/.test(compiled)) {
      for (const phase of ['configure', 'make -j', 'make install']) {
        assert.ok(
          lines.some((l) => new RegExp(`python-source: ${phase}.* done \\(\\d+\\.\\d s\\)$`).test(l)),
          `progress line for ${phase}`,
        );
      }
    }
    const manifest = readManifest(bundle);
    assert.equal(manifest.steps[0]?.name, 'python-source');
    assert.match(
      manifest.steps[0]?.summary ?? '',
      new RegExp(
        `^CPython ${SOURCE_VERSION.replace(/\./g, '\\.')} from ${ORIG.replace(/\./g, '\\.')} \\(sha256 ` +
          '2411c74bda5b…\\): --enable-shared',
      ),
    );
    assert.equal(manifest.python.version, SOURCE_VERSION);
    assert.equal(manifest.python.executable, 'bin/python3.11');

    // No build path: not the cached prefix, not the unpacked source, nothing of the cache at all.
    const cache = defaultCpythonCache();
    const stamps = readdirSync(cache)
      .filter((n) => n.endsWith('.json'))
      .map((n) => JSON.parse(readFileSync(join(cache, n), 'utf8')) as { key: string; sourceDir: string });
    const buildPaths = [cache, ...stamps.map((s) => s.sourceDir)];
    assert.deepEqual(filesHoldingBuildPaths(bundle, buildPaths), []);
    const grep = await execa('grep', ['-rl', '--', cache, bundle], { reject: false });
    assert.equal(grep.stdout, '', 'grep finds the cache path nowhere');
    const elves = listBundleElves(bundle);
    for (const elf of elves) assert.deepEqual(absoluteRunpathElements(elf), [], elf.rel);
    assert.equal(runpathOf(join(bundle, 'bin', 'python3.11')), '$ORIGIN/../lib');

    // The same smoke test as the other bundles, from two folders: cryptography, cffi, the grafted
    // libyaml, numpy and lxml in-process, a spawn pool of bundled interpreters, children clean.
    for (const cwd of ['/', dir]) {
      const r = await execa(join(bundle, 'bin', 'allsmoke'), [], {
        cwd,
        env: { PATH: '/usr/bin:/bin' },
        extendEnv: false,
      });
      checkAllSmoke(
        JSON.parse(r.stdout) as AllSmoke,
        bundle,
        cwd,
        join(bundle, 'bin', 'python3.11'),
        `bin/allsmoke from ${cwd}`,
        SOURCE_VERSION,
      );
    }
    // Every module an app expects, on the bundle's libpython (not Debian's libpython3.11.so.1.0).
    const m = await execa(join(bundle, 'bin', 'python3'), ['-I', '-c', MODULES], {
      cwd: '/',
      env: { PATH: '/usr/bin:/bin' },
      extendEnv: false,
    });
    const out = JSON.parse(m.stdout) as Record<string, string | number | string[]>;
    t.diagnostic(`${out.ssl}; sqlite ${out.sqlite}`);
    assert.equal(out.version, SOURCE_VERSION);
    assert.match(String(out.ssl), /^OpenSSL 3\./);
    assert.ok(Number(out.ctypes) > 0);
    assert.deepEqual([out.zlib, out.lzma, out.bz2], ['z', 'x', 'b']);
    assert.deepEqual(out.libpython, [join(bundle, 'lib', 'libpython3.11.so.1.0')]);
  },
);

test('--python-source: a second request is answered from the cache in seconds', { timeout: TIMEOUT }, async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  await sharedBundle(); // compiled (or found) once
  const lines: string[] = [];
  const t0 = Date.now();
  const again = await ensurePythonFromSource(
    await ensureCpythonSource(),
    new Progress((l) => lines.push(l)),
    DEFAULT_MIRROR,
  );
  const seconds = (Date.now() - t0) / 1000;
  t.diagnostic(`cached answer in ${seconds.toFixed(2)} s: ${lines.join(' | ')}`);
  assert.equal(again.cached, true);
  assert.ok(seconds < 10);
  assert.ok(existsSync(again.python));
});

for (const name of ['bookworm', 'trixie'] as const) {
  test(`--python-source bundle runs its smoke app in ${name}`, { timeout: TIMEOUT }, async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const reason = skipReason();
    if (reason) return t.skip(reason);
    const { bundle, dir } = await sharedBundle();
    const root = await ensureRoot(name);
    const r = await runInRoot(
      root,
      ['/bin/sh', '-c', '/opt/bundle/bin/python3 /srv/smoke.py && /opt/bundle/bin/python3 -I /srv/modules.py'],
      {
        bind: [{ hostPath: bundle, rootPath: '/opt/bundle', readOnly: true }],
        copyIn: [
          { hostPath: join(dir, 'smoke.py'), rootPath: '/srv/smoke.py' },
          { hostPath: join(dir, 'modules.py'), rootPath: '/srv/modules.py' },
        ],
        cwd: '/',
      },
    );
    assert.equal(r.exitCode, 0, `${name}: ${r.stderr}`);
    const [smokeLine, modulesLine] = r.stdout.trim().split('\n');
    checkAllSmoke(
      JSON.parse(smokeLine!) as AllSmoke,
      '/opt/bundle',
      '/',
      '/opt/bundle/bin/python3',
      `${name}: bin/python3 smoke.py`,
      SOURCE_VERSION,
    );
    const modules = JSON.parse(modulesLine!) as Record<string, string | string[]>;
    assert.equal(modules.version, SOURCE_VERSION);
    assert.deepEqual(modules.libpython, ['/opt/bundle/lib/libpython3.11.so.1.0']);
  });
}

test(
  '--python-source: bad input is refused; a failing compile names its log and caches nothing',
  { timeout: 120_000 },
  async (t) => {
    if (!existsSync('/usr/bin/make')) return t.skip('make is not installed');
    const dir = await makeTempDir();
    try {
      const base = {
        project: null,
        requirements: null,
        wheelhouse: null,
        libc: 'host' as const,
        minGlibc: '2.17',
        entries: [],
        slim: true,
        clear: false,
        prompt: null,
        withPip: false,
        output: join(dir, 'out'),
      };
      await assert.rejects(
        build({ ...base, python: '/usr/bin/python3', pythonSource: join(dir, 'x.tgz') }),
        (e: Error) => e instanceof BuildInputError && e.message === '--python-source: cannot be combined with --python',
      );
      await assert.rejects(
        build({ ...base, python: null }),
        (e: Error) => e instanceof BuildInputError && e.message === '--python: required (or --python-source TARBALL)',
      );
      await assert.rejects(
        build({ ...base, python: null, pythonSource: join(dir, 'missing.tgz') }),
        (e: Error) => e instanceof BuildInputError && /missing\.tgz: no such file$/.test(e.message),
      );

      // Not CPython: a tarball without configure.
      mkdirSync(join(dir, 'notpython', 'x'), { recursive: true });
      writeFileSync(join(dir, 'notpython', 'x', 'README'), 'hello\n');
      await execa('tar', ['-czf', join(dir, 'notpython.tar.gz'), '-C', join(dir, 'notpython'), 'x']);
      const cache = join(dir, 'cache');
      await assert.rejects(
        ensurePythonFromSource(join(dir, 'notpython.tar.gz'), new Progress(() => {}), DEFAULT_MIRROR, cache),
        (e: Error) => e instanceof BuildInputError && /not a CPython source tarball/.test(e.message),
      );

      // A source whose make fails: the error names the log, which holds make's output; no prefix,
      // no stamp, no work folder.
      mkdirSync(join(dir, 'broken', 'Python-0.0'), { recursive: true });
      writeFileSync(
        join(dir, 'broken', 'Python-0.0', 'configure'),
        '#!/bin/sh\necho "configured: LDFLAGS=$LDFLAGS"\nprintf "all:\\n\\t@echo compiling; echo boom >&2; ' +
          'exit 3\\n" > Makefile\n',
        { mode: 0o755 },
      );
      await execa('tar', ['-cJf', join(dir, 'broken.tar.xz'), '-C', join(dir, 'broken'), 'Python-0.0']);
      const lines: string[] = [];
      let log = '';
      await assert.rejects(
        ensurePythonFromSource(join(dir, 'broken.tar.xz'), new Progress((l) => lines.push(l)), DEFAULT_MIRROR, cache),
        (e: Error) => {
          const m = /^make -j\d+ failed \(exit 2\); its output is in (\S+)$/.exec(e.message);
          log = m?.[1] ?? '';
          return m !== null;
        },
      );
      const text = readFileSync(log, 'utf8');
      assert.match(text, /configured: LDFLAGS=-Wl,-rpath,\\\$\$ORIGIN\/\.\.\/lib/);
      assert.match(text, /boom/);
      assert.ok(
        lines.some((l) => /python-source: configure done \(\d+\.\d s\)$/.test(l)),
        lines.join('\n'),
      );
      assert.deepEqual(
        readdirSync(cache).filter((n) => !n.endsWith('.log')),
        [],
        'only the log is left',
      );
    } finally {
      await removeDir(dir);
    }
  },
);
