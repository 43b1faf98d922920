// The libraries a base CPython links (OpenSSL, SQLite, libffi, zlib, bzip2, xz, ncurses, readline,
// libuuid), compiled with zig for an old glibc (zig-toolchain.ts) from the Debian source packages
// data/base-libraries.json pins, as static archives (-fPIC) in one prefix: CPython's extension
// modules link them in, so a bundle grafts none of the build host's copies, and its glibc floor is
// the toolchain's target (README, "A base with an old glibc floor").
//
// Cache: <cache>/base-libs/<key>/ is the prefix and <key>.json its stamp; the key hashes the recipe
// version, the toolchain pin and every library entry (a regenerated data file gives a new prefix).
// Each library is unpacked and built in <key>.build/, two at a time (one make job each), installed
// with DESTDIR into a folder of its own there, and only when that succeeded copied into the
// folder's copy of the prefix and marked done (<key>.build/done-NAME): a build that fails or is
// interrupted keeps the libraries it finished, and the next one starts from there. Once all are
// in, the copy is renamed into place and the stamp written last. make's output goes to <key>.log,
// named when a step fails.

import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BaseLibraries, type LibraryName, type LibrarySource } from './base-libraries-data.js';
import { builderCacheRoot } from './cache-root.js';
import { fetchPoolSource } from './cpython-fetch.js';
import { runLogged } from './logged-command.js';
import type { Progress } from './progress.js';
import type { ZigToolchain } from './zig-toolchain.js';

/** Bump when a recipe below changes: every cached prefix is then rebuilt. */
export const LIBRARIES_RECIPE = 1;
/** Libraries built at once; each runs one make job (the build host's other work keeps its cores). */
const AT_ONCE = 2;
/** The host's terminfo folders, in ncurses' order (data/host-terminfo.json's hostDirs; TERMINFO_DIRS wins). */
const TERMINFO_DIRS = '/etc/terminfo:/lib/terminfo:/usr/share/terminfo:/usr/lib/terminfo:/usr/share/lib/terminfo';
/** SQLite as Debian and CPython's own builds enable it. */
const SQLITE_FLAGS = [
  '-DSQLITE_ENABLE_COLUMN_METADATA',
  '-DSQLITE_ENABLE_DBSTAT_VTAB',
  '-DSQLITE_ENABLE_FTS3',
  '-DSQLITE_ENABLE_FTS3_PARENTHESIS',
  '-DSQLITE_ENABLE_FTS4',
  '-DSQLITE_ENABLE_FTS5',
  '-DSQLITE_ENABLE_MATH_FUNCTIONS',
  '-DSQLITE_ENABLE_RTREE',
  '-DSQLITE_ENABLE_UNLOCK_NOTIFY',
  '-DSQLITE_SECURE_DELETE',
];

export interface BuiltLibraries {
  /** The prefix: include/, lib/*.a, lib/pkgconfig/. */
  readonly prefix: string;
  readonly key: string;
  /** "openssl 3.5.9-1~deb13u1", one per library, in the data file's order. */
  readonly versions: readonly string[];
  readonly cached: boolean;
}

interface Stamp {
  readonly recipe: number;
  readonly key: string;
  readonly versions: readonly string[];
  /** Seconds per library, and of the whole build. */
  readonly seconds: Readonly<Record<string, number>>;
}

/** One command: run in the library's unpacked source. */
interface Command {
  readonly file: string;
  readonly args: readonly string[];
}

interface RecipeContext {
  /** The prefix the libraries are configured for (their .pc files name it). */
  readonly prefix: string;
  /** Where `make install` puts them now: DESTDIR. */
  readonly destdir: string;
  /** The source folder of this library. */
  readonly source: string;
  /** zig's wrappers, for a Makefile that ignores CC and the others from the environment. */
  readonly tools: { readonly cc: string; readonly ar: string; readonly ranlib: string };
}

interface Recipe {
  /** Libraries that must be installed first. */
  readonly after?: readonly LibraryName[];
  /** CFLAGS beyond -O2 -fPIC. */
  readonly cflags?: readonly string[];
  readonly commands: (c: RecipeContext) => Command[];
  /** Work after the commands (bzip2 has no install target that fits). */
  readonly finish?: (c: RecipeContext) => void;
}

const make = (...args: string[]): Command => ({ file: 'make', args: ['-j1', ...args] });
const install = (c: RecipeContext): Command => ({ file: 'make', args: ['install', `DESTDIR=${c.destdir}`] });
const autoconf = (...flags: string[]): ((c: RecipeContext) => Command[]) => {
  return (c) => [
    { file: './configure', args: [`--prefix=${c.prefix}`, '--disable-shared', '--enable-static', ...flags] },
    make(),
    install(c),
  ];
};

const RECIPES: Readonly<Record<LibraryName, Recipe>> = {
  zlib: {
    commands: (c) => [{ file: './configure', args: [`--prefix=${c.prefix}`, '--static'] }, make(), install(c)],
  },
  bzip2: {
    // Its Makefile sets CC, AR, RANLIB and CFLAGS itself: only the command line overrides them.
    commands: (c) => [
      make(
        'libbz2.a',
        `CC=${c.tools.cc}`,
        `AR=${c.tools.ar}`,
        `RANLIB=${c.tools.ranlib}`,
        'CFLAGS=-O2 -fPIC -D_FILE_OFFSET_BITS=64',
      ),
    ],
    finish: (c) => {
      const into = join(c.destdir + c.prefix);
      mkdirSync(join(into, 'lib'), { recursive: true });
      mkdirSync(join(into, 'include'), { recursive: true });
      copyFileSync(join(c.source, 'libbz2.a'), join(into, 'lib', 'libbz2.a'));
      copyFileSync(join(c.source, 'bzlib.h'), join(into, 'include', 'bzlib.h'));
    },
  },
  xz: {
    commands: autoconf(
      '--with-pic',
      '--disable-xz',
      '--disable-xzdec',
      '--disable-lzmadec',
      '--disable-lzmainfo',
      '--disable-lzma-links',
      '--disable-scripts',
      '--disable-doc',
      '--disable-nls',
    ),
  },
  libffi: {
    // 3.4.4's src/tramp.c calls open_temp_exec_file without a prototype (it returns int), an error
    // for clang since 16.
    cflags: ['-Wno-error=implicit-function-declaration'],
    commands: autoconf('--with-pic', '--disable-docs', '--disable-multi-os-directory'),
  },
  ncurses: {
    // Wide characters (Python's curses wants ncursesw), headers straight in include/, .pc files,
    // the host's terminfo folders; no programs, no terminfo database of its own.
    commands: (c) => [
      {
        file: './configure',
        args: [
          `--prefix=${c.prefix}`,
          '--without-shared',
          '--with-normal',
          '--without-debug',
          '--without-ada',
          '--without-cxx',
          '--without-cxx-binding',
          '--without-manpages',
          '--without-progs',
          '--without-tests',
          '--enable-widec',
          '--enable-overwrite',
          '--enable-pc-files',
          `--with-pkg-config-libdir=${c.prefix}/lib/pkgconfig`,
          '--disable-db-install',
          `--with-terminfo-dirs=${TERMINFO_DIRS}`,
          '--with-default-terminfo-dir=/usr/share/terminfo',
        ],
      },
      make(),
      install(c),
    ],
  },
  readline: {
    after: ['ncurses'],
    commands: autoconf('--with-curses', '--disable-install-examples'),
    // Its readline.pc names the terminal library it found by the name of a .pc that may not exist
    // (termcap); name ncursesw's, which pkg-config --static then links.
    finish: (c) => {
      const pc = join(c.destdir + c.prefix, 'lib', 'pkgconfig', 'readline.pc');
      const text = readFileSync(pc, 'utf8').replace(/^Requires\.private:.*$/m, 'Requires.private: ncursesw');
      writeFileSync(pc, /^Requires\.private:/m.test(text) ? text : `${text}Requires.private: ncursesw\n`);
    },
  },
  libuuid: {
    commands: autoconf(
      '--with-pic',
      '--disable-all-programs',
      '--enable-libuuid',
      '--disable-nls',
      '--disable-asciidoc',
      '--disable-poman',
      '--disable-bash-completion',
      '--without-systemd',
      '--without-python',
      '--without-udev',
    ),
  },
  sqlite: {
    cflags: SQLITE_FLAGS,
    // The library alone: its default target also compiles the shell, with sqlite3.c a second time.
    commands: (c) => [
      {
        file: './configure',
        args: [
          `--prefix=${c.prefix}`,
          '--disable-shared',
          '--enable-static',
          '--with-pic',
          '--disable-tcl',
          '--disable-readline',
          '--enable-threadsafe',
        ],
      },
      make('libsqlite3.la', 'sqlite3.pc'),
      { file: 'make', args: ['lib_install', `DESTDIR=${c.destdir}`] },
    ],
    finish: (c) => {
      const into = c.destdir + c.prefix;
      mkdirSync(join(into, 'include'), { recursive: true });
      mkdirSync(join(into, 'lib', 'pkgconfig'), { recursive: true });
      for (const header of ['sqlite3.h', 'sqlite3ext.h']) {
        const from = existsSync(join(c.source, header)) ? join(c.source, header) : join(c.source, 'src', header);
        copyFileSync(from, join(into, 'include', header));
      }
      copyFileSync(join(c.source, 'sqlite3.pc'), join(into, 'lib', 'pkgconfig', 'sqlite3.pc'));
    },
  },
  openssl: {
    // Static, without what CPython never uses; OPENSSLDIR as Debian's (pyrelo points ssl at the
    // host's certificates itself: docs in README, "Certificates").
    commands: (c) => [
      {
        file: './Configure',
        args: [
          `${machineName()}`,
          `--prefix=${c.prefix}`,
          '--libdir=lib',
          '--openssldir=/etc/ssl',
          'no-shared',
          'no-module',
          'no-tests',
          'no-docs',
          'no-makedepend',
          'no-cmp',
          'no-cms',
          'no-ts',
          'no-srp',
          '-fPIC',
        ],
      },
      make('build_libs'),
      { file: 'make', args: ['install_dev', `DESTDIR=${c.destdir}`] },
    ],
  },
};

function machineName(): string {
  return process.arch === 'arm64' ? 'linux-aarch64' : 'linux-x86_64';
}

/** The key of the libraries for zig's `target` (zig-toolchain.ts zigTarget). */
export function librariesKey(data: BaseLibraries, target: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        recipe: LIBRARIES_RECIPE,
        zig: data.zig,
        target,
        libraries: data.libraries,
        recipes: Object.fromEntries(
          Object.entries(RECIPES).map(([name, r]) => [
            name,
            [
              r.cflags ?? [],
              r.commands({
                prefix: 'PREFIX',
                destdir: 'DESTDIR',
                source: 'SOURCE',
                tools: { cc: 'CC', ar: 'AR', ranlib: 'RANLIB' },
              }),
            ],
          ]),
        ),
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

function versionsOf(data: BaseLibraries): string[] {
  return data.libraries.map((l) => `${l.package} ${l.debianVersion}`);
}

function readStamp(cache: string, key: string): Stamp | null {
  try {
    const stamp = JSON.parse(readFileSync(join(cache, `${key}.json`), 'utf8')) as Stamp;
    if (stamp.key !== key || stamp.recipe !== LIBRARIES_RECIPE) return null;
    const lib = join(cache, key, 'lib');
    return ['libssl.a', 'libsqlite3.a', 'libffi.a', 'libncursesw.a', 'libreadline.a'].every((f) =>
      existsSync(join(lib, f)),
    )
      ? stamp
      : null;
  } catch {
    return null;
  }
}

/** The environment of every library build: zig's wrappers, the prefix's headers and archives. */
export function toolchainEnv(toolchain: ZigToolchain, prefix: string, extra: Record<string, string> = {}) {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LC_ALL: 'C',
    ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }),
    ZIG_GLOBAL_CACHE_DIR: toolchain.zigCache,
    CC: join(toolchain.bin, 'cc'),
    CXX: join(toolchain.bin, 'c++'),
    AR: join(toolchain.bin, 'ar'),
    RANLIB: join(toolchain.bin, 'ranlib'),
    PKG_CONFIG: join(toolchain.bin, 'pkg-config'),
    // Only the prefix's .pc files: the build host's would point at its own libraries.
    PKG_CONFIG_LIBDIR: join(prefix, 'lib', 'pkgconfig'),
    PKG_CONFIG_PATH: '',
    ...extra,
  };
}

async function buildOne(
  entry: LibrarySource,
  tarball: string,
  work: string,
  prefix: string,
  toolchain: ZigToolchain,
  log: string,
  progress: Progress,
): Promise<number> {
  const t0 = Date.now();
  const recipe = RECIPES[entry.name];
  const source = join(work, `src-${entry.name}`);
  const destdir = join(work, `root-${entry.name}`);
  // What the libraries built before this one installed (readline's configure links ncurses).
  const staged = join(work, 'root') + prefix;
  for (const stale of [source, destdir]) rmSync(stale, { recursive: true, force: true });
  mkdirSync(source, { recursive: true });
  const label = `base-libraries: ${entry.name} ${entry.version}`;
  const env = toolchainEnv(toolchain, join(staged), {
    CFLAGS: ['-O2', '-fPIC', ...(recipe.cflags ?? [])].join(' '),
    CPPFLAGS: `-I${staged}/include`,
    LDFLAGS: `-L${staged}/lib`,
  });
  const logOf = `${log}.${entry.name}`;
  writeFileSync(logOf, `${label} (${entry.package} ${entry.debianVersion}, ${entry.orig})\n`);
  try {
    await runLogged(
      progress,
      label,
      'unpack',
      logOf,
      'tar',
      ['-xf', tarball, '-C', source, '--strip-components=1', '--no-same-owner'],
      work,
      env,
    );
    const c: RecipeContext = {
      prefix,
      destdir,
      source,
      tools: { cc: join(toolchain.bin, 'cc'), ar: join(toolchain.bin, 'ar'), ranlib: join(toolchain.bin, 'ranlib') },
    };
    for (const command of recipe.commands(c))
      await runLogged(
        progress,
        label,
        `${command.file} ${command.args[0] ?? ''}`.trimEnd(),
        logOf,
        command.file,
        command.args,
        source,
        env,
      );
    recipe.finish?.(c);
  } finally {
    writeFileSync(log, readFileSync(logOf), { flag: 'a' });
    rmSync(logOf, { force: true });
  }
  rmSync(source, { recursive: true, force: true });
  if (existsSync(destdir + prefix)) cpSync(destdir + prefix, staged, { recursive: true, verbatimSymlinks: true });
  rmSync(destdir, { recursive: true, force: true });
  const seconds = (Date.now() - t0) / 1000;
  writeFileSync(join(work, `done-${entry.name}`), `${seconds}\n`);
  return seconds;
}

/** Runs the builds two at a time, each after those it needs (among `names`; the others are done). */
async function schedule(names: readonly LibraryName[], build: (name: LibraryName) => Promise<void>): Promise<void> {
  const done = new Set<LibraryName>();
  const started = new Set<LibraryName>();
  let failure: unknown = null;
  await new Promise<void>((resolve) => {
    let running = 0;
    const next = (): void => {
      if (failure !== null && running === 0) return resolve();
      if (done.size === names.length) return resolve();
      while (failure === null && running < AT_ONCE) {
        const ready = names.find(
          (n) => !started.has(n) && (RECIPES[n].after ?? []).every((a) => done.has(a) || !names.includes(a)),
        );
        if (ready === undefined) break;
        started.add(ready);
        running += 1;
        build(ready).then(
          () => {
            done.add(ready);
            running -= 1;
            next();
          },
          (error: unknown) => {
            failure ??= error;
            running -= 1;
            next();
          },
        );
      }
    };
    next();
  });
  if (failure !== null) throw failure;
}

/** OpenSSL first: the longest, so the others fill the second slot meanwhile. */
const ORDER: readonly LibraryName[] = [
  'openssl',
  'sqlite',
  'ncurses',
  'libuuid',
  'xz',
  'libffi',
  'zlib',
  'bzip2',
  'readline',
];

/** The cached prefix of the libraries: built when missing or damaged. */
export async function ensureBaseLibraries(
  data: BaseLibraries,
  toolchain: ZigToolchain,
  mirror: string,
  progress: Progress,
  cache = join(builderCacheRoot(), 'base-libs'),
): Promise<BuiltLibraries> {
  const key = librariesKey(data, toolchain.target);
  const prefix = join(cache, key);
  const versions = versionsOf(data);
  const stamp = readStamp(cache, key);
  if (stamp !== null) {
    progress.note(
      `base-libraries: ${versions.join(', ')} compiled before ` +
        `(${(stamp.seconds.wall ?? stamp.seconds.total ?? 0).toFixed(0)} s); ` +
        `cached in ${prefix}`,
    );
    return { prefix, key, versions, cached: true };
  }
  const tarballs = new Map<LibraryName, string>();
  for (const entry of data.libraries) {
    const got = await fetchPoolSource(
      entry,
      `${data.path} (${entry.name})`,
      `base-libraries: ${entry.name} ${entry.version}`,
      mirror,
      progress,
    );
    tarballs.set(entry.name, got.tarball);
  }
  mkdirSync(cache, { recursive: true });
  rmSync(join(cache, `${key}.json`), { force: true });
  const work = join(cache, `${key}.build`);
  const log = join(cache, `${key}.log`);
  const seconds: Record<string, number> = {};
  for (const name of ORDER) {
    const done = join(work, `done-${name}`);
    if (existsSync(done)) seconds[name] = Number(readFileSync(done, 'utf8'));
  }
  const left = ORDER.filter((n) => seconds[n] === undefined);
  writeFileSync(log, `base libraries for ${toolchain.summary}: ${versions.join(', ')}\n`, { flag: 'a' });
  progress.note(
    `base-libraries: compiling ${left.join(', ')} into ${prefix}` +
      `${left.length < ORDER.length ? ` (the others were compiled by an earlier build: ${work})` : ''}; ` +
      `output in ${log}`,
  );
  const t0 = Date.now();
  mkdirSync(join(work, 'root', prefix, 'lib', 'pkgconfig'), { recursive: true });
  const entries = new Map(data.libraries.map((l) => [l.name, l]));
  await schedule(left, async (name) => {
    seconds[name] = await buildOne(entries.get(name)!, tarballs.get(name)!, work, prefix, toolchain, log, progress);
  });
  rmSync(prefix, { recursive: true, force: true });
  renameSync(join(work, 'root', prefix), prefix);
  rmSync(work, { recursive: true, force: true });
  seconds.total = ORDER.reduce((sum, n) => sum + seconds[n]!, 0);
  seconds.wall = (Date.now() - t0) / 1000;
  const next: Stamp = { recipe: LIBRARIES_RECIPE, key, versions, seconds };
  const temporary = join(cache, `${key}.json.tmp-${process.pid}`);
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(temporary, join(cache, `${key}.json`));
  progress.note(
    `base-libraries: compiled in ${seconds.wall.toFixed(1)} s (` +
      `${ORDER.map((n) => `${n} ${seconds[n]!.toFixed(0)} s`).join(', ')}); cached in ${prefix}`,
  );
  return { prefix, key, versions, cached: false };
}
