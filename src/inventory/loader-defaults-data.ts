// data/loader-defaults.json: the loader facts a root's ld.so bytes may not give (its PT_INTERP path
// per machine, SYSTEM_DIRS and $LIB by distribution layout). Validated when read: a malformed file
// is an error naming the file and the field (docs/loader.md sections 1 and 2).

import { DataFileError, readDataJson } from '../common/package-files.js';

export interface LoaderDefaultsData {
  readonly machines: Readonly<
    Record<string, { readonly interpreter: string; readonly triplet: string; readonly upstreamLib: string }>
  >;
  readonly layouts: Readonly<Record<string, { readonly systemDirs: readonly string[]; readonly libToken: string }>>;
  /** os-release ID (or an ID_LIKE entry) to a layout name. */
  readonly distros: Readonly<Record<string, string>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateLoaderDefaults(value: unknown, file: string): LoaderDefaultsData {
  const fail = (field: string, detail: string): never => {
    throw new DataFileError(file, field, detail);
  };
  if (!isRecord(value)) return fail('(top level)', 'not a JSON object');
  const record = (key: string): Record<string, unknown> =>
    isRecord(value[key]) ? value[key] : fail(key, 'not an object');
  const text = (v: unknown, field: string): string =>
    typeof v === 'string' && v !== '' ? v : fail(field, 'expected a non-empty string');
  const absolute = (v: unknown, field: string): string => {
    const s = text(v, field);
    return s.startsWith('/') ? s : fail(field, `expected an absolute path, got ${JSON.stringify(s)}`);
  };

  const machines: Record<string, { interpreter: string; triplet: string; upstreamLib: string }> = {};
  for (const [name, m] of Object.entries(record('machines'))) {
    const field = `machines.${name}`;
    if (!isRecord(m)) return fail(field, 'not an object');
    machines[name] = {
      interpreter: absolute(m.interpreter, `${field}.interpreter`),
      triplet: text(m.triplet, `${field}.triplet`),
      upstreamLib: text(m.upstreamLib, `${field}.upstreamLib`),
    };
  }
  const layouts: Record<string, { systemDirs: string[]; libToken: string }> = {};
  for (const [name, l] of Object.entries(record('layouts'))) {
    const field = `layouts.${name}`;
    if (!isRecord(l)) return fail(field, 'not an object');
    if (!Array.isArray(l.systemDirs) || l.systemDirs.length === 0)
      return fail(`${field}.systemDirs`, 'expected a non-empty list');
    const systemDirs = l.systemDirs.map((d: unknown, i) => {
      const dir = absolute(d, `${field}.systemDirs[${i}]`);
      return dir.endsWith('/') ? dir : fail(`${field}.systemDirs[${i}]`, 'ends with "/", as ld.so stores SYSTEM_DIRS');
    });
    layouts[name] = { systemDirs, libToken: text(l.libToken, `${field}.libToken`) };
  }
  if (layouts['upstream'] === undefined) fail('layouts.upstream', 'missing: unknown distributions use it');
  const distros: Record<string, string> = {};
  for (const [id, layout] of Object.entries(record('distros'))) {
    const name = text(layout, `distros.${id}`);
    distros[id] =
      layouts[name] !== undefined ? name : fail(`distros.${id}`, `names no layout: ${JSON.stringify(name)}`);
  }
  return { machines, layouts, distros };
}

let cached: LoaderDefaultsData | null = null;

export function loaderDefaultsData(): LoaderDefaultsData {
  return (cached ??= readDataJson('loader-defaults.json', validateLoaderDefaults));
}
