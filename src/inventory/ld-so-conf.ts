// docs/loader.md section 4.
// /etc/ld.so.conf as ldconfig reads it (parse_conf, parse_conf_include, add_dir_1 and
// add_single_dir in glibc's elf/ldconfig.c), to emulate the directory list of a cache that a root
// does not have. ld.so itself never reads this file.
//
// Emulates `chroot ROOT ldconfig`, not `ldconfig -r ROOT`: every path, including globs in files
// that are themselves included, is resolved inside the root. (`ldconfig -r` globs nested includes
// on the host and refuses relative include patterns; neither is what the root's own ldconfig does.)

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { chrootCanon, readLoaderDefaults, rootMachines } from './host-facts.js';

/** Bound on include nesting; ldconfig itself has none and recurses until it crashes. */
const MAX_INCLUDE_DEPTH = 32;

/** C isspace / isblank in the C locale. */
const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c);
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';

interface DirEntry {
  path: string;
  dev: number;
  ino: number;
}

/** fnmatch(3) for one path component, without FNM_PERIOD exceptions handled by the caller. */
function componentRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      re += escapeRe(pattern[++i]!);
    } else if (c === '*') {
      re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === '!' || pattern[j] === '^') {
        negate = true;
        j++;
      }
      // A ']' right after '[' or '[!' is a literal member.
      let body = '';
      if (pattern[j] === ']') {
        body += '\\]';
        j++;
      }
      while (j < pattern.length && pattern[j] !== ']') {
        const d = pattern[j]!;
        body += d === '\\' || d === '^' || d === '[' ? '\\' + d : d;
        j++;
      }
      if (j >= pattern.length) {
        re += '\\['; // unterminated: a literal '['
      } else {
        re += `[${negate ? '^' : ''}${body}]`;
        i = j;
      }
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(`^${re}$`, 's');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const hasMagic = (s: string): boolean => /[*?[]/.test(s);

/** Compare as C strcmp on UTF-8 bytes (glob sorts its results). */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** glob(3) with flags 0 inside the root: returns matching paths inside the root, sorted. */
function globInRoot(rootDir: string, pattern: string): string[] {
  const parts = pattern.split('/').filter((p) => p !== '');
  let current = ['/'];
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k]!;
    const next: string[] = [];
    for (const dir of current) {
      if (!hasMagic(part)) {
        next.push(posix.join(dir, part.replace(/\\(.)/g, '$1')));
        continue;
      }
      const host = chrootCanon(rootDir, dir);
      if (host === null) continue;
      let names: string[];
      try {
        names = readdirSync(host);
      } catch {
        continue;
      }
      const re = componentRegExp(part);
      for (const name of names) {
        // Without GLOB_PERIOD a leading '.' must be matched literally.
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(name)) next.push(posix.join(dir, name));
      }
    }
    current = next;
  }
  // Literal components were not checked on the way: glob only returns what exists.
  return current.filter((p) => existsInRoot(rootDir, p)).sort(byteCompare);
}

function existsInRoot(rootDir: string, p: string): boolean {
  const host = chrootCanon(rootDir, p);
  if (host === null) return false;
  try {
    statSync(host);
    return true;
  } catch {
    return false;
  }
}

class ConfReader {
  readonly dirs: DirEntry[] = [];
  /** Files being parsed, to cut include loops. */
  private readonly stack: string[] = [];

  constructor(private readonly rootDir: string) {}

  /** parse_conf. */
  parseConf(file: string): void {
    const canon = chrootCanon(this.rootDir, file);
    if (canon === null || this.stack.includes(canon) || this.stack.length >= MAX_INCLUDE_DEPTH) return;
    let text: string;
    try {
      text = readFileSync(canon, 'latin1');
    } catch {
      return; // ldconfig warns (unless ENOENT) and goes on
    }
    this.stack.push(canon);
    try {
      for (const raw of text.split('\n')) {
        // "Because the file format does not know any form of quoting we can search forward for
        // the next '#' character and if found make it terminating the line."
        const hash = raw.indexOf('#');
        const line = hash >= 0 ? raw.slice(0, hash) : raw;
        let i = 0;
        while (isSpace(line[i])) i++;
        const cp = line.slice(i);
        if (cp === '') continue;
        if (cp.startsWith('include') && isBlank(cp[7])) {
          // strsep (&cp, " \t"): every blank separates, empty words are skipped.
          for (const pattern of cp.slice(8).split(/[ \t]/)) {
            if (pattern !== '') this.parseConfInclude(file, pattern);
          }
        } else if (cp.slice(0, 5).toLowerCase() === 'hwcap' && isBlank(cp[5])) {
          // "hwcap directive ignored" since glibc 2.33.
        } else {
          this.addDir(cp);
        }
      }
    } finally {
      this.stack.pop();
    }
  }

  /** parse_conf_include: a relative pattern is relative to the including file's directory. */
  private parseConfInclude(configFile: string, pattern: string): void {
    let p = pattern;
    if (!p.startsWith('/') && configFile.includes('/')) p = `${posix.dirname(configFile)}/${p}`;
    if (!p.startsWith('/')) p = '/' + p;
    for (const match of globInRoot(this.rootDir, p)) this.parseConf(match);
  }

  /** add_dir_1: strip "=TYPE", trailing blanks and slashes; keep only directories that stat. */
  addDir(line: string): void {
    const eq = line.indexOf('=');
    let path = eq >= 0 ? line.slice(0, eq) : line;
    let i = path.length;
    while (i > 0 && isSpace(path[i - 1])) i--;
    while (i > 1 && path[i - 1] === '/') i--;
    path = path.slice(0, i);
    if (path === '') return;
    const host = chrootCanon(this.rootDir, path.startsWith('/') ? path : '/' + path);
    if (host === null) return;
    let st;
    try {
      st = statSync(host);
    } catch {
      return; // "Can't stat"
    }
    this.addSingleDir({ path, dev: st.dev, ino: st.ino });
  }

  /** add_single_dir: a directory already listed (same st_dev and st_ino) is not added again. */
  private addSingleDir(entry: DirEntry): void {
    if (this.dirs.some((d) => d.dev === entry.dev && d.ino === entry.ino)) return;
    this.dirs.push(entry);
  }
}

/**
 * The directories ldconfig would scan for the root's cache, in ldconfig's order: those of
 * ld.so.conf and its includes, then the built-in ones (the loader's system directories, which
 * ldconfig -v lists as "<builtin>"). Paths are as seen inside the root. `systemDirs` defaults to
 * the root's loader's SYSTEM_DIRS (see readLoaderDefaults).
 */
export function readLdSoConf(rootDir: string, confPath = '/etc/ld.so.conf', systemDirs?: readonly string[]): string[] {
  const reader = new ConfReader(rootDir);
  reader.parseConf(confPath);
  let builtins = systemDirs;
  if (builtins === undefined) {
    const machine = rootMachines(rootDir)[0];
    builtins = machine ? (readLoaderDefaults(rootDir, machine)?.systemDirs ?? []) : [];
  }
  for (const dir of builtins) reader.addDir(dir);
  return reader.dirs.map((d) => d.path);
}
