// The C compiler of a base CPython pyrelo compiles itself, and of the libraries it links
// (base-libraries.ts): zig's clang, from PyPI's ziglang wheel, targeting an old glibc's symbol
// versions (`-target x86_64-linux-gnu.2.17`), so that everything it links runs on any glibc from
// that one on, whatever the build host's is (README, "A base with an old glibc floor").
//
// The wheel is pinned by version and sha256 in data/base-libraries.json, fetched with pip into
// <cache>/sources/ and checked there each time it is used, then unpacked once into
// <cache>/zig/<version>-<machine>-<sha>/ (written under a temporary name and renamed), with small
// wrapper scripts in its bin/: cc and c++ (zig cc with the target, -g0 because zig writes DWARF by
// default and it costs a third of the compile time, and no UBSan traps, which zig enables when no
// -O is given), ar, ranlib, and pkg-config (the host's, with --static: the libraries are static,
// so their private dependencies must be linked too).

import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { ZigPin } from './base-libraries-data.js';
import { builderCacheRoot } from './cache-root.js';
import type { Progress } from './progress.js';

export interface ZigToolchain {
  /** The folder of the wrappers: cc, c++, ar, ranlib, pkg-config. */
  readonly bin: string;
  /** "x86_64-linux-gnu.2.17" */
  readonly target: string;
  /** "zig 0.17.0 (ziglang wheel sha256 97079827…) -target x86_64-linux-gnu.2.17" */
  readonly summary: string;
  /** zig's own cache (compiled glibc stubs and start files); the wrappers default to it. */
  readonly zigCache: string;
  /**
   * A folder to put first on PATH while CPython builds: its dpkg-architecture fails, so 3.11's
   * setup.py does not add the build host's /usr/include/x86_64-linux-gnu (glibc 2.36's headers,
   * which break zig's own) and /usr/lib/x86_64-linux-gnu to every extension's flags.
   */
  readonly shims: string;
}

/** uname -m of this machine, as the data file names wheels. */
export function machine(): string {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A command on PATH, or null. */
function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter))
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/** Single-quoted for sh. */
function quote(text: string): string {
  return `'${text.split("'").join("'\\''")}'`;
}

/** The pinned wheel in <cache>/sources/, fetched with pip when missing or not the pinned bytes. */
async function ensureWheel(pin: ZigPin, file: string, hash: string, progress: Progress): Promise<string> {
  const sources = join(builderCacheRoot(), 'sources');
  const wheel = join(sources, file);
  if (existsSync(wheel) && sha256(wheel) === hash) return wheel;
  mkdirSync(sources, { recursive: true });
  const scratch = mkdtempSync(join(sources, '.zig-download-'));
  try {
    progress.note(`zig: fetching ${pin.package}==${pin.version} from PyPI with pip`);
    const r = await execa(
      'python3',
      ['-m', 'pip', 'download', `${pin.package}==${pin.version}`, '--no-deps', '--only-binary=:all:', '-d', scratch],
      { reject: false, all: true },
    );
    const got = join(scratch, file);
    if (r.exitCode !== 0 || !existsSync(got))
      throw new Error(
        `zig: pip could not download ${file} (${(r.all ?? '').trim().split('\n').at(-1) ?? r.shortMessage}); ` +
          `put that file into ${sources} by hand`,
      );
    const actual = sha256(got);
    if (actual !== hash)
      throw new Error(`zig: ${file} from PyPI has sha256 ${actual}, data/base-libraries.json pins ${hash}`);
    renameSync(got, wheel);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return wheel;
}

function wrappers(dir: string, target: string, pkgConfig: string): Record<string, string> {
  const zig = quote(join(dir, 'ziglang', 'zig'));
  const head =
    '#!/bin/sh\n# pyrelo: src/builder/zig-toolchain.ts\n' +
    `ZIG_GLOBAL_CACHE_DIR="\${ZIG_GLOBAL_CACHE_DIR:-${join(dir, 'cache')}}"\nexport ZIG_GLOBAL_CACHE_DIR\n`;
  // zig's linker takes -soname but not its short form -h, which CPython's Makefile passes; and
  // zig cc links nothing from shared libraries alone (libpython3.so is made of libpython3.x.so
  // only): such a link gets an empty C file as well.
  const empty = quote(join(dir, 'bin', 'empty.c'));
  const soname =
    'inputs=; shared=\nfor a in "$@"; do\n  shift\n  case "$a" in\n' +
    '    -Wl,-h,*) set -- "$@" "-Wl,-soname,${a#-Wl,-h,}" ;;\n' +
    '    -Wl,-h*) set -- "$@" "-Wl,-soname,${a#-Wl,-h}" ;;\n' +
    '    -shared) shared=1; set -- "$@" "$a" ;;\n' +
    '    -*) set -- "$@" "$a" ;;\n' +
    '    *.c|*.o|*.a|*.s|*.S|*.i|*.cc|*.cpp) inputs=1; set -- "$@" "$a" ;;\n' +
    '    *) set -- "$@" "$a" ;;\n  esac\ndone\n' +
    `if [ -n "$shared" ] && [ -z "$inputs" ]; then set -- "$@" ${empty}; fi\n`;
  const compiler = (tool: string): string =>
    `${head}${soname}exec ${zig} ${tool} -target ${target} "$@" -g0 -fno-sanitize=undefined\n`;
  return {
    cc: compiler('cc'),
    'c++': compiler('c++'),
    ar: `${head}exec ${zig} ar "$@"\n`,
    ranlib: `${head}exec ${zig} ranlib "$@"\n`,
    'pkg-config': `#!/bin/sh\nexec ${quote(pkgConfig)} --static "$@"\n`,
    'empty.c': 'typedef int pyrelo_empty;\n',
    'shims/dpkg-architecture': '#!/bin/sh\nexit 1\n',
  };
}

/** zig's target on this machine ("x86_64-linux-gnu.2.17"), or null when the data file pins no wheel for it. */
export function zigTarget(pin: ZigPin): string | null {
  const arch = machine();
  return pin.wheels[arch] === undefined ? null : `${arch}-linux-gnu.${pin.glibc}`;
}

/** "zig 0.17.0 (ziglang wheel sha256 97079827…) -target x86_64-linux-gnu.2.17" on this machine, or null. */
export function zigSummary(pin: ZigPin): string | null {
  const target = zigTarget(pin);
  const wheel = pin.wheels[machine()];
  if (target === null || wheel === undefined) return null;
  return `zig ${pin.version} (${pin.package} wheel sha256 ${wheel.sha256.slice(0, 12)}…) -target ${target}`;
}

/** The toolchain for this machine, or null when the data file pins no wheel for it (then gcc compiles). */
export async function ensureZigToolchain(pin: ZigPin, progress: Progress): Promise<ZigToolchain | null> {
  const arch = machine();
  const wheel = pin.wheels[arch];
  if (wheel === undefined) return null;
  const target = `${arch}-linux-gnu.${pin.glibc}`;
  const dir = join(builderCacheRoot(), 'zig', `${pin.version}-${arch}-${wheel.sha256.slice(0, 16)}`);
  const summary = zigSummary(pin)!;
  const bin = join(dir, 'bin');
  const result = { bin, target, summary, zigCache: join(dir, 'cache'), shims: join(dir, 'shims') };
  // The wheel is checked on every use, the unpacked copy only for being whole.
  const path = await ensureWheel(pin, wheel.file, wheel.sha256, progress);
  const pkgConfig = onPath('pkg-config');
  if (pkgConfig === null) throw new Error('zig: pkg-config is not on PATH (Debian: apt-get install pkg-config)');
  if (existsSync(join(dir, 'ziglang', 'zig'))) {
    // The wrappers are rewritten whenever this code writes them differently.
    for (const [name, text] of Object.entries(wrappers(dir, target, pkgConfig))) {
      const path = join(dir, name.includes('/') ? '' : 'bin', name);
      mkdirSync(dirname(path), { recursive: true });
      if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
      mkdirSync(bin, { recursive: true });
      writeFileSync(`${path}.tmp-${process.pid}`, text, { mode: 0o755 });
      renameSync(`${path}.tmp-${process.pid}`, path);
    }
    return result;
  }
  mkdirSync(join(builderCacheRoot(), 'zig'), { recursive: true });
  const temporary = `${dir}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  try {
    progress.note(`zig: unpacking ${wheel.file} into ${dir}`);
    await execa('python3', ['-m', 'zipfile', '-e', path, temporary]);
    chmodSync(join(temporary, 'ziglang', 'zig'), 0o755);
    mkdirSync(join(temporary, 'bin'));
    mkdirSync(join(temporary, 'shims'));
    for (const [name, text] of Object.entries(wrappers(dir, target, pkgConfig))) {
      const path = join(temporary, name.includes('/') ? '' : 'bin', name);
      writeFileSync(path, text);
      chmodSync(path, 0o755);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(temporary, dir);
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
  return result;
}
