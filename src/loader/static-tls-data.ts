// data/static-tls.json: the static TLS glibc's ld.so leaves for dlopen, by glibc release and
// machine (docs/loader-model.md, "Static TLS"). Read once and validated: a malformed file is an
// error that names the file and the field, never a silent default.

import { readFileSync } from 'node:fs';
import { dataFile } from '../common/package-files.js';
import { compareVersionParts } from './floors.js';

/** What ld.so's static TLS layout is made of on one host. */
export interface StaticTlsParameters {
  /** GLRO(dl_tls_static_surplus). */
  readonly surplus: number;
  /** The block ld.so appends after the start-up objects' blocks (the rseq area), if any. */
  readonly extra: { readonly bytes: number; readonly align: number } | null;
  /** The alignment _dl_determine_tlsoffset starts from (TCB_ALIGNMENT). */
  readonly tcbAlignment: number;
}

interface Versioned {
  readonly glibc: readonly [number, number];
  readonly bytes: number;
  readonly align: number;
}

interface StaticTlsData {
  readonly surplus: readonly Versioned[];
  readonly extraTls: readonly Versioned[];
  readonly tcbAlignment: ReadonlyMap<string, number>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isPowerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Parses and validates the file's JSON text; `file` names it in errors. */
export function parseStaticTlsData(text: string, file: string): StaticTlsData {
  const fail = (field: string, detail: string): never => {
    throw new Error(`${file}: ${field}: ${detail}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail('(json)', (error as Error).message);
  }
  if (!isRecord(parsed)) return fail('(top level)', 'not a JSON object');
  const versioned = (key: 'surplus' | 'extraTls', withAlign: boolean): Versioned[] => {
    const list = parsed[key];
    if (!Array.isArray(list)) return fail(key, 'not a list');
    return list.map((entry: unknown, i): Versioned => {
      const field = `${key}[${i}]`;
      if (!isRecord(entry)) return fail(field, 'not an object');
      const glibc = typeof entry.glibc === 'string' ? /^(\d+)\.(\d+)$/.exec(entry.glibc) : null;
      if (glibc === null) return fail(`${field}.glibc`, 'expected a release such as "2.32"');
      if (!Number.isSafeInteger(entry.bytes) || (entry.bytes as number) < 0)
        fail(`${field}.bytes`, 'not a whole number of bytes');
      if (withAlign && !isPowerOfTwo(entry.align as number)) fail(`${field}.align`, 'not a power of two');
      if (typeof entry.source !== 'string' || entry.source.trim() === '')
        fail(`${field}.source`, 'missing: say where the value comes from');
      return {
        glibc: [Number(glibc[1]), Number(glibc[2])],
        bytes: entry.bytes as number,
        align: withAlign ? (entry.align as number) : 1,
      };
    });
  };
  const surplus = versioned('surplus', false);
  const extraTls = versioned('extraTls', true);
  const alignments = parsed.tcbAlignment;
  if (!isRecord(alignments)) return fail('tcbAlignment', 'not an object');
  const tcbAlignment = new Map<string, number>();
  for (const [machine, entry] of Object.entries(alignments)) {
    if (!isRecord(entry) || !isPowerOfTwo(entry.bytes as number))
      return fail(`tcbAlignment.${machine}.bytes`, 'not a power of two');
    if (typeof entry.source !== 'string' || entry.source.trim() === '')
      fail(`tcbAlignment.${machine}.source`, 'missing: say where the value comes from');
    tcbAlignment.set(machine, entry.bytes as number);
  }
  return { surplus, extraTls, tcbAlignment };
}

let loaded: StaticTlsData | undefined;

function staticTlsData(): StaticTlsData {
  if (loaded === undefined) {
    const file = dataFile('static-tls.json');
    loaded = parseStaticTlsData(readFileSync(file, 'utf8'), file);
  }
  return loaded;
}

/** The entry of the highest release not newer than `glibc`, or null when every entry is newer. */
function forRelease(entries: readonly Versioned[], glibc: readonly [number, number]): Versioned | null {
  let best: Versioned | null = null;
  for (const entry of entries) {
    if (compareVersionParts(entry.glibc, glibc) > 0) continue;
    if (best === null || compareVersionParts(entry.glibc, best.glibc) > 0) best = entry;
  }
  return best;
}

/**
 * The static TLS layout of glibc `glibc` on `machine` (a name such as "x86_64"), or null when it is
 * not modelled there: a machine the data does not list, or a glibc older than every surplus entry.
 */
export function staticTlsParameters(
  machine: string,
  glibc: readonly [number, number],
  data = staticTlsData(),
): StaticTlsParameters | null {
  const tcbAlignment = data.tcbAlignment.get(machine);
  const surplus = forRelease(data.surplus, glibc);
  if (tcbAlignment === undefined || surplus === null) return null;
  const extra = forRelease(data.extraTls, glibc);
  return {
    surplus: surplus.bytes,
    extra: extra === null ? null : { bytes: extra.bytes, align: extra.align },
    tcbAlignment,
  };
}
