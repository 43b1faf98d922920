// What glibc loads by name at run time on a host, beyond DT_NEEDED (issue 19): the NSS modules
// nsswitch.conf names (users and groups from sss, ldap, winbind, systemd, extrausers…), where the
// host's own loader finds each and which glibc it needs, and the locales the host has compiled.
// A bundle with its own glibc meets these: its loader searches only its own folders (no
// ld.so.cache), and a module built for a newer glibc does not load into it (README,
// "What a `--libc bundle` bundle can and cannot use from the host").

import { closeSync, openSync, readFileSync, readdirSync, readSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostView } from '../loader/host-view.js';
import { maxVersion } from '../loader/floors.js';

export interface HostNssModule {
  /** The name nsswitch.conf uses: "sss". */
  readonly module: string;
  /** What glibc dlopens for it: "libnss_sss.so.2". */
  readonly soname: string;
  /** Where the host's loader finds it (ld.so.cache, then its default folders); null: nowhere. */
  readonly path: string | null;
  /** The highest GLIBC_x.y it needs of libc; null when found nowhere or it needs none. */
  readonly glibcNeeded: string | null;
}

export interface HostNss {
  /** nsswitch.conf: database -> modules in order ("passwd" -> ["files", "sss"]). Empty: no file. */
  readonly databases: Readonly<Record<string, readonly string[]>>;
  readonly modules: readonly HostNssModule[];
  /** Locales compiled on the host (locale-archive and /usr/lib/locale folders), as named there. */
  readonly locales: readonly string[];
  /** LANG from /etc/default/locale (Debian) or /etc/locale.conf (RHEL, systemd); null: none. */
  readonly defaultLang: string | null;
}

/** nsswitch.conf bounds: a real one is a few hundred bytes. */
const MAX_CONF_BYTES = 64 * 1024;
const MAX_LOCALES = 4096;
const LOCALE_ARCHIVE_MAGIC = 0xde020109;

/** "passwd: files sss [NOTFOUND=return] ldap" -> { passwd: [files, sss, ldap] }. */
export function parseNsswitch(text: string): Record<string, string[]> {
  const databases: Record<string, string[]> = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (match === null) continue;
    // Action brackets ([NOTFOUND=return]) are not modules.
    const modules = match[2]!
      .replace(/\[[^\]]*\]/g, ' ')
      .split(/\s+/)
      .filter((m) => /^[A-Za-z0-9_-]+$/.test(m));
    databases[match[1]!] = modules;
  }
  return databases;
}

/** Where dlopen("libnss_X.so.2") finds the module on this host, and what it needs of glibc. */
function locateModule(view: HostView, module: string): HostNssModule {
  const soname = `libnss_${module}.so.2`;
  const fromCache = (view.config.cache?.entries ?? []).filter((e) => e.key === soname).map((e) => e.value);
  const candidates = [...fromCache, ...view.config.systemDirs.map((d) => `${d.replace(/\/$/, '')}/${soname}`)];
  for (const path of candidates) {
    const opened = view.open(path);
    if (opened.kind !== 'object') continue;
    let glibcNeeded: string | null = null;
    try {
      const needs = opened.load().versionNeeds.filter((n) => n.file === 'libc.so.6');
      glibcNeeded = maxVersion(
        needs.flatMap((n) => n.versions.map((v) => /^GLIBC_(\d+(?:\.\d+)+)$/.exec(v.name)?.[1] ?? null)),
      );
    } catch {
      continue; // not a loadable ELF: ld.so would go on searching
    }
    return { module, soname, path, glibcNeeded };
  }
  return { module, soname, path: null, glibcNeeded: null };
}

function readSmall(rootDir: string, path: string): string | null {
  try {
    const text = readFileSync(join(rootDir, path));
    return text.length > MAX_CONF_BYTES ? null : text.toString('utf8');
  } catch {
    return null;
  }
}

/** The names in a locale-archive (glibc's locarhead: a hash table of name offsets). */
export function localeArchiveNames(file: string): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const read = (offset: number, length: number): Buffer => {
      const buffer = Buffer.alloc(length);
      const got = readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, got);
    };
    const head = read(0, 20);
    if (head.length < 20 || head.readUInt32LE(0) !== LOCALE_ARCHIVE_MAGIC) return [];
    const tableOffset = head.readUInt32LE(8);
    const size = Math.min(head.readUInt32LE(16), 1 << 16);
    const table = read(tableOffset, size * 12);
    const names: string[] = [];
    for (let i = 0; i + 12 <= table.length && names.length < MAX_LOCALES; i += 12) {
      const nameOffset = table.readUInt32LE(i + 4);
      const recordOffset = table.readUInt32LE(i + 8);
      if (nameOffset === 0 || recordOffset === 0) continue;
      const name = read(nameOffset, 256);
      const end = name.indexOf(0);
      if (end > 0) names.push(name.subarray(0, end).toString('latin1'));
    }
    return names;
  } finally {
    closeSync(fd);
  }
}

function compiledLocales(rootDir: string): string[] {
  const folder = join(rootDir, 'usr/lib/locale');
  const names = new Set(localeArchiveNames(join(folder, 'locale-archive')));
  let entries: string[] = [];
  try {
    entries = readdirSync(folder);
  } catch {
    entries = [];
  }
  for (const name of entries.slice(0, MAX_LOCALES)) {
    if (existsSync(join(folder, name, 'LC_CTYPE'))) names.add(name);
  }
  return [...names].sort();
}

function defaultLang(rootDir: string): string | null {
  for (const path of ['etc/default/locale', 'etc/locale.conf']) {
    const text = readSmall(rootDir, path);
    const match = text === null ? null : /^\s*LANG\s*=\s*"?([^"\s]*)"?\s*$/m.exec(text);
    if (match !== null && match[1] !== '') return match[1]!;
  }
  return null;
}

/** The NSS and locale facts of the root `rootDir`, its modules found through `view` (that root's loader). */
export function collectHostNss(rootDir: string, view: HostView): HostNss {
  const conf = readSmall(rootDir, 'etc/nsswitch.conf');
  const databases = conf === null ? {} : parseNsswitch(conf);
  const names = [...new Set(Object.values(databases).flat())].sort();
  return {
    databases,
    modules: names.map((m) => locateModule(view, m)),
    locales: compiledLocales(rootDir),
    defaultLang: defaultLang(rootDir),
  };
}
