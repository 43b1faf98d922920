// Bundles of CPython chosen by version number (`pyrelo build --python 3.13`), each built twice
// (--libc host, --libc bundle) with pip, so that it passes the build's own checks (scrub of build
// paths, verify) as 3.11 does, and then run MOVED to a folder with a space in its name:
// - here: the version asked for, its own libpython, ssl, sqlite3, ctypes, zlib, lzma, bz2; sysconfig's
//   prefix and install scheme inside the moved folder; pip runs (ensurepip's wheel of that version);
//   `python -m venv` works;
// - in the lab's roots: the bundled-libc bundle in bullseye, bookworm, trixie, busybox and musl; the
//   host-libc one where the root's glibc reaches the bundle's floor, and where it does not,
//   `pyrelo check --root` predicts the failure the real start prints.
// Then, per version, the combined app (wheelhouse.ts: yamlsmoke's C extension compiled against that
// CPython's headers and linking libyaml, cryptography/cffi, numpy with OpenBLAS, lxml, a spawn pool)
// from that version's wheels (cp313, …), built with both libcs, run moved here and in the lab's glibc
// and busybox roots the same way (the musl root has no sh for the app's child).
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
import { cachedPrefixOf } from '../../src/builder/python-source.js';
import { checkAllSmoke, type AllSmoke } from './allsmoke-check.js';
import { COMBINED_ENTRIES, ensureVersionWheelhouse, makeCombinedWheelhouse } from './wheelhouse.js';
import { EXPECTED_GLIBC, ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
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

/**
 * Whether a bundle must run in a lab root: a bundled libc runs everywhere; the host's libc only in a
 * glibc root whose glibc reaches the bundle's floor. Decided from the floor, not from pyrelo's own
 * prediction, so a wrong prediction (or a library left out) fails the test instead of excusing it.
 */
function mustRun(libc: 'host' | 'bundle', root: string, floor: string | null): boolean {
  if (libc === 'bundle') return true;
  const glibc = (EXPECTED_GLIBC as Record<string, string | undefined>)[root];
  if (glibc === undefined) return false;
  if (floor === null) return true;
  const [a, b] = [floor, glibc].map((v) => v.split('.').map(Number));
  return a![0]! < b![0]! || (a![0] === b![0] && a![1]! <= b![1]!);
}

/**
 * The skip reason when the mirror answered 404 for every release of the version (this machine's
 * mirror lacks sid's 3.14 and 3.15 pool files: README, "CPython by version number"), else null. Only
 * that exit-2 line: any other failure stays a failure.
 */
function sourceMissing(r: { exitCode: number; stderr: string }): string | null {
  const line = r.stderr
    .split('\n')
    .find((l) => /^pyrelo: --python \S+: the mirror \S+ holds none of .*HTTP 404/.test(l));
  return r.exitCode === 2 && line !== undefined ? line : null;
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
          const missing = sourceMissing(r);
          if (missing !== null) return t.skip(missing);
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
            if (mustRun(libc, name, floor)) {
              assert.equal(r.exitCode, 0, `${name}, --libc ${libc} (floor ${floor}): ${r.stderr}`);
              assert.equal(prediction.exitCode, 0, `${name}, --libc ${libc}: ${prediction.stdout}`);
              checkProbe(JSON.parse(r.stdout) as Probe, version, inRoot);
            } else {
              // Below the floor (or no glibc): it must not start, pyrelo must say so, and each of
              // ld.so's lines is predicted.
              assert.notEqual(r.exitCode, 0, `${name}, --libc ${libc}: predicted not to run, but ran`);
              assert.notEqual(prediction.exitCode, 0, `${name}, --libc ${libc}: ${prediction.stdout}`);
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

/**
 * The include folder (…/include/python3.X) of the CPython `pyrelo build --python VERSION` compiles:
 * a cached bare build (seconds once compiled) names its source's sha256, which keys the prefix.
 */
async function includeOfVersion(version: string, dir: string): Promise<string | { missing: string }> {
  const bare = join(dir, 'bare');
  const r = await pyrelo(['build', '--python', version, '--without-pip', '-o', bare], dir);
  const missing = sourceMissing(r);
  if (missing !== null) return { missing };
  assert.equal(r.exitCode, 0, r.stderr);
  const build = readManifest(bare).python.build!;
  const short = build.version.split('.').slice(0, 2).join('.');
  const prefix = cachedPrefixOf(build.sourceSha256);
  assert.ok(prefix !== null, `no cached CPython compiled from sha256 ${build.sourceSha256}`);
  return join(prefix, 'include', `python${short}`);
}

for (const version of VERSIONS) {
  test(
    `--python ${version}: the combined app (C extension, cryptography, numpy, lxml) from its own wheels ` +
      'runs moved, here and in the lab',
    { timeout: TIMEOUT },
    async (t) => {
      const reason = buildSkipReason();
      if (reason) return t.skip(reason);
      const dir = await makeTempDir('pyrelo-versions-app-');
      try {
        const include = await includeOfVersion(version, dir);
        if (typeof include !== 'string') return t.skip(include.missing);
        const combined = await makeCombinedWheelhouse(dir, await ensureVersionWheelhouse(include));
        const bundles: Record<'host' | 'bundle', string> = { host: '', bundle: '' };
        let full = '';
        for (const libc of ['host', 'bundle'] as const) {
          const built = join(dir, `app-${libc}`);
          const args = ['build', 'yamlsmoke', '--python', version, '-r', combined.requirements];
          args.push('--wheelhouse', combined.wheelhouse, '--libc', libc, '--smoke', 'bin/allsmoke', '-o', built);
          for (const entry of COMBINED_ENTRIES) args.push('--entry', entry);
          const started = Date.now();
          const r = await pyrelo(args, dir);
          assert.equal(r.exitCode, 0, r.stderr);
          const manifest = readManifest(built);
          full = manifest.python.version;
          const short = full.split('.').slice(0, 2).join('.');
          const packages = new Map(manifest.python.packages.map((p) => [p.name, p.version]));
          assert.equal(packages.get('numpy'), '2.4.6');
          assert.equal(packages.get('lxml'), '6.1.3');
          for (const name of ['allsmoke', 'scismoke', 'yamlsmoke', 'cryptography', 'cffi'])
            assert.ok(packages.has(name), `${name} installed`);
          // The extension built for this version's ABI, its libyaml grafted from the build host.
          const abi = short.replace('.', '');
          assert.deepEqual(manifest.grafted.find((g) => g.soname === 'libyaml-0.so.2')?.neededBy, [
            `lib/python${short}/site-packages/yamlsmoke/_yaml_c.cpython-${abi}-x86_64-linux-gnu.so`,
          ]);
          assert.ok(
            manifest.files.some((f) =>
              f.path.startsWith(`lib/python${short}/site-packages/numpy.libs/libscipy_openblas`),
            ),
          );
          t.diagnostic(`${full} app --libc ${libc}: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          const moved = join(dir, `${SPACED} app ${libc}`);
          renameSync(built, moved);
          bundles[libc] = moved;
        }
        const short = full.split('.').slice(0, 2).join('.');
        for (const libc of ['host', 'bundle'] as const) {
          const at = bundles[libc];
          const r = await execa(join(at, 'bin', 'allsmoke'), [], {
            cwd: dir,
            env: { PATH: '/usr/bin:/bin' },
            extendEnv: false,
            reject: false,
          });
          assert.equal(r.exitCode, 0, r.stderr);
          checkAllSmoke(
            JSON.parse(r.stdout) as AllSmoke,
            at,
            dir,
            `${at}/bin/python${short}`,
            `here, --libc ${libc}`,
            full,
          );
        }

        if (skipUnlessLab(t, ['debootstrap'])) return;
        for (const name of ['bullseye', 'bookworm', 'trixie', 'busybox'] as const) {
          const root = await ensureRoot(name);
          for (const libc of ['bundle', 'host'] as const) {
            const at = `/opt/${SPACED}`;
            const r = await runInRoot(root, [`${at}/bin/allsmoke`], {
              bind: [{ hostPath: bundles[libc], rootPath: at, readOnly: true }],
              cwd: '/tmp',
              timeoutMs: 180_000,
            });
            const prediction = await pyrelo(['check', '--root', root, bundles[libc]], dir);
            const floor = readManifest(bundles[libc]).glibcFloor;
            const what = `${name}, app --libc ${libc} (floor ${floor})`;
            if (mustRun(libc, name, floor)) {
              assert.equal(r.exitCode, 0, `${what}: ${r.stderr}`);
              assert.equal(prediction.exitCode, 0, `${what}: ${prediction.stdout}`);
              checkAllSmoke(JSON.parse(r.stdout) as AllSmoke, at, '/tmp', `${at}/bin/python${short}`, what, full);
            } else {
              assert.notEqual(r.exitCode, 0, `${what}: below its floor, but ran`);
              assert.notEqual(prediction.exitCode, 0, `${what}: predicted to run: ${prediction.stdout}`);
              assert.match(r.stderr, / not found|cannot open|No such file/, what);
            }
            t.diagnostic(
              `${full} app --libc ${libc} in ${name}: ${r.exitCode === 0 ? 'runs' : 'does not start (predicted)'}`,
            );
          }
        }
      } finally {
        await removeDir(dir);
      }
    },
  );
}
