// data/platforms/<id>.json: the reference platforms (README "Reference platforms"), one file per
// platform, named by os-release ID:VERSION_ID. Each holds facts (libc, symbol versions of the
// glibc family and the GCC runtime, default kernel, CA store, architectures, the base libraries)
// with their sources, and for the lab's roots a real inventory beside it. Validated when read: a
// malformed file is an error naming the file and the field, never a silent default.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError, packageFolder, readDataJson } from '../common/package-files.js';
import { readInventory } from './read.js';
import { loaderDefaultsData } from './loader-defaults-data.js';
import type { Inventory } from './format.js';

export const PLATFORMS_DIR = 'platforms';

/** Symbol-version families a reference library can define (auditwheel's policy names). */
export const VERSION_FAMILIES = ['GLIBC', 'GLIBCXX', 'CXXABI', 'GCC', 'ZLIB'] as const;
export type VersionFamily = (typeof VERSION_FAMILIES)[number];

export interface ReferencePlatform {
  /** os-release ID:VERSION_ID, e.g. "rhel:8". */
  readonly name: string;
  readonly title: string;
  /** Other ID:VERSION_ID names the same facts answer for (almalinux:8, rocky:8). */
  readonly aliases: readonly string[];
  readonly source: string;
  /** The loader-defaults layout (data/loader-defaults.json): where its libraries live. */
  readonly layout: string;
  readonly libc: { readonly kind: 'glibc' | 'musl' | 'none'; readonly version: string | null };
  readonly kernel: { readonly release: string; readonly source: string };
  /** The lowest x86-64 ISA level the distribution supports (RHEL 9: 2): the CPU a reference host has. */
  readonly x86IsaBaseline: number;
  readonly caStore: { readonly path: string; readonly source: string } | null;
  readonly architectures: readonly string[];
  /** Per architecture, the full version names per family ("GLIBC_2.28"); null without glibc. */
  readonly symbolVersions: {
    readonly source: string;
    readonly byArch: Readonly<Record<string, Readonly<Record<VersionFamily, readonly string[]>>>>;
  } | null;
  /** What the base install has for certain, with the families each library defines. */
  readonly baseLibraries: readonly { readonly soname: string; readonly families: readonly VersionFamily[] }[];
  /** What could not be confirmed from a document: said, not invented. */
  readonly uncertain: readonly string[];
  /** File name (in data/platforms/) of a real inventory of the platform, when one exists. */
  readonly inventory: string | null;
}

const NAME = /^[A-Za-z0-9._-]{1,64}:[A-Za-z0-9._-]{1,64}$/;
const VERSION = /^\d+(\.\d+){0,3}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validatePlatform(value: unknown, file: string): ReferencePlatform {
  const fail = (field: string, detail: string): never => {
    throw new DataFileError(file, field, detail);
  };
  if (!isRecord(value)) return fail('(top level)', 'not a JSON object');
  const text = (v: unknown, field: string): string =>
    typeof v === 'string' && v !== '' ? v : fail(field, 'expected a non-empty string');
  const texts = (v: unknown, field: string): string[] =>
    Array.isArray(v) ? v.map((x, i) => text(x, `${field}[${i}]`)) : fail(field, 'expected a list');
  const named = (v: unknown, field: string): string => {
    const s = text(v, field);
    return NAME.test(s) ? s : fail(field, `expected ID:VERSION_ID, got ${JSON.stringify(s)}`);
  };

  const name = named(value.name, 'name');
  const aliases = texts(value.aliases ?? [], 'aliases').map((a, i) => named(a, `aliases[${i}]`));
  const libc = isRecord(value.libc) ? value.libc : fail('libc', 'not an object');
  const kind = libc.kind === 'glibc' || libc.kind === 'musl' || libc.kind === 'none' ? libc.kind : null;
  if (kind === null) fail('libc.kind', 'expected "glibc", "musl" or "none"');
  const libcVersion = libc.version === null ? null : text(libc.version, 'libc.version');
  if (kind === 'glibc' && (libcVersion === null || !VERSION.test(libcVersion)))
    fail('libc.version', 'a glibc platform needs a dotted version');
  const kernel = isRecord(value.kernel) ? value.kernel : fail('kernel', 'not an object');
  const release = text(kernel.release, 'kernel.release');
  if (!/^\d+\.\d+\.\d+$/.test(release)) fail('kernel.release', `expected x.y.z, got ${JSON.stringify(release)}`);
  const isa = value.x86IsaBaseline;
  if (typeof isa !== 'number' || !Number.isInteger(isa) || isa < 1 || isa > 4)
    fail('x86IsaBaseline', 'expected 1 to 4');
  const ca =
    value.caStore === null
      ? null
      : isRecord(value.caStore)
        ? { path: text(value.caStore.path, 'caStore.path'), source: text(value.caStore.source, 'caStore.source') }
        : fail('caStore', 'expected an object or null');
  const architectures = texts(value.architectures, 'architectures');
  if (architectures.length === 0) fail('architectures', 'expected at least one');

  let symbolVersions: ReferencePlatform['symbolVersions'] = null;
  if (value.symbolVersions !== null && value.symbolVersions !== undefined) {
    const sv = isRecord(value.symbolVersions) ? value.symbolVersions : fail('symbolVersions', 'not an object');
    const byArch: Record<string, Record<VersionFamily, string[]>> = {};
    for (const arch of architectures) {
      const families = isRecord(sv[arch])
        ? sv[arch]
        : fail(`symbolVersions.${arch}`, 'missing for a listed architecture');
      const entry = {} as Record<VersionFamily, string[]>;
      for (const family of VERSION_FAMILIES) {
        entry[family] = texts(families[family], `symbolVersions.${arch}.${family}`).map((v, i) =>
          v.startsWith(`${family}_`) ? v : fail(`symbolVersions.${arch}.${family}[${i}]`, `expected ${family}_…`),
        );
      }
      byArch[arch] = entry;
    }
    symbolVersions = { source: text(sv.source, 'symbolVersions.source'), byArch };
  }
  if (kind === 'glibc' && symbolVersions === null) fail('symbolVersions', 'a glibc platform needs them');
  const glibcOf = symbolVersions?.byArch[architectures[0]!]?.GLIBC ?? [];
  if (kind === 'glibc' && !glibcOf.includes(`GLIBC_${libcVersion}`))
    fail('symbolVersions', `lists no GLIBC_${libcVersion}, the platform's own glibc`);

  const baseLibraries = (
    Array.isArray(value.baseLibraries) ? value.baseLibraries : fail('baseLibraries', 'expected a list')
  ).map((b: unknown, i) => {
    const field = `baseLibraries[${i}]`;
    if (!isRecord(b)) return fail(field, 'not an object');
    const soname = text(b.soname, `${field}.soname`);
    if (soname.includes('/')) fail(`${field}.soname`, 'a soname has no "/"');
    const families = texts(b.families, `${field}.families`).map((f, k) =>
      (VERSION_FAMILIES as readonly string[]).includes(f)
        ? (f as VersionFamily)
        : fail(`${field}.families[${k}]`, `expected one of ${VERSION_FAMILIES.join(', ')}`),
    );
    return { soname, families };
  });
  const inventory =
    value.inventory === undefined || value.inventory === null ? null : text(value.inventory, 'inventory');
  if (inventory !== null && !/^[A-Za-z0-9._-]+\.inventory\.json\.gz$/.test(inventory))
    fail('inventory', 'expected a file name NAME.inventory.json.gz beside the platform file');
  // A layout data/loader-defaults.json does not know would predict with another distribution's folders.
  const layout = text(value.layout, 'layout');
  const layouts = Object.keys(loaderDefaultsData().layouts);
  if (!layouts.includes(layout)) fail('layout', `expected one of ${layouts.join(', ')} (data/loader-defaults.json)`);
  return {
    name,
    title: text(value.title, 'title'),
    aliases,
    source: text(value.source, 'source'),
    layout,
    libc: { kind: kind!, version: libcVersion },
    kernel: { release, source: text(kernel.source, 'kernel.source') },
    x86IsaBaseline: isa as number,
    caStore: ca,
    architectures,
    symbolVersions,
    baseLibraries,
    uncertain: texts(value.uncertain ?? [], 'uncertain'),
    inventory,
  };
}

let cached: readonly ReferencePlatform[] | null = null;

/** Every reference platform, in name order. */
export function referencePlatforms(): readonly ReferencePlatform[] {
  if (cached !== null) return cached;
  const dir = join(packageFolder('data'), PLATFORMS_DIR);
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .sort()
    : [];
  const seen = new Map<string, string>();
  const platforms = files.map((f) => {
    const platform = readDataJson(join(PLATFORMS_DIR, f), validatePlatform);
    for (const n of [platform.name, ...platform.aliases]) {
      const other = seen.get(n);
      if (other !== undefined) throw new DataFileError(join(dir, f), 'name', `${n} is also named by ${other}`);
      seen.set(n, f);
    }
    return platform;
  });
  return (cached = platforms.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })));
}

/** A platform chosen by name: "rhel:8", an alias ("rocky:8"), with "/ARCH" for another architecture. */
export interface PlatformChoice {
  readonly platform: ReferencePlatform;
  readonly arch: string;
  /** The name as given, normalised: "rhel:8" or "rhel:9/aarch64". */
  readonly label: string;
}

export function findPlatform(given: string): PlatformChoice | null {
  const slash = given.indexOf('/');
  const name = slash < 0 ? given : given.slice(0, slash);
  const platform = referencePlatforms().find((p) => p.name === name || p.aliases.includes(name));
  if (platform === undefined) return null;
  const arch = slash < 0 ? platform.architectures[0]! : given.slice(slash + 1);
  if (!platform.architectures.includes(arch)) return null;
  return { platform, arch, label: slash < 0 ? name : `${name}/${arch}` };
}

/** The real inventory stored for a platform (x86_64 only), or null when it has facts only. */
export function platformInventory(platform: ReferencePlatform, arch: string): Inventory | null {
  if (platform.inventory === null || arch !== platform.architectures[0]) return null;
  return readInventory(join(packageFolder('data'), PLATFORMS_DIR, platform.inventory));
}
