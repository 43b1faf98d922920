// Facts about a host given its root directory ("/" or a chroot), read from files only: nothing
// inside the root is executed, so a foreign-architecture or broken root is still described.

import { closeSync, lstatSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { arch } from 'node:process';
import {
  cacheFlagsForMachine,
  lookupLdCache,
  parseLdCache,
  LdCacheFormatError,
  type LdCache,
} from '../loader/ld-cache.js';
import { loaderDefaultsData } from './loader-defaults-data.js';

// ---------------------------------------------------------------------------------------------
// Paths inside a root

/** MAXSYMLINKS, as chroot_canon and the kernel bound symlink chains. */
const MAX_SYMLINKS = 40;

/**
 * ldconfig's chroot_canon (elf/chroot_canon.c): resolve PATH as the root's own processes would see
 * it, following symlinks (absolute ones relative to the root, `..` never above it). Returns the
 * path inside the root (starting with '/'), or null when an intermediate component is missing or
 * not a directory, or links loop. A missing last component is kept, as chroot_canon keeps it.
 */
export function chrootCanonInner(rootDir: string, path: string): string | null {
  const root = resolve(rootDir);
  const resolved: string[] = [];
  const queue = path.split('/');
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, c);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      if (queue.every((q) => q === '' || q === '.')) {
        resolved.push(c);
        break;
      }
      return null;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return null;
      let target: string;
      try {
        target = readlinkSync(host);
      } catch {
        return null;
      }
      if (target.startsWith('/')) resolved.length = 0;
      queue.unshift(...target.split('/'));
      continue;
    }
    resolved.push(c);
    if (!st.isDirectory() && queue.some((q) => q !== '' && q !== '.')) return null;
  }
  return '/' + resolved.join('/');
}

/** chrootCanonInner, as a path usable from this process. */
export function chrootCanon(rootDir: string, path: string): string | null {
  const inner = chrootCanonInner(rootDir, path);
  return inner === null ? null : join(resolve(rootDir), inner);
}

function readInRoot(rootDir: string, path: string): Buffer | null {
  const host = chrootCanon(rootDir, path);
  if (host === null) return null;
  try {
    return readFileSync(host);
  } catch {
    return null;
  }
}

function isFileInRoot(rootDir: string, path: string): boolean {
  const host = chrootCanon(rootDir, path);
  if (host === null) return false;
  try {
    return statSync(host).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// os-release

export interface OsRelease {
  id: string;
  versionId: string | null;
  prettyName: string | null;
  versionCodename: string | null;
  idLike: string[];
}

/**
 * One os-release(5) value: shell-style, so "double" (backslash escapes only before $ " \ `),
 * 'single' (literal) and unquoted parts (backslash escapes any character) concatenate.
 */
function unquoteShellValue(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      out += raw.slice(i + 1, end < 0 ? raw.length : end);
      i = end < 0 ? raw.length : end + 1;
    } else if (c === '"') {
      i++;
      while (i < raw.length && raw[i] !== '"') {
        if (raw[i] === '\\' && i + 1 < raw.length && '$"\\`'.includes(raw[i + 1]!)) i++;
        out += raw[i++];
      }
      i++;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else if (/\s/.test(c)) {
      break; // an unquoted blank ends the value
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function parseOsRelease(text: string): OsRelease {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue; // comments and blank lines
    vars.set(m[1]!, unquoteShellValue(m[2]!.trim()));
  }
  const orNull = (k: string): string | null => {
    const v = vars.get(k);
    return v === undefined || v === '' ? null : v;
  };
  return {
    // os-release(5): "If not set, a default of ID=linux may be used."
    id: orNull('ID') ?? 'linux',
    versionId: orNull('VERSION_ID'),
    prettyName: orNull('PRETTY_NAME'),
    versionCodename: orNull('VERSION_CODENAME'),
    idLike: (vars.get('ID_LIKE') ?? '').split(/\s+/).filter((s) => s !== ''),
  };
}

/** /etc/os-release, else /usr/lib/os-release (os-release(5)); null when neither is readable. */
export function readOsRelease(rootDir: string): OsRelease | null {
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    const bytes = readInRoot(rootDir, p);
    if (bytes !== null) return parseOsRelease(bytes.toString('utf8'));
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Loader defaults (data/loader-defaults.json + the root's ld.so)

export interface LoaderDefaults {
  /** PT_INTERP path, e.g. /lib64/ld-linux-x86-64.so.2. */
  interpreter: string;
  /** SYSTEM_DIRS in order, each with its trailing '/' as ld.so stores them. */
  systemDirs: string[];
  /** The $LIB expansion (DL_DST_LIB). */
  libToken: string;
  /** Where the two values came from: the ld.so bytes, or data/loader-defaults.json. */
  source: 'ld.so' | 'data';
}

/** ld.so files are a few hundred KiB; refuse to slurp anything absurd. */
const MAX_LDSO_BYTES = 64 * 1024 * 1024;

const NUL_SLASH = Buffer.from([0, 0x2f]);

/**
 * glibc's trusted-dirs.h SYSTEM_DIRS: "/dir1/\0/dir2/\0..." stored contiguously in .rodata
 * (system_dirs in elf/dl-load.c). Finds the longest run of NUL-separated absolute directory names
 * that all end in '/' and name a lib directory.
 */
export function findSystemDirs(bytes: Uint8Array): string[] | null {
  let best: string[] | null = null;
  const n = bytes.length;
  // Candidates are found by Buffer.indexOf, not a byte loop in JS: this runs on every check (3 ms
  // instead of 8 for a 200 KiB ld.so, bench/check).
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let p = 1; p < n; p++) {
    const at = hay.indexOf(NUL_SLASH, p - 1);
    if (at < 0) break;
    p = at + 1;
    const run: string[] = [];
    let q = p;
    while (q < n && bytes[q] === 0x2f) {
      const end = bytes.indexOf(0, q);
      if (end < 0 || end - q > 256) break;
      const s = Buffer.from(bytes.subarray(q, end)).toString('latin1');
      if (!/^\/[\x21-\x7e]*\/$/.test(s) || !/lib/.test(s)) break;
      run.push(s);
      q = end + 1;
    }
    if (run.length > 0 && (best === null || run.length > best.length)) best = run;
    if (run.length > 0) p = q - 1;
  }
  return best;
}

/**
 * DL_DST_LIB: upstream `$(notdir $(slibdir))` ("lib64"), Debian "lib/<triplet>". It is a
 * standalone string in ld.so and a '/'-suffix of the first system directory, so try those
 * suffixes, longest first.
 */
export function findLibToken(bytes: Uint8Array, systemDirs: readonly string[]): string | null {
  const first = systemDirs[0];
  if (!first) return null;
  const parts = first.split('/').filter((s) => s !== '');
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < parts.length; i++) {
    const cand = parts.slice(i).join('/');
    if (hay.indexOf(Buffer.from(`\0${cand}\0`, 'latin1')) >= 0) return cand;
  }
  return null;
}

function layoutFor(rootDir: string): string {
  const data = loaderDefaultsData();
  const os = readOsRelease(rootDir);
  if (os) {
    for (const id of [os.id, ...os.idLike]) {
      const layout = data.distros[id];
      if (layout) return layout;
    }
  }
  return 'upstream';
}

/**
 * The loader's compiled-in defaults for this root and machine: read from the root's ld.so when
 * possible, else from data/loader-defaults.json by distribution. Null when the machine is unknown
 * or the root has no interpreter for it.
 */
export function readLoaderDefaults(rootDir: string, machine: 'x86_64' | 'aarch64' | string): LoaderDefaults | null {
  const data = loaderDefaultsData();
  const m = data.machines[machine];
  if (!m) return null;
  const interpreter = m.interpreter;
  const host = chrootCanon(rootDir, interpreter);
  if (host === null || !isFileInRoot(rootDir, interpreter)) return null;

  const subst = (s: string): string => s.replaceAll('{triplet}', m.triplet).replaceAll('{upstreamLib}', m.upstreamLib);
  const layout = data.layouts[layoutFor(rootDir)] ?? data.layouts['upstream']!;
  const fallbackDirs = layout.systemDirs.map(subst);
  const fallbackLib = subst(layout.libToken);

  let bytes: Uint8Array | null = null;
  try {
    if (statSync(host).size <= MAX_LDSO_BYTES) bytes = readFileSync(host);
  } catch {
    bytes = null;
  }
  const dirs = bytes ? findSystemDirs(bytes) : null;
  if (!bytes || !dirs) return { interpreter, systemDirs: fallbackDirs, libToken: fallbackLib, source: 'data' };
  return { interpreter, systemDirs: dirs, libToken: findLibToken(bytes, dirs) ?? fallbackLib, source: 'ld.so' };
}

/** Machines whose interpreter exists in the root, this process's machine first. */
export function rootMachines(rootDir: string): string[] {
  const own = arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : arch;
  const names = Object.keys(loaderDefaultsData().machines);
  const ordered = [own, ...names.filter((n) => n !== own)].filter((n) => names.includes(n));
  return ordered.filter((n) => isFileInRoot(rootDir, loaderDefaultsData().machines[n]!.interpreter));
}

// ---------------------------------------------------------------------------------------------
// libc

export interface LibcInfo {
  kind: 'glibc' | 'musl' | 'none';
  version: string | null;
  /** The libc file, as a path inside the root. */
  path: string | null;
}

const ELF_MACHINE: Record<string, [number, 32 | 64]> = { x86_64: [62, 64], aarch64: [183, 64], i686: [3, 32] };

/**
 * What a caller has already read of a root for one machine (root-config.ts reads both for the
 * loader configuration): detectLibc then neither reads ld.so again nor parses ld.so.cache twice.
 * `ldCache` null: the root's cache is absent or one ld.so ignores.
 */
export interface KnownLoaderFacts {
  readonly machine: string;
  readonly defaults: LoaderDefaults | null;
  readonly ldCache: LdCache | null;
}

/** Where the root's loader would find libc.so.6: its ld.so.cache, else the system directories. */
function findGlibcLibc(rootDir: string, machine: string, known?: KnownLoaderFacts): string | null {
  const reuse = known !== undefined && known.machine === machine;
  const defaults = reuse ? known.defaults : readLoaderDefaults(rootDir, machine);
  const em = ELF_MACHINE[machine];
  const cacheBytes = reuse ? null : readInRoot(rootDir, '/etc/ld.so.cache');
  if ((reuse ? known.ldCache !== null : cacheBytes !== null) && em) {
    const flags = cacheFlagsForMachine(em[0], em[1]);
    try {
      const cache = reuse ? known.ldCache! : parseLdCache(cacheBytes!, '/etc/ld.so.cache');
      if (flags !== null) {
        // No glibc-hwcaps variants of libc exist; the version only has to take the 2.33+ rules.
        const hit = lookupLdCache(cache, 'libc.so.6', {
          expectedFlags: flags,
          activeHwcapsSubdirs: [],
          isaLevel: 1,
          glibcVersion: [2, 36],
        });
        if (hit !== null && isFileInRoot(rootDir, hit)) return hit;
      }
    } catch (e) {
      // ld.so ignores a malformed cache and searches the system directories.
      if (!(e instanceof LdCacheFormatError)) throw e;
    }
  }
  for (const dir of defaults?.systemDirs ?? []) {
    const p = dir.replace(/\/*$/, '/') + 'libc.so.6';
    if (isFileInRoot(rootDir, p)) return p;
  }
  return null;
}

const BANNER_START = Buffer.from('GNU C Library ', 'latin1');
const CHUNK = 1 << 20;
/** Longer than any banner prefix we need to see whole across a chunk boundary. */
const OVERLAP = 512;

/**
 * Streams through a file for csu/version.c's banner: "GNU C Library <PKGVERSION><RELEASE> release
 * version X.Y[.Z]" (what gnu_get_libc_version() returns and what running libc.so.6 prints).
 */
export function readGlibcBannerVersion(hostPath: string): string | null {
  const re = /^GNU C Library [^\n\0]{0,200}?release version (\d+\.\d+(?:\.\d+)?)/;
  let fd: number;
  try {
    fd = openSync(hostPath, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(CHUNK + OVERLAP);
    let carry = 0;
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, carry, CHUNK, pos);
      if (n <= 0) return null;
      pos += n;
      const len = carry + n;
      const lastRead = n < CHUNK;
      // Only where the banner's first words are is the pattern tried: Buffer.indexOf, not a
      // regular expression over the whole 2 MB libc as text (that was 5 to 20 ms of every check).
      for (let at = buf.indexOf(BANNER_START, 0); at >= 0 && at < len; at = buf.indexOf(BANNER_START, at + 1)) {
        const m = re.exec(buf.toString('latin1', at, Math.min(len, at + OVERLAP)));
        // A version ending where the bytes read end may go on in the next read ("2.3" of "2.36"):
        // it lies in the carried tail, and is tried again whole.
        if (m && (lastRead || at + m[0].length < len)) return m[1]!;
      }
      // Keep the tail so a banner split across two chunks is still seen whole.
      carry = Math.min(OVERLAP, len);
      buf.copy(buf, 0, len - carry, len);
    }
  } finally {
    closeSync(fd);
  }
}

/** Upstream version of a package version: drop an epoch ("1:") and the revision ("-1", "-r2"). */
function upstreamVersion(v: string): string {
  return v.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

function muslVersionFromPackageDbs(rootDir: string): string | null {
  const apk = readInRoot(rootDir, '/lib/apk/db/installed');
  if (apk) {
    for (const block of apk.toString('utf8').split(/\n\n+/)) {
      if (/^P:musl$/m.test(block)) {
        const v = /^V:(.+)$/m.exec(block);
        if (v) return upstreamVersion(v[1]!.trim());
      }
    }
  }
  const dpkg = readInRoot(rootDir, '/var/lib/dpkg/status');
  if (dpkg) {
    for (const block of dpkg.toString('utf8').split(/\n\n+/)) {
      if (/^Package: musl$/m.test(block) && /^Status: .*installed$/m.test(block)) {
        const v = /^Version: (.+)$/m.exec(block);
        if (v) return upstreamVersion(v[1]!.trim());
      }
    }
  }
  return null;
}

/** musl's loader is also its libc: /lib/ld-musl-<arch>.so.1. */
function findMuslLoader(rootDir: string): string | null {
  const libDir = chrootCanon(rootDir, '/lib');
  if (libDir === null) return null;
  let names: string[];
  try {
    names = readdirSync(libDir);
  } catch {
    return null;
  }
  const hit = names.filter((n) => /^ld-musl-[A-Za-z0-9_]+\.so\.1$/.test(n)).sort()[0];
  return hit ? `/lib/${hit}` : null;
}

/**
 * The root's C library. glibc: libc.so.6 where the loader would find it, version from its banner.
 * musl: the ld-musl loader; musl's binaries carry no version banner ("Version" is printed from a
 * bare string), so the version comes from the apk or dpkg database, else null.
 */
export function detectLibc(rootDir: string, known?: KnownLoaderFacts): LibcInfo {
  for (const machine of rootMachines(rootDir)) {
    const libc = findGlibcLibc(rootDir, machine, known);
    if (libc !== null) {
      const host = chrootCanon(rootDir, libc);
      return { kind: 'glibc', version: host ? readGlibcBannerVersion(host) : null, path: libc };
    }
  }
  const musl = findMuslLoader(rootDir);
  if (musl !== null) return { kind: 'musl', version: muslVersionFromPackageDbs(rootDir), path: musl };
  return { kind: 'none', version: null, path: null };
}
