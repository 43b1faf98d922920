// Bundles of CPython chosen by version number (`pyrelo build --python 3.13`), each built twice
// (--libc host, --libc bundle) with pip, so that it passes the build's own checks (scrub of build
// paths, verify) as 3.11 does, and then run MOVED to a folder with a space in its name:
// - here: the version asked for, its own libpython, ssl, sqlite3, ctypes, zlib, lzma, bz2; sysconfig's
//   prefix and install scheme inside the moved folder; pip runs (ensurepip's wheel of that version);
//   `python -m venv` works;
// - in the lab's roots: the bundled-libc bundle in bullseye, bookworm, trixie, busybox and musl; the
//   host-libc one where the root's glibc reaches the bundle's floor, and where it does not,
//   `pyrelo check --root` predicts the failure the real start prints.
// `npm test` runs one version (3.13: its compile is cached in /var/cache/pyrelo/cpython, keyed by
// its inputs, so only a cold machine pays the few minutes); PYRELO_PYTHON_VERSIONS="3.11 3.13 3.14"
// runs more (`npm run lab:python-versions`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readManifest } from '../../src/bundle/manifest.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const VERSIONS = (process.env.PYRELO_PYTHON_VERSIONS ?? '3.13').split(/\s+/).filter((v) => v !== '');
const TIMEOUT = 60 * 60_000;
const SPACED = 'moved bundle';

const PROBE = `
import json, sys, sysconfig, ssl, sqlite3, ctypes, zlib, lzma, bz2, site
print(json.dumps({
  "version": sys.version.split()[0],
  "prefix": sys.prefix,
  "sysconfig_prefix": sysconfig.get_config_var("prefix"),
  "purelib": sysconfig.get_paths()["purelib"],
  "sitepackages": site.getsitepackages(),
  "libpython": sorted({l.rstrip("\\n").split(None, 5)[5] for l in open("/proc/self/maps") if "libpython" in l}),
  "ssl": ssl.OPENSSL_VERSION,
  "sqlite": sqlite3.sqlite_version,
}))
`;

interface Probe {
  version: string;
  prefix: string;
  sysconfig_prefix: string;
  purelib: string;
  sitepackages: string[];
  libpython: string[];
}

async function pyrelo(args: string[], cwd: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, [PYRELO, ...args], { cwd, reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function checkProbe(p: Probe, version: string, root: string): void {
  assert.ok(p.version === version || p.version.startsWith(`${version}.`), `${p.version} for ${version}`);
  assert.equal(p.prefix, root);
  assert.equal(p.sysconfig_prefix, root);
  assert.ok(p.purelib.startsWith(`${root}/lib/`), p.purelib);
  assert.ok(p.sitepackages.includes(p.purelib), `${p.purelib} in ${p.sitepackages.join(', ')}`);
  assert.equal(p.libpython.length, 1);
  assert.ok(p.libpython[0]!.startsWith(`${root}/lib/`), p.libpython[0]);
}

for (const version of VERSIONS) {
  test(
    `--python ${version}: bundles that pass the build checks and run moved, here and in the lab`,
    { timeout: TIMEOUT },
    async (t) => {
      const reason = buildSkipReason();
      if (reason) return t.skip(reason);
      const dir = await makeTempDir('pyrelo-versions-');
      try {
        const bundles: Record<'host' | 'bundle', string> = { host: '', bundle: '' };
        for (const libc of ['host', 'bundle'] as const) {
          const built = join(dir, `built-${libc}`);
          const r = await pyrelo(['build', '--python', version, '--libc', libc, '-o', built], dir);
          assert.equal(r.exitCode, 0, r.stderr);
          const manifest = readManifest(built);
          assert.ok(manifest.python.version.startsWith(`${version}`), manifest.python.version);
          assert.equal(manifest.python.build?.version, manifest.python.version);
          assert.match(manifest.python.build!.source, /^python3\.\d+_.*\.orig\.tar\.(gz|xz) \(Debian python3\.\d+ /);
          assert.ok(manifest.python.build!.configure.includes('--enable-shared'));
          assert.match(manifest.python.build!.compiler, /^(GCC|Clang) /);
          // Moved after the build: nothing may point back to where it was made.
          const moved = join(dir, `${SPACED} ${libc}`);
          renameSync(built, moved);
          bundles[libc] = moved;
        }
        const here = bundles.host;
        const short = version.split('.').slice(0, 2).join('.');
        const probe = await execa(join(here, 'bin', 'python3'), ['-I', '-c', PROBE], { reject: false });
        assert.equal(probe.exitCode, 0, probe.stderr);
        checkProbe(JSON.parse(probe.stdout) as Probe, version, here);
        assert.ok(existsSync(join(here, 'bin', `python${short}`)));
        const pip = await execa(join(here, 'bin', 'python3'), ['-m', 'pip', '--version'], { reject: false });
        assert.equal(pip.exitCode, 0, pip.stderr);
        assert.match(pip.stdout, new RegExp(`^pip \\S+ from ${here.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/lib/`));
        const venv = join(dir, 'venv');
        const made = await execa(join(here, 'bin', 'python3'), ['-m', 'venv', '--without-pip', venv], {
          reject: false,
        });
        assert.equal(made.exitCode, 0, made.stderr);
        const inVenv = await execa(join(venv, 'bin', 'python'), ['-c', 'import sys, ssl; print(sys.prefix)']);
        assert.equal(inVenv.stdout, venv);

        if (skipUnlessLab(t, ['debootstrap'])) return;
        for (const name of ['bullseye', 'bookworm', 'trixie', 'busybox', 'musl'] as const) {
          const root = await ensureRoot(name);
          for (const libc of ['bundle', 'host'] as const) {
            const inRoot = `/opt/${SPACED}`;
            const r = await runInRoot(root, [`${inRoot}/bin/python3`, '-I', '-c', PROBE], {
              bind: [{ hostPath: bundles[libc], rootPath: inRoot, readOnly: true }],
              cwd: '/',
              timeoutMs: 120_000,
            });
            const floor = readManifest(bundles[libc]).glibcFloor;
            const prediction = await pyrelo(['check', '--root', root, bundles[libc]], dir);
            if (libc === 'bundle' || prediction.exitCode === 0) {
              assert.equal(r.exitCode, 0, `${name}, --libc ${libc} (floor ${floor}): ${r.stderr}`);
              assert.equal(prediction.exitCode, 0, `${name}, --libc ${libc}: ${prediction.stdout}`);
              checkProbe(JSON.parse(r.stdout) as Probe, version, inRoot);
            } else {
              // Predicted not to load: it must not start, and each of ld.so's lines is predicted.
              assert.notEqual(r.exitCode, 0, `${name}, --libc ${libc}: predicted not to run, but ran`);
              const said = r.stderr.split('\n').filter((l) => / not found|cannot open|No such file/.test(l));
              assert.ok(said.length > 0, `${name}: ${r.stderr}`);
              for (const line of said) {
                const what = / (version `[^']+' not found|[^ ]+: cannot open shared object file)/.exec(line)?.[1];
                if (what !== undefined)
                  assert.ok(prediction.stdout.includes(what), `${name}: ${what} not predicted in ${prediction.stdout}`);
              }
            }
            t.diagnostic(
              `${version} --libc ${libc} in ${name}: ${r.exitCode === 0 ? 'runs' : 'does not start (predicted)'}`,
            );
          }
        }
      } finally {
        await removeDir(dir);
      }
    },
  );
}
