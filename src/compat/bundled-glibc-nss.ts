// What a --libc bundle bundle cannot use of a host's NSS (issue 19). glibc dlopens the modules
// nsswitch.conf names ("libnss_sss.so.2") with its own loader's search: the bundled loader runs
// with --library-path lib/pyrelo-glibc and --inhibit-cache (src/builder/libc-bundle.ts), so it looks
// in the bundle, then in its own default folders (those of its build host's ld.so, read from its
// bytes), never in the host's ld.so.cache; and a module built for a newer glibc than the bundled one
// does not load. NSS skips such a module silently. Measured in the lab (test/builder/host-users.test.ts):
// pyrelo's start-up hook then asks the host's getent for pwd and grp lookups, so Python code still sees
// those users; C code calling getpwnam, and other databases (hosts…), do not (README, "What a
// `--libc bundle` bundle can and cannot use from the host").

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from '../elf/elf-file.js';
import { compareVersions, maxVersion } from '../loader/floors.js';
import type { HostView } from '../loader/host-view.js';
import { findSystemDirs } from '../inventory/host-facts.js';
import { GLIBC_DIR } from '../bundle/layout.js';

export interface BundledGlibc {
  /** "2.36": the highest GLIBC_x.y the bundled libc.so.6 defines. */
  readonly version: string;
  /** The bundled loader's default folders, searched after the bundle's own (no ld.so.cache). */
  readonly searchDirs: readonly string[];
  /** libnss_*.so.2 files the bundle carries. */
  readonly shipped: ReadonlySet<string>;
}

export interface NssWarning {
  readonly module: string;
  readonly soname: string;
  readonly databases: readonly string[];
  readonly message: string;
}

/** Modules glibc 2.34 and later has inside libc.so.6: never dlopened. */
const BUILT_IN_SINCE_2_34 = new Set(['files', 'dns']);
/** What the start-up hook answers through the host's getent (data/python/_pyrelo_host.py). */
const HOOK_DATABASES = new Set(['passwd', 'group']);

export function readBundledGlibc(bundleRoot: string): BundledGlibc | null {
  const dir = join(bundleRoot, GLIBC_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  const loader = names.find((n) => n.startsWith('ld-linux'));
  if (loader === undefined || !names.includes('libc.so.6')) return null;
  const elf = ElfFile.open(join(dir, 'libc.so.6'));
  let version: string | null;
  try {
    version = maxVersion(
      elf.versionDefinitions().map((d) => /^GLIBC_(\d+(?:\.\d+)+)$/.exec(d.names[0] ?? '')?.[1] ?? null),
    );
  } finally {
    elf.close();
  }
  if (version === null) return null;
  const searchDirs = findSystemDirs(readFileSync(join(dir, loader))) ?? [];
  return {
    version,
    searchDirs: searchDirs.map((d) => (d.length > 1 ? d.replace(/\/+$/, '') : d)),
    shipped: new Set(names.filter((n) => n.startsWith('libnss_'))),
  };
}

function glibcNeededOf(view: HostView, path: string): { found: boolean; needed: string | null } {
  const opened = view.open(path);
  if (opened.kind !== 'object') return { found: false, needed: null };
  try {
    const needs = opened.load().versionNeeds.filter((n) => n.file === 'libc.so.6');
    return {
      found: true,
      needed: maxVersion(
        needs.flatMap((n) => n.versions.map((v) => /^GLIBC_(\d+(?:\.\d+)+)$/.exec(v.name)?.[1] ?? null)),
      ),
    };
  } catch {
    return { found: false, needed: null };
  }
}

function consequence(databases: readonly string[]): string {
  const hooked = databases.filter((d) => HOOK_DATABASES.has(d));
  const rest = databases.filter((d) => !HOOK_DATABASES.has(d));
  const parts: string[] = [];
  if (hooked.length > 0)
    parts.push(
      `Python's pwd and grp ask the host's getent instead; C code calling getpwnam does not see these entries`,
    );
  if (rest.length > 0) parts.push(`${rest.join(', ')} lookups skip it`);
  return parts.join('; ');
}

/**
 * One warning per host module that the bundled glibc cannot use: found by the host but not where the
 * bundled loader looks, or needing a newer glibc. `databases` is the host's nsswitch.conf; `hostPath`
 * says where the host's own loader finds a module (null: nowhere, so the host cannot use it either).
 */
export function bundledGlibcNssWarnings(
  view: HostView,
  glibc: BundledGlibc,
  databases: Readonly<Record<string, readonly string[]>>,
  hostPath: (soname: string) => string | null,
): NssWarning[] {
  const byModule = new Map<string, string[]>();
  for (const [database, modules] of Object.entries(databases)) {
    for (const module of modules) byModule.set(module, [...(byModule.get(module) ?? []), database]);
  }
  const warnings: NssWarning[] = [];
  for (const [module, dbs] of [...byModule].sort(([a], [b]) => a.localeCompare(b))) {
    const soname = `libnss_${module}.so.2`;
    if (glibc.shipped.has(soname)) continue;
    if (BUILT_IN_SINCE_2_34.has(module) && compareVersions(glibc.version, '2.34') >= 0) continue;
    const onHost = hostPath(soname);
    if (onHost === null) continue; // the host's own glibc cannot use it either
    const what = `${dbs.join(' and ')} from ${module}`;
    const seen = glibc.searchDirs
      .map((d) => ({ dir: d, ...glibcNeededOf(view, `${d}/${soname}`) }))
      .find((c) => c.found);
    if (seen === undefined) {
      const folder = onHost.slice(0, onHost.lastIndexOf('/')) || '/';
      warnings.push({
        module,
        soname,
        databases: dbs,
        message:
          `${what}: ${soname} is in ${folder}, where the bundled glibc does not look (it searches ` +
          `${glibc.searchDirs.join(', ')}): ${consequence(dbs)}`,
      });
    } else if (seen.needed !== null && compareVersions(seen.needed, glibc.version) > 0) {
      warnings.push({
        module,
        soname,
        databases: dbs,
        message:
          `${what}: ${soname} needs GLIBC_${seen.needed}, the bundle's glibc is ${glibc.version}: ` +
          `${consequence(dbs)}`,
      });
    }
  }
  return warnings;
}
