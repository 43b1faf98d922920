// `pyrelo build --python-source TARBALL`: the base Python compiled from a CPython source tarball.
// Configured with --enable-shared and an $ORIGIN-relative RUNPATH (without it, bin/python3.x finds
// libpython3.x.so.1.0 through ld.so.cache, and on a host with a system libpython of that name it
// silently runs with the wrong one), built, installed into a prefix in the cache, and checked:
// the interpreter carries RUNPATH $ORIGIN/../lib, loads its own libpython, and imports the modules
// an application expects (ssl, sqlite3, ctypes, zlib, bz2, lzma; CPython's make only warns when
// one cannot be built).
//
// Cache: <cache>/<key>/ is the installed prefix and <key>.json its stamp, where the key hashes the
// tarball's sha256, the configure flags and the recipe version. The build runs in <key>.build-*/
// (configure --prefix=<cache>/<key>, make install DESTDIR=…), the prefix is renamed into place, and
// the stamp is written last: a prefix without a stamp, or missing its interpreter or libpython, is
// removed and built again. make's output goes to <key>.log, named when a step fails.

import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { sha256File } from '../bundle/file-list.js';
import { ElfFile } from '../elf/elf-file.js';
import { builderCacheRoot } from './cache-root.js';
import { BuildInputError } from './errors.js';
import type { Progress } from './progress.js';

/** Bump when the way a prefix is built changes: every cached prefix is then rebuilt. */
export const CPYTHON_RECIPE = 1;
/** -Wl,-rpath,\$$ORIGIN/../lib: make turns $$ into $, the recipe's shell \$ into $, so the linker sees $ORIGIN. */
export const RPATH_LDFLAGS = '-Wl,-rpath,\\$$ORIGIN/../lib';
/**
 * pip is not installed (site-packages is not bundled); ensurepip's wheels are, and the install step
 * runs pip from them.
 */
export const CONFIGURE_FLAGS: readonly string[] = ['--enable-shared', '--with-ensurepip=no'];
/** Modules a bundle must have: `import` names, with the Debian package whose absence loses each. */
export const REQUIRED_MODULES: ReadonlyArray<readonly [string, string]> = [
  ['ssl', 'libssl-dev'],
  ['sqlite3', 'libsqlite3-dev'],
  ['ctypes', 'libffi-dev'],
  ['zlib', 'zlib1g-dev'],
  ['bz2', 'libbz2-dev'],
  ['lzma', 'liblzma-dev'],
];

export interface SourcePython {
  /** The installed prefix (in the cache). */
  readonly prefix: string;
  /** Its interpreter, e.g. <prefix>/bin/python3.11. */
  readonly python: string;
  readonly key: string;
  readonly tarballSha256: string;
  /** "3.11.2" */
  readonly version: string;
  /** Where the source was unpacked and built (gone now): a build path the bundle must not name. */
  readonly sourceDir: string;
  /** One deterministic line for the manifest (no times, no cache state). */
  readonly summary: string;
  /** True when the prefix came from the cache. */
  readonly cached: boolean;
  /** The tarball's file name. */
  readonly tarball: string;
  /** ./configure's flags (but --prefix) and LDFLAGS, as the manifest records them. */
  readonly configure: readonly string[];
  /** platform.python_compiler() of the interpreter: "GCC 12.2.0". */
  readonly compiler: string;
}

interface Stamp {
  readonly recipe: number;
  readonly key: string;
  readonly tarball: string;
  readonly tarballSha256: string;
  readonly configure: readonly string[];
  readonly ldflags: string;
  readonly python: string;
  readonly version: string;
  readonly sourceDir: string;
  readonly seconds: number;
  /** platform.python_compiler(); absent in stamps written before it was recorded (asked then). */
  readonly compiler?: string;
}

export function defaultCpythonCache(): string {
  return join(builderCacheRoot(), 'cpython');
}

export function cacheKey(tarballSha256: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify({ recipe: CPYTHON_RECIPE, tarballSha256, configure: CONFIGURE_FLAGS, ldflags: RPATH_LDFLAGS }),
    )
    .digest('hex')
    .slice(0, 16);
}

/** bin/python3.x of a prefix, or null. */
function interpreterOf(prefix: string): string | null {
  const bin = join(prefix, 'bin');
  if (!existsSync(bin)) return null;
  const name = readdirSync(bin)
    .filter((n) => /^python3\.\d+$/.test(n))
    .sort()[0];
  return name === undefined ? null : join(bin, name);
}

/** The stamp when the cached prefix is whole, else null. */
function readStamp(cache: string, key: string): Stamp | null {
  const stampPath = join(cache, `${key}.json`);
  if (!existsSync(stampPath)) return null;
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as Stamp;
  } catch {
    return null;
  }
  if (stamp.key !== key || stamp.recipe !== CPYTHON_RECIPE) return null;
  const prefix = join(cache, key);
  const python = interpreterOf(prefix);
  if (python === null || python !== join(prefix, stamp.python)) return null;
  const short = /python(3\.\d+)$/.exec(python)![1]!;
  if (
    !existsSync(join(prefix, 'lib', `libpython${short}.so.1.0`)) ||
    !existsSync(join(prefix, 'lib', `python${short}`, 'os.py'))
  )
    return null;
  return stamp;
}

/** DT_RUNPATH (or DT_RPATH) of an ELF file. */
export function runpathOf(path: string): string | null {
  const elf = ElfFile.open(path);
  try {
    const dynamic = elf.dynamic();
    return dynamic?.runpath ?? dynamic?.rpath ?? null;
  } finally {
    elf.close();
  }
}

/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
const CHECK_SCRIPT = `
import importlib, json, platform, sys
missing = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as e:
        missing.append("%s (%s)" % (name, e))
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libpython" in l]
print(json.dumps({"version": sys.version.split()[0], "missing": missing, "libpython": sorted(set(maps)), "compiler": platform.python_compiler()}))
`;
/* eslint-enable max-len */

/** The installed prefix must run on its own libpython and have every required module. */
async function checkPrefix(prefix: string, python: string): Promise<{ version: string; compiler: string }> {
  const runpath = runpathOf(python);
  if (runpath !== '$ORIGIN/../lib')
    throw new Error(
      `${python}: RUNPATH is ${runpath ?? 'not set'}, expected $ORIGIN/../lib (the LDFLAGS quoting did not ` +
        'survive configure and make)',
    );
  const r = await execa(python, ['-I', '-c', CHECK_SCRIPT, ...REQUIRED_MODULES.map(([m]) => m)], {
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C.UTF-8' },
    extendEnv: false,
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(`${python} does not run: ${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout) as { version: string; missing: string[]; libpython: string[]; compiler: string };
  if (out.libpython.length !== 1 || !out.libpython[0]!.startsWith(`${prefix}/lib/`)) {
    throw new Error(
      `${python} loaded ${out.libpython.join(', ') || 'no libpython'} instead of the one in ${prefix}/lib`,
    );
  }
  if (out.missing.length > 0) {
    const packages = REQUIRED_MODULES.filter(([m]) => out.missing.some((x) => x.startsWith(`${m} `))).map(([, p]) => p);
    throw new Error(
      `the CPython build lacks modules: ${out.missing.join('; ')} (install ${packages.join(' ')}: ` +
        'scripts/install-system-deps.sh)',
    );
  }
  return { version: out.version, compiler: out.compiler };
}

/** The compiler of a cached prefix whose stamp predates recording it. */
async function compilerOf(python: string): Promise<string> {
  const r = await execa(python, ['-I', '-c', 'import platform; print(platform.python_compiler())'], {
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C.UTF-8' },
    extendEnv: false,
  });
  return r.stdout.trim();
}

/** Runs one build command with its output appended to the log; a heartbeat note while it runs. */
async function runLogged(
  progress: Progress,
  label: string,
  log: string,
  file: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
): Promise<void> {
  const t0 = Date.now();
  progress.note(`python-source: ${label} ...`);
  const out = createWriteStream(log, { flags: 'a' });
  out.write(`\n$ ${file} ${args.join(' ')}\n`);
  let compiled = 0;
  const child = execa(file, args, { cwd, env, extendEnv: false, reject: false, all: true, buffer: false });
  child.all?.on('data', (chunk: Buffer) => {
    out.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (/^(gcc|cc) (.* )?-c /.test(line)) compiled += 1;
  });
  const timer = setInterval(() => {
    progress.note(
      `python-source: ${label}: ${((Date.now() - t0) / 1000).toFixed(0)} s` +
        `${compiled > 0 ? `, ${compiled} files compiled` : ''}`,
    );
  }, 20_000);
  let result;
  try {
    result = await child;
  } finally {
    clearInterval(timer);
    await new Promise<void>((done) => out.end(done));
  }
  if (result.exitCode !== 0) {
    throw new Error(`${label} failed (exit ${result.exitCode ?? result.signal}); its output is in ${log}`);
  }
  progress.note(`python-source: ${label} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

function buildEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LC_ALL: 'C',
    LDFLAGS: RPATH_LDFLAGS,
    ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }),
  };
}

/**
 * The installed build-time data names the unpacked source (abs_srcdir, RUNSHARED, …), a folder
 * that is gone: point those at the prefix instead, and drop their stale bytecode.
 */
function forgetSourceDir(prefix: string, sourceDir: string): number {
  let count = 0;
  const lib = join(prefix, 'lib');
  for (const stdlib of readdirSync(lib)
    .filter((n) => /^python3\.\d+$/.test(n))
    .map((n) => join(lib, n))) {
    const candidates = readdirSync(stdlib)
      .filter((n) => n.startsWith('_sysconfigdata') && n.endsWith('.py'))
      .map((n) => join(stdlib, n));
    for (const config of readdirSync(stdlib).filter((n) => n.startsWith('config-')))
      candidates.push(join(stdlib, config, 'Makefile'));
    for (const file of candidates.filter((f) => existsSync(f))) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes(sourceDir)) continue;
      writeFileSync(file, text.split(sourceDir).join(prefix));
      count += 1;
    }
    const cache = join(stdlib, '__pycache__');
    if (existsSync(cache))
      for (const n of readdirSync(cache).filter((n) => n.startsWith('_sysconfigdata'))) rmSync(join(cache, n));
  }
  return count;
}

async function compile(
  tarball: string,
  tarballSha256: string,
  cache: string,
  key: string,
  progress: Progress,
): Promise<{ seconds: number; sourceDir: string }> {
  const t0 = Date.now();
  const prefix = join(cache, key);
  const work = join(cache, `${key}.build-${randomBytes(4).toString('hex')}`);
  const log = join(cache, `${key}.log`);
  const source = join(work, 'src');
  const destdir = join(work, 'root');
  writeFileSync(log, `pyrelo build --python-source ${tarball} (sha256 ${tarballSha256})\n`);
  mkdirSync(source, { recursive: true });
  const jobs = availableParallelism();
  try {
    const env = buildEnv();
    await runLogged(
      progress,
      'unpack',
      log,
      'tar',
      ['-xf', tarball, '-C', source, '--strip-components=1', '--no-same-owner'],
      work,
      env,
    );
    if (!existsSync(join(source, 'configure')))
      throw new BuildInputError(
        `--python-source ${tarball}`,
        'not a CPython source tarball (no configure at its top level)',
      );
    await runLogged(progress, 'configure', log, './configure', [...CONFIGURE_FLAGS, `--prefix=${prefix}`], source, env);
    await runLogged(progress, `make -j${jobs}`, log, 'make', [`-j${jobs}`], source, env);
    await runLogged(progress, 'make install', log, 'make', ['install', `DESTDIR=${destdir}`], source, env);
    rmSync(prefix, { recursive: true, force: true });
    renameSync(join(destdir, prefix), prefix);
    forgetSourceDir(prefix, source);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { seconds: (Date.now() - t0) / 1000, sourceDir: source };
}

function summaryOf(stamp: Stamp): string {
  return (
    `CPython ${stamp.version} from ${stamp.tarball} (sha256 ${stamp.tarballSha256.slice(0, 12)}…): ` +
    `${stamp.configure.join(' ')}, RUNPATH $ORIGIN/../lib`
  );
}

function result(prefix: string, stamp: Stamp, cached: boolean, compiler: string): SourcePython {
  return {
    tarball: stamp.tarball,
    configure: [...stamp.configure, `LDFLAGS=${stamp.ldflags}`],
    compiler,
    prefix,
    python: join(prefix, stamp.python),
    key: stamp.key,
    tarballSha256: stamp.tarballSha256,
    version: stamp.version,
    sourceDir: stamp.sourceDir,
    summary: summaryOf(stamp),
    cached,
  };
}

/** The cached prefix built from TARBALL: compiled when missing or damaged, then checked. */
export async function ensurePythonFromSource(
  tarball: string,
  progress: Progress,
  cache = defaultCpythonCache(),
): Promise<SourcePython> {
  const path = resolve(tarball);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new BuildInputError(`--python-source ${tarball}`, 'no such file');
  const tarballSha256 = sha256File(path);
  const key = cacheKey(tarballSha256);
  const prefix = join(cache, key);
  const log = join(cache, `${key}.log`);
  const stamp = readStamp(cache, key);
  if (stamp !== null) {
    progress.note(
      `python-source: CPython ${stamp.version} from ${stamp.tarball} (sha256 ${tarballSha256.slice(0, 12)}…) ` +
        `compiled before (${stamp.seconds.toFixed(0)} s); cached in ${prefix}`,
    );
    return result(prefix, stamp, true, stamp.compiler ?? (await compilerOf(join(prefix, stamp.python))));
  }
  mkdirSync(cache, { recursive: true });
  rmSync(join(cache, `${key}.json`), { force: true });
  progress.note(
    `python-source: compiling ${path} (sha256 ${tarballSha256.slice(0, 12)}…) into ${prefix}; output in ${log}`,
  );
  const { seconds, sourceDir } = await compile(path, tarballSha256, cache, key, progress);
  const python = interpreterOf(prefix);
  if (python === null) throw new Error(`make install left no bin/python3.x in ${prefix}; see ${log}`);
  const { version, compiler } = await checkPrefix(prefix, python);
  const next: Stamp = {
    recipe: CPYTHON_RECIPE,
    key,
    tarball: basename(path),
    tarballSha256,
    configure: CONFIGURE_FLAGS,
    ldflags: RPATH_LDFLAGS,
    python: relative(prefix, python),
    version,
    sourceDir,
    seconds,
    compiler,
  };
  const temporary = join(cache, `${key}.json.tmp-${process.pid}`);
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(temporary, join(cache, `${key}.json`));
  progress.note(`python-source: CPython ${version} compiled in ${seconds.toFixed(1)} s; cached in ${prefix}`);
  return result(prefix, next, false, compiler);
}
