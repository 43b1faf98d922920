// Ground truth for bundles in the lab's roots, on ONE application with everything compiled in it:
// cryptography and cffi (PyPI), a libyaml extension built here (Debian's libyaml grafted), numpy
// (OpenBLAS in numpy.libs) and lxml (PyPI), driven by allsmoke, whose main() runs both smoke apps
// in-process and a multiprocessing pool with the spawn start method (see wheelhouse.ts). It is
// built twice, concurrently, once per libc mode, and every test shares those two builds:
// - --libc host runs all its commands (bin/allsmoke, bin/smoke, bin/scismoke, and a script through
//   bin/python3) in bookworm and trixie, from two bundle folders (one with a space and a non-ASCII
//   character) and two working directories;
// - in bullseye (glibc 2.31) the host-libc bundle cannot start, and `pyrelo check --root` predicts
//   exactly the `version ... not found` lines the real loader prints there;
// - --libc auto chooses bundle (floor 2.36 > 2.17); that bundle passes its own verify, keeps numpy's
//   libraries where their RUNPATHs point, is predicted to load in bullseye, bookworm, trixie and the
//   busybox root, and runs all its commands there, each with and without /proc mounted;
// - in every run, the child of subprocess.run(['sh', '-c', 'env; ls /']) works and sees no path into
//   the bundle, and the spawn pool's workers are the bundled interpreter, computing with numpy.
// The .run installer (of the smaller yamlsmoke app) works with busybox's sh and tar alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildResult } from '../../src/builder/build.js';
import { listBundleElves } from '../../src/builder/bundle-elves.js';
import { main } from '../../src/client/cli.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { checkAllSmoke, checkSciSmoke, checkYamlSmoke, type AllSmoke, type SciSmoke } from './allsmoke-check.js';
import { buildApp, buildCombined, buildSkipReason, type SmokeResult } from './shared-build.js';
import { makeCombinedWheelhouse } from './wheelhouse.js';
import { captureStdout } from '../support/capture-stdout.js';

const TIMEOUT = 40 * 60_000;
/** A script run by bin/python3: spawn re-runs it as __mp_main__ in every worker, hence the guard. */
const SMOKE_SCRIPT = 'import sys\nimport allsmoke\n\nif __name__ == "__main__":\n    sys.exit(allsmoke.main())\n';

interface Combined {
  result: BuildResult;
  lines: string[];
}
interface Built {
  dir: Promise<string>;
  host: Promise<Combined>;
  glibc: Promise<Combined>;
}

let built: Built | null = null;
let runBuilt: Promise<string> | null = null;

/** The two builds of the combined app (host libc, auto libc), started together on first use. */
function combined(): Built {
  built ??= (() => {
    const dir = makeTempDir('pyrelo-lab-build-');
    const wheelhouse = dir.then((d) => {
      writeFileSync(join(d, 'smoke.py'), SMOKE_SCRIPT);
      return makeCombinedWheelhouse(d);
    });
    const one = async (name: string, libc: 'host' | 'auto'): Promise<Combined> => {
      const lines: string[] = [];
      const result = await buildCombined(await wheelhouse, join(await dir, name), libc, lines);
      return { result, lines };
    };
    const host = one('host', 'host');
    const glibc = one('glibc-bundle', 'auto');
    // A failure is reported by the test awaiting it, not as an unhandled rejection meanwhile.
    host.catch(() => undefined);
    glibc.catch(() => undefined);
    return { dir, host, glibc };
  })();
  return built;
}

/** The yamlsmoke app as a self-extracting .run (only the busybox installer test needs it). */
function runInstaller(): Promise<string> {
  runBuilt ??= (async () => {
    const run = join(await combined().dir, 'app.run');
    await buildApp(run);
    return run;
  })();
  return runBuilt;
}

test.after(async () => {
  if (built !== null) {
    await Promise.allSettled([built.host, built.glibc, runBuilt]);
    await removeDir(await built.dir);
  }
});

function skip(t: { skip(reason: string): void }, need: 'debootstrap' | 'busybox' | null = 'debootstrap'): boolean {
  if (need !== null && skipUnlessLab(t, [need])) return true;
  const reason = buildSkipReason();
  if (reason) {
    t.skip(reason);
    return true;
  }
  return false;
}

/**
 * Runs, in `root` with the bundle bound read-only at `at` and from `cwd`: bin/allsmoke, bin/smoke,
 * bin/scismoke and `bin/python3 /srv/smoke.py` (allsmoke again, as a user script), and checks all.
 */
async function runAllSmokes(
  root: string,
  bundle: string,
  at: string,
  cwd: string,
  mountProc: boolean,
  what: string,
): Promise<void> {
  const dir = await combined().dir;
  const r = await runInRoot(
    root,
    [
      '/bin/sh',
      '-c',
      '"$1/bin/allsmoke" && "$1/bin/smoke" && "$1/bin/scismoke" && "$1/bin/python3" /srv/smoke.py',
      'sh',
      at,
    ],
    {
      bind: [{ hostPath: bundle, rootPath: at, readOnly: true }],
      copyIn: [
        { hostPath: join(dir, 'smoke.py'), rootPath: '/srv/smoke.py' },
        { hostPath: join(dir, 'smoke.py'), rootPath: '/srv/work/placeholder' },
      ],
      cwd,
      mountProc,
      timeoutMs: 180_000,
    },
  );
  assert.equal(r.exitCode, 0, `${what}: ${r.stderr}`);
  assert.equal(r.stderr, '', `${what}: nothing on stderr`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 4, `${what}: ${r.stdout}`);
  checkAllSmoke(JSON.parse(lines[0]!) as AllSmoke, at, cwd, `${at}/bin/python3.11`, `${what} bin/allsmoke`);
  checkYamlSmoke(JSON.parse(lines[1]!) as SmokeResult, at, cwd, `${what} bin/smoke`);
  checkSciSmoke(JSON.parse(lines[2]!) as SciSmoke, at, `${what} bin/scismoke`);
  checkAllSmoke(JSON.parse(lines[3]!) as AllSmoke, at, cwd, `${at}/bin/python3`, `${what} bin/python3 smoke.py`);
}

test(
  'combined app, --libc auto: glibc bundled; the build verifies; numpy.libs stays where its RUNPATHs point; ' +
    'host C++ runtime and libyaml grafted',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t, null)) return;
    const started = Date.now();
    const [{ result, lines }, host] = await Promise.all([combined().glibc, combined().host]);
    t.diagnostic(
      `both builds (run together; wheelhouses cached or not) took ${((Date.now() - started) / 1000).toFixed(1)}` +
        ` s: host ${host.result.seconds.toFixed(1)} s, auto ${result.seconds.toFixed(1)} s`,
    );
    const { manifest } = result;
    const bundle = result.output;
    assert.equal(manifest.libc, 'bundle', 'auto bundles glibc: numpy is manylinux_2_28 and the base Python needs 2.36');
    assert.ok(
      lines.includes('pyrelo build:     --libc auto: glibc floor 2.36 > --min-glibc 2.17: libc bundle'),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes('--libc auto: with its own glibc the bundle does not load host NSS modules')),
      'auto says what bundling costs on the hosts',
    );
    assert.equal(host.result.manifest.libc, 'host');
    const verify = manifest.steps.find((s) => s.name === 'verify');
    assert.match(verify?.summary ?? '', /ELF files load from the bundle and glibc only/, lines.join('\n'));
    for (const { manifest: m } of [result, host.result]) {
      const packages = new Map(m.python.packages.map((p) => [p.name, p.version]));
      assert.equal(packages.get('numpy'), '2.4.6');
      assert.equal(packages.get('lxml'), '6.1.3');
      for (const name of ['allsmoke', 'scismoke', 'yamlsmoke', 'cryptography', 'cffi'])
        assert.ok(packages.has(name), `${name} installed`);
      assert.deepEqual(m.smoke, ['bin/allsmoke']);
      assert.deepEqual(Object.keys(m.entryPoints).sort(), ['allsmoke', 'scismoke', 'smoke']);
      const yaml = m.grafted.find((g) => g.soname === 'libyaml-0.so.2');
      assert.deepEqual(yaml?.neededBy, [
        'lib/python3.11/site-packages/yamlsmoke/_yaml_c.cpython-311-x86_64-linux-gnu.so',
      ]);
    }

    const libs = readdirSync(join(bundle, 'lib/python3.11/site-packages/numpy.libs')).sort();
    assert.ok(
      libs.some((n) => n.startsWith('libscipy_openblas')) && libs.some((n) => n.startsWith('libgfortran-')),
      libs.join(' '),
    );
    // The wheel's own libraries are found through its RUNPATH, never copied a second time.
    const grafted = manifest.grafted.map((g) => g.soname);
    assert.deepEqual(
      grafted.filter((n) => libs.includes(n)),
      [],
      `grafted: ${grafted.join(' ')}`,
    );
    // What the manylinux policy leaves to the host (libstdc++, libgcc_s, libz) is not assumed by pyrelo's.
    for (const name of ['libstdc++.so.6', 'libgcc_s.so.1', 'libz.so.1'])
      assert.ok(grafted.includes(name), `${name} grafted: ${grafted.join(' ')}`);
    const umath = manifest.grafted.find((g) => g.soname === 'libstdc++.so.6')!;
    assert.ok(
      umath.neededBy.some((n) => n.includes('numpy/_core/_multiarray_umath')),
      umath.neededBy.join(' '),
    );

    // Every ELF: RUNPATH (not RPATH), $ORIGIN-relative only; numpy's extensions keep their numpy.libs.
    for (const elf of listBundleElves(bundle)) {
      assert.equal(elf.rpath, null, `${elf.rel}: DT_RPATH left`);
      for (const element of (elf.runpath ?? '').split(':').filter((e) => e !== ''))
        assert.match(element, /^\$ORIGIN(\/|$)/, `${elf.rel}: ${elf.runpath}`);
    }
    const record = (suffix: string) => manifest.elf.find((e) => e.path.includes(suffix));
    assert.match(record('numpy/_core/_multiarray_umath')?.runpath ?? '', /^\$ORIGIN\/\.\.\/\.\.\/numpy\.libs(:|$)/);
    assert.match(record('numpy.libs/libscipy_openblas')?.runpath ?? '', /^\$ORIGIN(:|$)/);
    assert.ok(
      manifest.files.some((f) => f.path.startsWith('lib/python3.11/site-packages/numpy.libs/libscipy_openblas')),
    );
  },
);

for (const name of ['bookworm', 'trixie'] as const) {
  test(
    `--libc host: every command of the combined app runs in ${name} from two bundle folders and two working ` +
      'directories; children clean; spawn pool',
    { timeout: TIMEOUT },
    async (t) => {
      if (skip(t)) return;
      const { result } = await combined().host;
      const root = await ensureRoot(name);
      const started = Date.now();
      // The second folder has a space and a non-ASCII character; the launchers quote and realpath it.
      for (const [at, cwd] of [
        ['/opt/bundle', '/'],
        ['/srv/my apps/bündle', '/srv/work'],
      ] as const) {
        await runAllSmokes(root, result.output, at, cwd, true, `${name} ${at} from ${cwd}`);
      }
      t.diagnostic(`${name}: two runs took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
  );
}

interface JsonFile {
  file: string;
  problems: Array<{ kind: string; message: string }>;
}

test(
  'bullseye: the host-libc bundle cannot start, and pyrelo check --root predicts exactly the `version ... not ' +
    'found` lines it prints',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t)) return;
    const { result } = await combined().host;
    const bundle = result.output;
    const root = await ensureRoot('bullseye');
    const at = '/opt/bundle';
    const interpreter = `${at}/bin/python3.11`;
    const { code, stdout } = await captureStdout(() => main(['check', '--root', root, '--json', bundle]));
    assert.equal(code, 1, 'check says it would not load');
    const report = JSON.parse(stdout) as { files: JsonFile[] };
    const file = report.files.find((f) => f.file === join(bundle, 'bin', 'python3.11'));
    assert.ok(file, `bin/python3.11 checked: ${report.files.map((f) => f.file).join(' ')}`);
    // ld.so prints "PROGRAM: MESSAGE"; the bundle is bound at /opt/bundle in the root.
    const predicted = file.problems
      .filter((p) => p.kind === 'missing-version')
      .map((p) => `${interpreter}: ${p.message.split(bundle).join(at)}`)
      .sort();
    assert.ok(predicted.length > 0);
    t.diagnostic(`predicted: ${predicted.join(' | ')}`);
    // Every command starts bin/python3.11 (the entry points exec it), so each prints the same lines.
    for (const argv of [
      [`${at}/bin/allsmoke`],
      [`${at}/bin/smoke`],
      [`${at}/bin/scismoke`],
      [interpreter, '-c', 'pass'],
    ]) {
      const real = await runInRoot(root, argv, { bind: [{ hostPath: bundle, rootPath: at, readOnly: true }] });
      assert.notEqual(real.exitCode, 0, `${argv[0]} cannot run on glibc 2.31`);
      assert.equal(real.stdout, '');
      const seen = real.stderr
        .split('\n')
        .filter((l) => / version `[^']+' not found /.test(l))
        .sort();
      assert.deepEqual(seen, predicted, argv[0]);
    }
  },
);

test('the .run installer works with busybox sh and tar only', { timeout: TIMEOUT }, async (t) => {
  if (skip(t, 'busybox')) return;
  const run = await runInstaller();
  const root = await ensureRoot('busybox');
  const r = await runInRoot(
    root,
    [
      '/bin/sh',
      '-c',
      'sh /srv/app.run --prefix /opt/app && ls /opt/app/bin/python3.11 && sh /srv/app.run --prefix /opt/app; ' +
        'echo "again=$?"',
    ],
    {
      copyIn: [{ hostPath: run, rootPath: '/srv/app.run' }],
    },
  );
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(
    r.stdout,
    /^installed yamlsmoke \(Python 3\.11\.7, \d+ files, \d+ bytes, every checksum checked\) into \/opt\/app$/m,
  );
  assert.match(r.stdout, /^\/opt\/app\/bin\/python3\.11$/m);
  assert.match(r.stdout, /again=1/);
  assert.match(r.stderr, /already exists \(use --force to replace it\)/);
});

for (const name of ['bullseye', 'bookworm', 'trixie', 'busybox'] as const) {
  const what = { bullseye: 'glibc 2.31', bookworm: 'glibc 2.36', trixie: 'glibc 2.41', busybox: 'no libc at all' }[
    name
  ];
  test(
    `--libc bundle (auto): pyrelo check --root ${name} (${what}) predicts it loads; every command runs with ` +
      'and without /proc; children clean; spawn pool',
    { timeout: TIMEOUT },
    async (t) => {
      if (skip(t, name === 'busybox' ? 'busybox' : 'debootstrap')) return;
      const { result } = await combined().glibc;
      const bundle = result.output;
      const root = await ensureRoot(name);
      let started = Date.now();
      const { code, stdout } = await captureStdout(() => main(['check', '--root', root, bundle]));
      assert.equal(code, 0, `pyrelo check --root ${name} predicts it loads:\n${stdout.slice(-3000)}`);
      const checked = (Date.now() - started) / 1000;
      started = Date.now();
      for (const mountProc of [true, false])
        await runAllSmokes(
          root,
          bundle,
          '/opt/bundle',
          '/tmp',
          mountProc,
          `${name} ${mountProc ? 'with' : 'without'} /proc`,
        );
      t.diagnostic(
        `${name}: check took ${checked.toFixed(1)} s, two runs ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    },
  );
}
