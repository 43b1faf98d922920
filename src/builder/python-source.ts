// `pyrelo build --python-source TARBALL`: the base Python compiled from a CPython source tarball.
// Configured with --enable-shared and an $ORIGIN-relative RUNPATH (without it, bin/python3.x finds
// libpython3.x.so.1.0 through ld.so.cache, and on a host with a system libpython of that name it
// silently runs with the wrong one), built, installed into a prefix in the cache, and checked:
// the interpreter carries RUNPATH $ORIGIN/../lib, loads its own libpython, and imports the modules
// an application expects (ssl, sqlite3, ctypes, zlib, bz2, lzma; CPython's make only warns when
// one cannot be built).
//
// The compiler is zig targeting an old glibc (zig-toolchain.ts), with OpenSSL, SQLite, libffi and
// the other libraries compiled the same way (base-libraries.ts) and linked in statically, so the
// base's glibc floor is the toolchain's target, not the build host's glibc (README, "A base with
// an old glibc floor"). On a machine data/base-libraries.json pins no zig for, the host's cc
// compiles it against the host's libraries, as before. Either way the installed build-time data
// (_sysconfigdata, the Makefile) names plain cc and ar: an sdist compiled later on a target uses
// that host's compiler.
//
// Cache: <cache>/<key>/ is the installed prefix and <key>.json its stamp, where the key hashes the
// tarball's sha256, the configure flags, the recipe version and the libraries' key (which hashes
// the toolchain and every library source). The build runs in <key>.build-*/
// (configure --prefix=<cache>/<key>, make install DESTDIR=…), the prefix is renamed into place, and
// the stamp is written last: a prefix without a stamp, or missing its interpreter or libpython, is
// removed and built again. make's output goes to <key>.log, named when a step fails.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { sha256File } from '../bundle/file-list.js';
import { ElfFile } from '../elf/elf-file.js';
import { loadBaseLibraries, type BaseLibraries } from './base-libraries-data.js';
import { ensureBaseLibraries, librariesKey, toolchainEnv, type BuiltLibraries } from './base-libraries.js';
import { builderCacheRoot } from './cache-root.js';
import { BuildInputError } from './errors.js';
import { runLogged } from './logged-command.js';
import type { Progress } from './progress.js';
import { ensureZigToolchain, zigSummary, zigTarget, type ZigToolchain } from './zig-toolchain.js';

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
/** Also required of a base compiled with zig, whose libraries pyrelo builds itself (base-libraries.ts). */
export const ZIG_REQUIRED_MODULES: ReadonlyArray<readonly [string, string]> = [
  ...REQUIRED_MODULES,
  ['readline', 'readline (base-libraries)'],
  ['curses', 'ncurses (base-libraries)'],
  ['_curses_panel', 'ncurses (base-libraries)'],
  ['_uuid', 'libuuid (base-libraries)'],
  ['_hashlib', 'openssl (base-libraries)'],
];
/**
 * Modules a zig base goes without: they would link libraries of the build host (gdbm, Berkeley DB,
 * NIS's libnsl) whose glibc floor is the host's. dbm falls back to dbm.dumb.
 */
const ZIG_DISABLED_MODULES = ['_gdbm', '_dbm', 'nis', '_tkinter'];

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
  /** The libraries compiled for it ("openssl 3.5.7-1~deb13u2", …); empty when the host's were used. */
  readonly libraries: readonly string[];
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
  /** zig-toolchain.ts's summary; null or absent (stamps written before zig) for the host's cc. */
  readonly toolchain?: string | null;
  /** BuiltLibraries.versions; empty or absent for the host's cc. */
  readonly libraries?: readonly string[];
}

/** How a prefix is compiled: zig and its libraries, or (null) the host's cc and libraries. */
interface Toolchain {
  readonly zig: ZigToolchain;
  readonly libraries: BuiltLibraries;
}

/**
 * What a zig build will use, known before anything is fetched or compiled: enough for the cache
 * key, so a cached prefix needs neither zig nor the libraries, and a bad tarball is refused before
 * they are built.
 */
interface ToolchainPlan {
  readonly data: BaseLibraries;
  readonly librariesKey: string;
  /** "zig 0.17.0 (ziglang wheel sha256 …) -target x86_64-linux-gnu.2.17" */
  readonly summary: string;
  /** "openssl 3.5.7-1~deb13u2", … */
  readonly versions: readonly string[];
}

export function defaultCpythonCache(): string {
  return join(builderCacheRoot(), 'cpython');
}

export function cacheKey(tarballSha256: string, toolchain: Pick<ToolchainPlan, 'librariesKey'> | null): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        recipe: CPYTHON_RECIPE,
        tarballSha256,
        configure: CONFIGURE_FLAGS,
        ldflags: RPATH_LDFLAGS,
        ...(toolchain === null ? {} : { libraries: toolchain.librariesKey, disabled: ZIG_DISABLED_MODULES }),
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

/** The cached prefix compiled from a tarball of this sha256 (the newest, if several), or null. */
export function cachedPrefixOf(tarballSha256: string, cache = defaultCpythonCache()): string | null {
  if (!existsSync(cache)) return null;
  const found = readdirSync(cache)
    .filter((n) => /^[0-9a-f]{16}\.json$/.test(n))
    .map((n) => ({ key: n.slice(0, 16), stamp: readStamp(cache, n.slice(0, 16)) }))
    .filter((x) => x.stamp?.tarballSha256 === tarballSha256)
    .sort((a, b) => statSync(join(cache, `${b.key}.json`)).mtimeMs - statSync(join(cache, `${a.key}.json`)).mtimeMs);
  return found.length === 0 ? null : join(cache, found[0]!.key);
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
async function checkPrefix(
  prefix: string,
  python: string,
  required: ReadonlyArray<readonly [string, string]>,
): Promise<{ version: string; compiler: string }> {
  const runpath = runpathOf(python);
  if (runpath !== '$ORIGIN/../lib')
    throw new Error(
      `${python}: RUNPATH is ${runpath ?? 'not set'}, expected $ORIGIN/../lib (the LDFLAGS quoting did not ` +
        'survive configure and make)',
    );
  const r = await execa(python, ['-I', '-c', CHECK_SCRIPT, ...required.map(([m]) => m)], {
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
    const packages = required.filter(([m]) => out.missing.some((x) => x.startsWith(`${m} `))).map(([, p]) => p);
    throw new Error(
      required === REQUIRED_MODULES
        ? `the CPython build lacks modules: ${out.missing.join('; ')} (install ${packages.join(' ')}: ` +
            'scripts/install-system-deps.sh)'
        : `the CPython build lacks modules: ${out.missing.join('; ')} (libraries: ${packages.join(', ')}); ` +
            `see the build's log in ${prefix}.log`,
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

function buildEnv(toolchain: Toolchain | null): Record<string, string> {
  if (toolchain !== null) {
    const libs = toolchain.libraries.prefix;
    return toolchainEnv(toolchain.zig, libs, {
      PATH: `${toolchain.zig.shims}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
      CPPFLAGS: `-I${libs}/include -I${libs}/include/ncursesw`,
      LDFLAGS: `${RPATH_LDFLAGS} -L${libs}/lib`,
      // Static archives do not bring their own needs: libcrypto and SQLite's dlopen and threads
      // (libdl and libpthread are separate libraries in glibc before 2.34).
      LIBS: '-ldl -lpthread',
      // zig makes clang refuse __DATE__ and __TIME__ (getbuildinfo.c); for the interpreter only,
      // not recorded for extension modules.
      CFLAGS_NODIST: '-Wno-error=date-time',
      ...Object.fromEntries(ZIG_DISABLED_MODULES.map((m) => [`py_cv_module_${m}`, 'n/a'])),
    });
  }
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LC_ALL: 'C',
    LDFLAGS: RPATH_LDFLAGS,
    ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }),
  };
}

/** ./configure's flags beyond CONFIGURE_FLAGS: where the zig-built OpenSSL is. */
function toolchainFlags(toolchain: Toolchain | null): string[] {
  return toolchain === null ? [] : [`--with-openssl=${toolchain.libraries.prefix}`];
}

/**
 * The installed build-time data names zig's wrappers and the library prefix: an extension module
 * compiled later (an sdist, on whatever host runs the bundle) must use plain cc and ar, and must
 * not look for headers in this machine's cache.
 */
function forgetToolchain(prefix: string, toolchain: Toolchain): number {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // The wrappers by their plain names (cc, c++, ar, ranlib, pkg-config), -I and -L into the
  // library prefix dropped, what else names it (--with-openssl=…, in CONFIG_ARGS) left as a word.
  const wrappers = new RegExp(`${escape(toolchain.zig.bin)}/`, 'g');
  const flags = new RegExp(` ?-[IL]${escape(toolchain.libraries.prefix)}[^\\s'"]*`, 'g');
  const rest = new RegExp(escape(toolchain.libraries.prefix), 'g');
  let count = 0;
  for (const file of buildDataFiles(prefix)) {
    const text = readFileSync(file, 'utf8');
    const next = text.replace(wrappers, '').replace(flags, '').replace(rest, 'base-libraries');
    if (next === text) continue;
    writeFileSync(file, next);
    count += 1;
  }
  return count;
}

/** _sysconfigdata*.py and the Makefile in config-… of each stdlib in the prefix. */
function buildDataFiles(prefix: string): string[] {
  const files: string[] = [];
  const lib = join(prefix, 'lib');
  for (const stdlib of readdirSync(lib)
    .filter((n) => /^python3\.\d+$/.test(n))
    .map((n) => join(lib, n))) {
    for (const n of readdirSync(stdlib))
      if (n.startsWith('_sysconfigdata') && n.endsWith('.py')) files.push(join(stdlib, n));
    for (const config of readdirSync(stdlib).filter((n) => n.startsWith('config-')))
      files.push(join(stdlib, config, 'Makefile'));
  }
  return files.filter((f) => existsSync(f));
}

/**
 * The installed build-time data names the unpacked source (abs_srcdir, RUNSHARED, …), a folder
 * that is gone: point those at the prefix instead, and drop their stale bytecode.
 */
function forgetSourceDir(prefix: string, sourceDir: string): number {
  let count = 0;
  for (const file of buildDataFiles(prefix)) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes(sourceDir)) continue;
    writeFileSync(file, text.split(sourceDir).join(prefix));
    count += 1;
  }
  const lib = join(prefix, 'lib');
  for (const stdlib of readdirSync(lib)
    .filter((n) => /^python3\.\d+$/.test(n))
    .map((n) => join(lib, n))) {
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
  prepare: (() => Promise<Toolchain>) | null,
  progress: Progress,
): Promise<{ seconds: number; sourceDir: string }> {
  let t0 = Date.now();
  const prefix = join(cache, key);
  const work = join(cache, `${key}.build-${randomBytes(4).toString('hex')}`);
  const log = join(cache, `${key}.log`);
  const source = join(work, 'src');
  const destdir = join(work, 'root');
  writeFileSync(log, `pyrelo build --python-source ${tarball} (sha256 ${tarballSha256})\n`);
  mkdirSync(source, { recursive: true });
  // Two jobs at most with zig: it is the default on shared build machines too, and its compiles
  // are no slower per job than gcc's.
  const jobs = prepare === null ? availableParallelism() : Math.min(2, availableParallelism());
  try {
    await runLogged(
      progress,
      'python-source',
      'unpack',
      log,
      'tar',
      ['-xf', tarball, '-C', source, '--strip-components=1', '--no-same-owner'],
      work,
      buildEnv(null),
    );
    if (!existsSync(join(source, 'configure')))
      throw new BuildInputError(
        `--python-source ${tarball}`,
        'not a CPython source tarball (no configure at its top level)',
      );
    // Only now zig and the libraries (fetched and compiled once, then cached): a bad tarball is
    // refused before that.
    const toolchain = prepare === null ? null : await prepare();
    if (toolchain !== null) t0 = Date.now();
    const env = buildEnv(toolchain);
    const flags = [...CONFIGURE_FLAGS, ...toolchainFlags(toolchain), `--prefix=${prefix}`];
    await runLogged(progress, 'python-source', 'configure', log, './configure', flags, source, env);
    await runLogged(progress, 'python-source', `make -j${jobs}`, log, 'make', [`-j${jobs}`], source, env);
    await runLogged(
      progress,
      'python-source',
      'make install',
      log,
      'make',
      ['install', `DESTDIR=${destdir}`],
      source,
      env,
    );
    rmSync(prefix, { recursive: true, force: true });
    renameSync(join(destdir, prefix), prefix);
    forgetSourceDir(prefix, source);
    if (toolchain !== null) forgetToolchain(prefix, toolchain);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { seconds: (Date.now() - t0) / 1000, sourceDir: source };
}

function summaryOf(stamp: Stamp): string {
  return (
    `CPython ${stamp.version} from ${stamp.tarball} (sha256 ${stamp.tarballSha256.slice(0, 12)}…): ` +
    `${stamp.configure.join(' ')}, RUNPATH $ORIGIN/../lib` +
    (stamp.toolchain ? `; compiled with ${stamp.toolchain}, linking ${(stamp.libraries ?? []).join(', ')}` : '')
  );
}

function result(prefix: string, stamp: Stamp, cached: boolean, compiler: string): SourcePython {
  return {
    tarball: stamp.tarball,
    configure: [...stamp.configure, `LDFLAGS=${stamp.ldflags}`, ...(stamp.toolchain ? [`CC=${stamp.toolchain}`] : [])],
    compiler,
    libraries: stamp.libraries ?? [],
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

/** The zig build's plan, or null (the host's cc) on a machine the data file pins no zig for. */
function planToolchain(progress: Progress): ToolchainPlan | null {
  // Opt-in until a zig base has passed its checks end to end (README, "A base with an old glibc floor").
  if (process.env.PYRELO_ZIG_BASE !== '1') return null;
  const data = loadBaseLibraries();
  const target = zigTarget(data.zig);
  if (target === null) {
    progress.note(
      `python-source: ${data.path} pins no zig for this machine: compiling with the host's cc and ` +
        "libraries (the base's glibc floor is then this host's)",
    );
    return null;
  }
  return {
    data,
    librariesKey: librariesKey(data, target),
    summary: zigSummary(data.zig)!,
    versions: data.libraries.map((l) => `${l.package} ${l.debianVersion}`),
  };
}

/** zig and the libraries of a plan: fetched, checked and compiled when not cached yet. */
async function prepareToolchain(plan: ToolchainPlan, mirror: string, progress: Progress): Promise<Toolchain> {
  const zig = await ensureZigToolchain(plan.data.zig, progress);
  if (zig === null) throw new Error(`${plan.data.path}: no zig for this machine`);
  return { zig, libraries: await ensureBaseLibraries(plan.data, zig, mirror, progress) };
}

/** The cached prefix built from TARBALL: compiled when missing or damaged, then checked. */
export async function ensurePythonFromSource(
  tarball: string,
  progress: Progress,
  mirror: string,
  cache = defaultCpythonCache(),
): Promise<SourcePython> {
  const path = resolve(tarball);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new BuildInputError(`--python-source ${tarball}`, 'no such file');
  const tarballSha256 = sha256File(path);
  const plan = planToolchain(progress);
  const key = cacheKey(tarballSha256, plan);
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
  const prepare = plan === null ? null : () => prepareToolchain(plan, mirror, progress);
  const { seconds, sourceDir } = await compile(path, tarballSha256, cache, key, prepare, progress);
  const python = interpreterOf(prefix);
  if (python === null) throw new Error(`make install left no bin/python3.x in ${prefix}; see ${log}`);
  const required = plan === null ? REQUIRED_MODULES : ZIG_REQUIRED_MODULES;
  const { version, compiler } = await checkPrefix(prefix, python, required);
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
    toolchain: plan?.summary ?? null,
    libraries: plan?.versions ?? [],
  };
  const temporary = join(cache, `${key}.json.tmp-${process.pid}`);
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(temporary, join(cache, `${key}.json`));
  progress.note(`python-source: CPython ${version} compiled in ${seconds.toFixed(1)} s; cached in ${prefix}`);
  return result(prefix, next, false, compiler);
}
