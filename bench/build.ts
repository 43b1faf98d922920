// bench/build: pyrelo build against the host interpreter and PyInstaller --onedir, on the same app
// (the build tests' yamlsmoke: cryptography, cffi and a libyaml extension), in one run:
// build time, installed and compressed size, start-up time of `python -c pass` and of importing
// the app. The host side is a venv of the same base interpreter with the same wheels; PyInstaller
// is pip-installed into a cache venv outside the checkout. Build time is measured twice per tool:
// with an empty cache (the first build on a machine) and with the cache the first build left (the
// median of three builds). Both sides do the same work in each figure: pyrelo's build installs the
// app with pip (its install step), so it is compared once without that step with PyInstaller alone,
// and once whole with PyInstaller plus the venv installation of the app it needs (a fresh venv and
// pip install from the same wheelhouse). The bundles are built --without-pip, as PyInstaller's
// folder holds no pip either, so the sizes compare the same contents.
//
//   npm run bench:build [-- RUNS]

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { build } from '../src/builder/build.js';
import { Progress } from '../src/builder/progress.js';
import { packBundle } from '../src/bundle/pack.js';
import { BASE_PYTHON, WHEELHOUSE_CACHE, ensureWheelhouse } from '../test/builder/wheelhouse.js';

const RUNS = Number(process.argv[2] ?? 20);
const IMPORT_APP = 'import yamlsmoke.smoke, yamlsmoke._yaml_c, cryptography.fernet';

async function timed<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/** Median wall time of RUNS runs (after one warm-up), in milliseconds. */
async function startup(argv: string[], cwd = '/'): Promise<number> {
  const env = { PATH: '/usr/bin:/bin', HOME: '/tmp' };
  const once = async (): Promise<number> => {
    const { seconds, value } = await timed(() => execa(argv[0]!, argv.slice(1), { cwd, env, extendEnv: false, reject: false }));
    if (value.exitCode !== 0) throw new Error(`${argv.join(' ')} failed: ${value.stderr}`);
    return seconds * 1000;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Progress that keeps each step's wall time, to take pyrelo's pip install step out of a build's time. */
class TimedProgress extends Progress {
  readonly seconds = new Map<string, number>();
  constructor() {
    super(() => undefined);
  }
  override async step<T extends { summary: string }>(name: string, run: () => Promise<T> | T): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      return await super.step(name, run);
    } finally {
      this.seconds.set(name, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
}

/** One build's wall time and the part of it that installed the app (pip). */
interface BuildTime { seconds: number; install: number }

/** Builds are noisier than start-ups (disk, page cache): the median of BUILD_RUNS, interleaved with nothing else. */
const BUILD_RUNS = 3;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** BUILD_RUNS builds: the median of their wall times, of those times without the app's installation, and each run. */
async function medianBuild(run: (i: number) => Promise<BuildTime>): Promise<{ seconds: number; withoutInstall: number; all: BuildTime[] }> {
  const all: BuildTime[] = [];
  for (let i = 0; i < BUILD_RUNS; i += 1) all.push(await run(i));
  return { seconds: median(all.map((b) => b.seconds)), withoutInstall: median(all.map((b) => b.seconds - b.install)), all };
}

async function duBytes(path: string): Promise<number> {
  const r = await execa('du', ['-sb', path]);
  return Number(r.stdout.split('\t')[0]);
}

async function compressedSizes(dir: string, work: string): Promise<{ gz: number; zst: number }> {
  await packBundle(dir, join(work, 'x.tar.gz'));
  await packBundle(dir, join(work, 'x.tar.zst'));
  const sizes = { gz: await duBytes(join(work, 'x.tar.gz')), zst: await duBytes(join(work, 'x.tar.zst')) };
  rmSync(join(work, 'x.tar.gz'));
  rmSync(join(work, 'x.tar.zst'));
  return sizes;
}

/** A venv of the base interpreter with the app and PyInstaller, cached outside the checkout. */
async function benchVenv(wheelhouse: string): Promise<string> {
  const venv = join(WHEELHOUSE_CACHE, '..', 'bench', 'venv-pyinstaller');
  if (existsSync(join(venv, '.complete'))) return venv;
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(join(venv, '..'), { recursive: true });
  await execa(BASE_PYTHON, ['-m', 'venv', venv]);
  await execa(join(venv, 'bin', 'pip'), ['install', '--quiet', '--no-index', '--find-links', wheelhouse, 'yamlsmoke']);
  await execa(join(venv, 'bin', 'pip'), ['install', '--quiet', 'pyinstaller']);
  writeFileSync(join(venv, '.complete'), '');
  return venv;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

async function main(): Promise<void> {
  const wheelhouse = await ensureWheelhouse();
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-bench-build-'));
  try {
    console.log(`bench/build: app yamlsmoke (+ cryptography, cffi, libyaml) on ${BASE_PYTHON}; ${RUNS} runs per start-up time (median)`);
    // Both tools keep a cache between builds: pyrelo its base stage and pip runner (PYRELO_CACHE),
    // PyInstaller its bincache (PYINSTALLER_CONFIG_DIR). Each builds twice, first with an empty
    // cache of its own, then with the cache that first build left.
    process.env.PYRELO_CACHE = join(work, 'pyrelo-cache');
    const ourBuild = async (output: string): Promise<BuildTime> => {
      const progress = new TimedProgress();
      const { seconds } = await timed(() => build({
        project: 'yamlsmoke', python: BASE_PYTHON, requirements: null, wheelhouse, libc: 'host', minGlibc: '2.17',
        entries: ['smoke=yamlsmoke.smoke:main'], slim: true, clear: false, prompt: null, withPip: false, output,
      }, progress));
      const install = progress.seconds.get('install');
      if (install === undefined) throw new Error('pyrelo build ran no install step');
      return { seconds, install };
    };
    const oursCold = await ourBuild(join(work, 'bundle-cold'));
    const bundle = join(work, 'bundle');
    const ours = await medianBuild((i) => ourBuild(i === 0 ? bundle : join(work, `bundle-${i}`)));
    const oursSize = await duBytes(bundle);
    const oursPacked = await compressedSizes(bundle, work);

    // The bare runtime of the size target: no project, --without-pip (stdlib, ssl, sqlite3, ctypes, with .pyc).
    const bare = join(work, 'bare');
    await build({
      project: null, python: BASE_PYTHON, requirements: null, wheelhouse: null, libc: 'host', minGlibc: '2.17',
      entries: [], slim: true, clear: false, prompt: null, withPip: false, output: bare,
    }, new Progress(() => undefined));
    const bareSize = await duBytes(bare);
    await packBundle(bare, join(work, 'bare.tar.xz'));
    const bareXz = await duBytes(join(work, 'bare.tar.xz'));

    const venv = await benchVenv(wheelhouse);
    const script = join(work, 'app_main.py');
    writeFileSync(script, `${IMPORT_APP}\n`);
    // What PyInstaller needs before it runs and pyrelo does in its install step: a venv of the base
    // interpreter with the app installed by pip from the wheelhouse (timed on a fresh venv each time;
    // PyInstaller itself then runs from the cached venv, which holds the same app).
    const venvInstall = async (name: string): Promise<number> => (await timed(async () => {
      const fresh = join(work, name);
      await execa(BASE_PYTHON, ['-m', 'venv', fresh]);
      await execa(join(fresh, 'bin', 'pip'), ['install', '--quiet', '--no-index', '--find-links', wheelhouse, 'yamlsmoke']);
    })).seconds;
    const pyinstaller = async (dist: string): Promise<BuildTime> => {
      const install = await venvInstall(`${dist}-venv`);
      const { seconds } = await timed(() => execa(join(venv, 'bin', 'pyinstaller'), ['--onedir', '--noconfirm', '--log-level', 'ERROR',
        '--distpath', join(work, dist), '--workpath', join(work, `${dist}-work`), '--specpath', work,
        '--hidden-import', 'yamlsmoke._yaml_c', '--hidden-import', 'cryptography.fernet', script],
      { cwd: work, env: { PYINSTALLER_CONFIG_DIR: join(work, 'pyinstaller-cache') } }));
      return { seconds: install + seconds, install };
    };
    const pyiCold = await pyinstaller('pyi-cold');
    const pyi = await medianBuild((i) => pyinstaller(i === 0 ? 'pyi-dist' : `pyi-dist-${i}`));
    const pyiDir = join(work, 'pyi-dist', 'app_main');
    const pyiSize = await duBytes(pyiDir);
    const pyiPacked = await compressedSizes(pyiDir, work);

    const bundlePass = await startup([join(bundle, 'bin', 'python3'), '-c', 'pass']);
    const hostPass = await startup([join(venv, 'bin', 'python'), '-c', 'pass']);
    const bundleApp = await startup([join(bundle, 'bin', 'python3'), '-c', IMPORT_APP]);
    const hostApp = await startup([join(venv, 'bin', 'python'), '-c', IMPORT_APP]);
    const pyiApp = await startup([join(pyiDir, 'app_main')]);

    console.log('');
    console.log('                     pyrelo bundle   host venv   PyInstaller --onedir');
    const runs = (all: readonly BuildTime[]): string => all.map((b) => `${b.seconds.toFixed(1)} (pip ${b.install.toFixed(1)})`).join(' ');
    console.log(`build, empty cache   ${oursCold.seconds.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ${pyiCold.seconds.toFixed(1).padStart(10)} s   (app installed by pip included on both sides)`);
    console.log(`build time (median)  ${ours.seconds.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ${pyi.seconds.toFixed(1).padStart(10)} s   (the same; runs: pyrelo ${runs(ours.all)}, PyInstaller ${runs(pyi.all)})`);
    console.log(`  without pip install${ours.withoutInstall.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ${pyi.withoutInstall.toFixed(1).padStart(10)} s   (pyrelo without its install step, PyInstaller alone)`);
    console.log(`installed size       ${mb(oursSize).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiSize).padStart(12)}`);
    console.log(`.tar.gz              ${mb(oursPacked.gz).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiPacked.gz).padStart(12)}`);
    console.log(`.tar.zst             ${mb(oursPacked.zst).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiPacked.zst).padStart(12)}`);
    console.log(`python -c pass       ${bundlePass.toFixed(1).padStart(9)} ms   ${hostPass.toFixed(1).padStart(6)} ms   ${'-'.padStart(12)}`);
    console.log(`import the app       ${bundleApp.toFixed(1).padStart(9)} ms   ${hostApp.toFixed(1).padStart(6)} ms   ${pyiApp.toFixed(1).padStart(9)} ms`);
    console.log(`bare runtime (--without-pip, no app): ${mb(bareSize)} installed, ${mb(bareXz)} as .tar.xz (targets: 40 MB, 12 MB)`);
    console.log('');
    console.log(`ratios: start-up bundle/host ${ratio(bundlePass, hostPass)} (-c pass), ${ratio(bundleApp, hostApp)} (app); `
      + `bundle/PyInstaller: app start-up ${ratio(bundleApp, pyiApp)}, build time with the app's pip install ${ratio(ours.seconds, pyi.seconds)} `
      + `(empty caches ${ratio(oursCold.seconds, pyiCold.seconds)}), without it ${ratio(ours.withoutInstall, pyi.withoutInstall)} `
      + `(empty caches ${ratio(oursCold.seconds - oursCold.install, pyiCold.seconds - pyiCold.install)}), `
      + `installed ${ratio(oursSize, pyiSize)}, .tar.zst ${ratio(oursPacked.zst, pyiPacked.zst)} (no pip on either side)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
