// bench/build: pyrelo build against the host interpreter and PyInstaller --onedir, on the same app,
// for two apps in one run: the build tests' yamlsmoke (cryptography, cffi and a libyaml extension)
// and their multi-wheel application allsmoke (yamlsmoke and scismoke: also numpy and lxml, real
// PyPI wheels with their own .libs folders; test/builder/wheelhouse.ts), each measured for:
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
//   npm run bench:build [-- RUNS [APP...]]     (APP: yamlsmoke, allsmoke; both by default)

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { build } from '../src/builder/build.js';
import { Progress } from '../src/builder/progress.js';
import { packBundle } from '../src/bundle/pack.js';
import {
  BASE_PYTHON,
  COMBINED_ENTRIES,
  WHEELHOUSE_CACHE,
  ensureWheelhouse,
  makeCombinedWheelhouse,
} from '../test/builder/wheelhouse.js';

const RUNS = Number(process.argv[2] ?? 20);

/** An app both tools package: how pyrelo builds it, how pip installs it for PyInstaller, what importing it means. */
interface App {
  readonly name: string;
  readonly label: string;
  /** Its wheelhouse, and the requirements file beside the project (null: the project alone). */
  readonly wheels: (work: string) => Promise<{ wheelhouse: string; requirements: string | null }>;
  readonly entries: readonly string[];
  /** Imported by the start-up figure, and named to PyInstaller as hidden imports (loaded lazily by the app). */
  readonly imports: readonly string[];
}

const APPS: readonly App[] = [
  {
    name: 'yamlsmoke',
    label: 'yamlsmoke (+ cryptography, cffi, libyaml)',
    wheels: async () => ({ wheelhouse: await ensureWheelhouse(), requirements: null }),
    entries: ['smoke=yamlsmoke.smoke:main'],
    imports: ['yamlsmoke.smoke', 'yamlsmoke._yaml_c', 'cryptography.fernet'],
  },
  {
    name: 'allsmoke',
    label: 'allsmoke, a multi-wheel app (yamlsmoke, cryptography, cffi, libyaml, scismoke, numpy, lxml)',
    wheels: (work) => makeCombinedWheelhouse(join(work, 'allsmoke-wheels')),
    entries: COMBINED_ENTRIES,
    imports: [
      'allsmoke',
      'yamlsmoke.smoke',
      'yamlsmoke._yaml_c',
      'cryptography.fernet',
      'scismoke',
      'numpy',
      'lxml.etree',
    ],
  },
];

async function timed<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/** Median wall time of RUNS runs (after one warm-up), in milliseconds. */
async function startup(argv: string[], cwd = '/'): Promise<number> {
  const env = { PATH: '/usr/bin:/bin', HOME: '/tmp' };
  const once = async (): Promise<number> => {
    const { seconds, value } = await timed(() =>
      execa(argv[0]!, argv.slice(1), { cwd, env, extendEnv: false, reject: false }),
    );
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
interface BuildTime {
  seconds: number;
  install: number;
}

/** Builds are noisier than start-ups (disk, page cache): the median of BUILD_RUNS, interleaved with nothing else. */
const BUILD_RUNS = 3;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** BUILD_RUNS builds: the median of their wall times, of those times without the app's installation, and each run. */
async function medianBuild(
  run: (i: number) => Promise<BuildTime>,
): Promise<{ seconds: number; withoutInstall: number; all: BuildTime[] }> {
  const all: BuildTime[] = [];
  for (let i = 0; i < BUILD_RUNS; i += 1) all.push(await run(i));
  return {
    seconds: median(all.map((b) => b.seconds)),
    withoutInstall: median(all.map((b) => b.seconds - b.install)),
    all,
  };
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

/** What pip installs for `app`: the project, and its requirements file when it has one. */
function pipArguments(app: App, wheels: { wheelhouse: string; requirements: string | null }): string[] {
  return [
    'install',
    '--quiet',
    '--no-index',
    '--find-links',
    wheels.wheelhouse,
    app.name,
    ...(wheels.requirements === null ? [] : ['-r', wheels.requirements]),
  ];
}

/** A venv of the base interpreter with the app and PyInstaller, cached outside the checkout (one per app). */
async function benchVenv(app: App, wheels: { wheelhouse: string; requirements: string | null }): Promise<string> {
  const venv = join(
    WHEELHOUSE_CACHE,
    '..',
    'bench',
    app.name === 'yamlsmoke' ? 'venv-pyinstaller' : `venv-pyinstaller-${app.name}`,
  );
  if (existsSync(join(venv, '.complete'))) return venv;
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(join(venv, '..'), { recursive: true });
  await execa(BASE_PYTHON, ['-m', 'venv', venv]);
  await execa(join(venv, 'bin', 'pip'), pipArguments(app, wheels));
  await execa(join(venv, 'bin', 'pip'), ['install', '--quiet', 'pyinstaller']);
  writeFileSync(join(venv, '.complete'), '');
  return venv;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

/** The bare runtime of the size target: no project, --without-pip (stdlib, ssl, sqlite3, ctypes, with .pyc). */
async function bareRuntime(work: string): Promise<{ size: number; xz: number }> {
  const bare = join(work, 'bare');
  await build(
    {
      project: null,
      python: BASE_PYTHON,
      requirements: null,
      wheelhouse: null,
      libc: 'host',
      minGlibc: '2.17',
      entries: [],
      slim: true,
      clear: false,
      prompt: null,
      withPip: false,
      output: bare,
    },
    new Progress(() => undefined),
  );
  await packBundle(bare, join(work, 'bare.tar.xz'));
  return { size: await duBytes(bare), xz: await duBytes(join(work, 'bare.tar.xz')) };
}

/** Both tools on one app, in a folder of its own under `work`; prints its table and ratios. */
async function benchApp(app: App, base: string): Promise<void> {
  const work = join(base, app.name);
  mkdirSync(work);
  const wheels = await app.wheels(work);
  const importApp = `import ${app.imports.join(', ')}`;
  console.log(`app ${app.label}`);
  // Both tools keep a cache between builds: pyrelo its base stage and pip runner (PYRELO_CACHE),
  // PyInstaller its bincache (PYINSTALLER_CONFIG_DIR). Each builds twice, first with an empty
  // cache of its own, then with the cache that first build left.
  process.env.PYRELO_CACHE = join(work, 'pyrelo-cache');
  const ourBuild = async (output: string): Promise<BuildTime> => {
    const progress = new TimedProgress();
    const { seconds } = await timed(() =>
      build(
        {
          project: app.name,
          python: BASE_PYTHON,
          requirements: wheels.requirements,
          wheelhouse: wheels.wheelhouse,
          libc: 'host',
          minGlibc: '2.17',
          entries: app.entries,
          slim: true,
          clear: false,
          prompt: null,
          withPip: false,
          output,
        },
        progress,
      ),
    );
    const install = progress.seconds.get('install');
    if (install === undefined) throw new Error('pyrelo build ran no install step');
    return { seconds, install };
  };
  const oursCold = await ourBuild(join(work, 'bundle-cold'));
  const bundle = join(work, 'bundle');
  const ours = await medianBuild((i) => ourBuild(i === 0 ? bundle : join(work, `bundle-${i}`)));
  const oursSize = await duBytes(bundle);
  const oursPacked = await compressedSizes(bundle, work);

  const venv = await benchVenv(app, wheels);
  const script = join(work, 'app_main.py');
  writeFileSync(script, `${importApp}\n`);
  // What PyInstaller needs before it runs and pyrelo does in its install step: a venv of the base
  // interpreter with the app installed by pip from the wheelhouse (timed on a fresh venv each time;
  // PyInstaller itself then runs from the cached venv, which holds the same app).
  const venvInstall = async (name: string): Promise<number> =>
    (
      await timed(async () => {
        const fresh = join(work, name);
        await execa(BASE_PYTHON, ['-m', 'venv', fresh]);
        await execa(join(fresh, 'bin', 'pip'), pipArguments(app, wheels));
      })
    ).seconds;
  const pyinstaller = async (dist: string): Promise<BuildTime> => {
    const install = await venvInstall(`${dist}-venv`);
    const { seconds } = await timed(() =>
      execa(
        join(venv, 'bin', 'pyinstaller'),
        [
          '--onedir',
          '--noconfirm',
          '--log-level',
          'ERROR',
          '--distpath',
          join(work, dist),
          '--workpath',
          join(work, `${dist}-work`),
          '--specpath',
          work,
          ...app.imports.flatMap((m) => ['--hidden-import', m]),
          script,
        ],
        { cwd: work, env: { PYINSTALLER_CONFIG_DIR: join(work, 'pyinstaller-cache') } },
      ),
    );
    return { seconds: install + seconds, install };
  };
  const pyiCold = await pyinstaller('pyi-cold');
  const pyi = await medianBuild((i) => pyinstaller(i === 0 ? 'pyi-dist' : `pyi-dist-${i}`));
  const pyiDir = join(work, 'pyi-dist', 'app_main');
  const pyiSize = await duBytes(pyiDir);
  const pyiPacked = await compressedSizes(pyiDir, work);

  const bundlePass = await startup([join(bundle, 'bin', 'python3'), '-c', 'pass']);
  const hostPass = await startup([join(venv, 'bin', 'python'), '-c', 'pass']);
  const bundleApp = await startup([join(bundle, 'bin', 'python3'), '-c', importApp]);
  const hostApp = await startup([join(venv, 'bin', 'python'), '-c', importApp]);
  const pyiApp = await startup([join(pyiDir, 'app_main')]);

  console.log('                     pyrelo bundle   host venv   PyInstaller --onedir');
  const runs = (all: readonly BuildTime[]): string =>
    all.map((b) => `${b.seconds.toFixed(1)} (pip ${b.install.toFixed(1)})`).join(' ');
  console.log(
    `build, empty cache   ${oursCold.seconds.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ` +
      `${pyiCold.seconds.toFixed(1).padStart(10)} s   (app installed by pip included on both sides)`,
  );
  console.log(
    `build time (median)  ${ours.seconds.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ` +
      `${pyi.seconds.toFixed(1).padStart(10)} s   (the same; runs: pyrelo ${runs(ours.all)}, PyInstaller ` +
      `${runs(pyi.all)})`,
  );
  console.log(
    `  without pip install${ours.withoutInstall.toFixed(1).padStart(10)} s   ${'-'.padStart(9)}   ` +
      `${pyi.withoutInstall.toFixed(1).padStart(10)} s   (pyrelo without its install step, PyInstaller alone)`,
  );
  console.log(`installed size       ${mb(oursSize).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiSize).padStart(12)}`);
  console.log(
    `.tar.gz              ${mb(oursPacked.gz).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiPacked.gz).padStart(12)}`,
  );
  console.log(
    `.tar.zst             ${mb(oursPacked.zst).padStart(12)}   ${'-'.padStart(9)}   ${mb(pyiPacked.zst).padStart(12)}`,
  );
  console.log(
    `python -c pass       ${bundlePass.toFixed(1).padStart(9)} ms   ${hostPass.toFixed(1).padStart(6)} ms   ` +
      `${'-'.padStart(12)}`,
  );
  console.log(
    `import the app       ${bundleApp.toFixed(1).padStart(9)} ms   ${hostApp.toFixed(1).padStart(6)} ms   ` +
      `${pyiApp.toFixed(1).padStart(9)} ms`,
  );
  console.log(
    `ratios: start-up bundle/host ${ratio(bundlePass, hostPass)} (-c pass), ${ratio(bundleApp, hostApp)} (app); ` +
      (`bundle/PyInstaller: app start-up ${ratio(bundleApp, pyiApp)}, build time with the app's pip install ` +
        `${ratio(ours.seconds, pyi.seconds)} `) +
      (`(empty caches ${ratio(oursCold.seconds, pyiCold.seconds)}), without it ` +
        `${ratio(ours.withoutInstall, pyi.withoutInstall)} `) +
      `(empty caches ${ratio(oursCold.seconds - oursCold.install, pyiCold.seconds - pyiCold.install)}), ` +
      `installed ${ratio(oursSize, pyiSize)}, .tar.zst ${ratio(oursPacked.zst, pyiPacked.zst)} (no pip on either side)`,
  );
  console.log('');
  rmSync(work, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const names = process.argv.slice(3);
  const unknown = names.filter((n) => !APPS.some((a) => a.name === n));
  if (unknown.length > 0)
    throw new Error(`bench/build: no app ${unknown.join(', ')} (apps: ${APPS.map((a) => a.name).join(', ')})`);
  const apps = names.length === 0 ? APPS : APPS.filter((a) => names.includes(a.name));
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-bench-build-'));
  try {
    console.log(
      `bench/build: ${apps.map((a) => a.name).join(' and ')} on ${BASE_PYTHON}; ${RUNS} runs per start-up time ` +
        '(median)',
    );
    console.log('');
    for (const app of apps) await benchApp(app, work);
    const bare = await bareRuntime(work);
    console.log(
      `bare runtime (--without-pip, no app): ${mb(bare.size)} installed, ${mb(bare.xz)} as .tar.xz (targets: ` +
        '40 MB, 12 MB)',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
