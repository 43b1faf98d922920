// bench/build: pyrelo build against the host interpreter and PyInstaller --onedir, on the same app
// (the build tests' yamlsmoke: cryptography, cffi and a libyaml extension), in one run:
// build time, installed and compressed size, start-up time of `python -c pass` and of importing
// the app. The host side is a venv of the same base interpreter with the same wheels; PyInstaller
// is pip-installed into a cache venv outside the checkout. Build time is measured twice per tool:
// with an empty cache (the first build on a machine) and with the cache the first build left (the
// median of three builds).
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

/** Builds are noisier than start-ups (disk, page cache): the median of BUILD_RUNS, interleaved with nothing else. */
const BUILD_RUNS = 3;

async function medianBuild(run: (i: number) => Promise<unknown>): Promise<{ seconds: number; all: number[] }> {
  const all: number[] = [];
  for (let i = 0; i < BUILD_RUNS; i += 1) all.push((await timed(() => run(i))).seconds);
  return { seconds: [...all].sort((a, b) => a - b)[Math.floor(BUILD_RUNS / 2)]!, all };
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
    const ourBuild = (output: string): Promise<unknown> => build({
      project: 'yamlsmoke', python: BASE_PYTHON, requirements: null, wheelhouse, libc: 'host', minGlibc: '2.17',
      entries: ['smoke=yamlsmoke.smoke:main'], slim: true, clear: false, prompt: null, withPip: true, output,
    }, new Progress(() => undefined));
    const oursCold = await timed(() => ourBuild(join(work, 'bundle-cold')));
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
    const pyinstaller = (dist: string): Promise<unknown> => execa(join(venv, 'bin', 'pyinstaller'), ['--onedir', '--noconfirm', '--log-level', 'ERROR',
      '--distpath', join(work, dist), '--workpath', join(work, `${dist}-work`), '--specpath', work,
      '--hidden-import', 'yamlsmoke._yaml_c', '--hidden-import', 'cryptography.fernet', script],
    { cwd: work, env: { PYINSTALLER_CONFIG_DIR: join(work, 'pyinstaller-cache') } });
    const pyiCold = await timed(() => pyinstaller('pyi-cold'));
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
    console.log(`build, empty cache   ${oursCold.seconds.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ${pyiCold.seconds.toFixed(1).padStart(10)} s`);
    console.log(`build time (median)  ${ours.seconds.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ${pyi.seconds.toFixed(1).padStart(10)} s`
      + `   (runs: pyrelo ${ours.all.map((x) => x.toFixed(1)).join(' ')}, PyInstaller ${pyi.all.map((x) => x.toFixed(1)).join(' ')})`);
    console.log(`installed size       ${mb(oursSize).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiSize).padStart(12)}`);
    console.log(`.tar.gz              ${mb(oursPacked.gz).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiPacked.gz).padStart(12)}`);
    console.log(`.tar.zst             ${mb(oursPacked.zst).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiPacked.zst).padStart(12)}`);
    console.log(`python -c pass       ${bundlePass.toFixed(1).padStart(9)} ms   ${hostPass.toFixed(1).padStart(6)} ms   ${'-'.padStart(12)}`);
    console.log(`import the app       ${bundleApp.toFixed(1).padStart(9)} ms   ${hostApp.toFixed(1).padStart(6)} ms   ${pyiApp.toFixed(1).padStart(9)} ms`);
    console.log(`bare runtime (--without-pip, no app): ${mb(bareSize)} installed, ${mb(bareXz)} as .tar.xz (targets: 40 MB, 12 MB)`);
    console.log('');
    console.log(`ratios: start-up bundle/host ${ratio(bundlePass, hostPass)} (-c pass), ${ratio(bundleApp, hostApp)} (app); `
      + `bundle/PyInstaller: app start-up ${ratio(bundleApp, pyiApp)}, build time ${ratio(ours.seconds, pyi.seconds)} (empty caches ${ratio(oursCold.seconds, pyiCold.seconds)}), `
      + `installed ${ratio(oursSize, pyiSize)}, .tar.zst ${ratio(oursPacked.zst, pyiPacked.zst)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
