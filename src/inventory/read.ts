// Reads a stored inventory (JSON, optionally gzip'd) and refuses malformed ones with an error that
// names the file and the field, before any of it reaches the loader emulation.

import { readFileSync } from 'node:fs';
import { isPageSize } from './page-size.js';
import { gunzipSync } from 'node:zlib';
import { INVENTORY_FORMAT, type Inventory } from './format.js';
import { UserInputError } from '../common/user-input-error.js';

export class InventoryFormatError extends UserInputError {
  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
  ) {
    super(file, detail, `${file}: ${field}: ${detail}`);
    this.name = 'InventoryFormatError';
  }
}

const MAX_INVENTORY_BYTES = 512 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Fail = (field: string, detail: string) => never;

/** A list whose every element is a tuple of exactly these types ('s' string, 'n' number, 'b' boolean). */
function checkTuples(value: unknown, shape: string, field: string, fail: Fail): void {
  if (!Array.isArray(value)) fail(field, 'not a list');
  (value as unknown[]).forEach((item, i) => {
    const ok =
      Array.isArray(item) &&
      item.length === shape.length &&
      [...shape].every(
        (kind, k) => typeof item[k] === ({ s: 'string', n: 'number', b: 'boolean' } as const)[kind as 's' | 'n' | 'b'],
      );
    if (!ok) fail(`${field}[${i}]`, `expected a tuple of (${[...shape].join(', ')})`);
  });
}

/** Every field the loader emulation reads from a stored object, with its type. */
function validateStoredObject(object: unknown, field: string, fail: Fail): void {
  if (!isRecord(object)) return fail(field, 'not an object');
  const header = object.header;
  if (!isRecord(header)) return fail(`${field}.header`, 'not an object');
  for (const key of [
    'elfClass',
    'identVersion',
    'osabi',
    'abiversion',
    'e_version',
    'e_type',
    'e_machine',
    'e_phentsize',
  ]) {
    if (typeof header[key] !== 'number') fail(`${field}.header.${key}`, 'not a number');
  }
  if (!Array.isArray(object.needed) || !object.needed.every((n) => typeof n === 'string'))
    fail(`${field}.needed`, 'not a list of strings');
  for (const key of ['soname', 'rpath', 'runpath', 'interpreter']) {
    if (object[key] !== null && typeof object[key] !== 'string') fail(`${field}.${key}`, 'not a string or null');
  }
  for (const key of ['flags', 'flags1']) if (typeof object[key] !== 'number') fail(`${field}.${key}`, 'not a number');
  const isa = object.x86IsaNeeded;
  if (isa !== undefined && !(Array.isArray(isa) && isa.length === 2 && isa.every((n) => typeof n === 'number'))) {
    fail(`${field}.x86IsaNeeded`, 'expected [from the notes, with the property segment], two numbers');
  }
  const tls = object.tls;
  if (
    tls !== undefined &&
    !(Array.isArray(tls) && tls.length === 3 && tls.every((n) => Number.isSafeInteger(n) && n >= 0))
  ) {
    fail(`${field}.tls`, 'expected the PT_TLS segment [p_vaddr, p_memsz, p_align], three whole numbers');
  }
  checkTuples(object.definitions, 'snn', `${field}.definitions`, fail);
  checkTuples(object.requirements, 'snn', `${field}.requirements`, fail);
  checkTuples(object.versionDefinitions, 'snbn', `${field}.versionDefinitions`, fail);
  checkTuples(object.versions, 'nsnb', `${field}.versions`, fail);
  if (!Array.isArray(object.versionNeeds)) return fail(`${field}.versionNeeds`, 'not a list');
  object.versionNeeds.forEach((need, i) => {
    if (!Array.isArray(need) || typeof need[0] !== 'string')
      fail(`${field}.versionNeeds[${i}]`, 'expected [file, versions]');
    checkTuples((need as unknown[])[1], 'snbn', `${field}.versionNeeds[${i}][1]`, fail);
  });
}

const isStringList = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isStringOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

/** The optional NSS and locale facts (host-nss.ts); absent in inventories written before them. */
function validateNss(nss: unknown, fail: (field: string, detail: string) => never): void {
  if (!isRecord(nss)) return fail('nss', 'not an object');
  if (!isRecord(nss.databases) || !Object.values(nss.databases).every(isStringList))
    fail('nss.databases', 'not an object of string lists');
  if (!Array.isArray(nss.modules)) return fail('nss.modules', 'not a list');
  nss.modules.forEach((m: unknown, i) => {
    if (
      !isRecord(m) ||
      typeof m.module !== 'string' ||
      typeof m.soname !== 'string' ||
      !isStringOrNull(m.path) ||
      !isStringOrNull(m.glibcNeeded)
    )
      fail(`nss.modules[${i}]`, 'not { module, soname, path, glibcNeeded }');
  });
  if (!isStringList(nss.locales)) fail('nss.locales', 'not a list of strings');
  if (!isStringOrNull(nss.defaultLang)) fail('nss.defaultLang', 'not a string or null');
}

/** Structural validation of the parts the emulation indexes into. */
export function validateInventory(value: unknown, file: string): Inventory {
  const fail = (field: string, detail: string): never => {
    throw new InventoryFormatError(file, field, detail);
  };
  if (!isRecord(value)) return fail('(top level)', 'not a JSON object');
  if (value.format !== INVENTORY_FORMAT)
    return fail('format', `expected "${INVENTORY_FORMAT}", found ${JSON.stringify(value.format)}`);
  if (!isRecord(value.host)) fail('host', 'missing or not an object');
  const loader = value.loader;
  if (!isRecord(loader)) return fail('loader', 'missing or not an object');
  for (const key of ['machine', 'isaLevel'] as const)
    if (typeof loader[key] !== 'number') fail(`loader.${key}`, 'not a number');
  for (const key of ['interpreter', 'libToken', 'platform'] as const)
    if (typeof loader[key] !== 'string') fail(`loader.${key}`, 'not a string');
  for (const key of ['systemDirs', 'hwcapsSubdirs', 'legacyHwcapsSubdirs'] as const) {
    if (!Array.isArray(loader[key]) || !(loader[key] as unknown[]).every((d) => typeof d === 'string'))
      fail(`loader.${key}`, 'not a list of strings');
  }
  if (loader.elfClass !== 32 && loader.elfClass !== 64) fail('loader.elfClass', 'not 32 or 64');
  // Optional: older inventories do not have it (format.ts).
  if (loader.procMounted !== undefined && typeof loader.procMounted !== 'boolean')
    fail('loader.procMounted', 'not true or false');
  if (loader.pageSize !== undefined && !isPageSize(loader.pageSize))
    fail('loader.pageSize', `${JSON.stringify(loader.pageSize)} is not a page size (a power of two, 4096 to 262144)`);
  if (loader.cache !== null) {
    if (!isRecord(loader.cache) || !Array.isArray(loader.cache.entries)) fail('loader.cache.entries', 'not a list');
  }
  const objects = value.objects;
  if (!Array.isArray(objects)) return fail('objects', 'not a list');
  objects.forEach((object, i) => validateStoredObject(object, `objects[${i}]`, fail));
  if (!isRecord(value.files)) return fail('files', 'not an object');
  for (const [path, index] of Object.entries(value.files)) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= objects.length) {
      fail(`files["${path}"]`, `object index ${JSON.stringify(index)} out of range (0..${objects.length - 1})`);
    }
  }
  if (!isRecord(value.unreadable)) fail('unreadable', 'not an object');
  if (value.nss !== undefined) validateNss(value.nss, fail);
  return value as unknown as Inventory;
}

/**
 * An inventory from its bytes (JSON, or gzip'd JSON), validated. Returns the JSON text as well,
 * since whoever stores it deduplicates by the hash of exactly those bytes.
 */
export function decodeInventory(
  bytes: Buffer,
  source: string,
  maxBytes = MAX_INVENTORY_BYTES,
): { inventory: Inventory; json: Buffer } {
  if (bytes.length > maxBytes) throw new InventoryFormatError(source, '(file)', `larger than ${maxBytes} bytes`);
  let json = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      json = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      throw new InventoryFormatError(source, '(gzip)', (error as Error).message);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new InventoryFormatError(source, '(json)', (error as Error).message);
  }
  return { inventory: validateInventory(parsed, source), json };
}

export function readInventory(file: string): Inventory {
  return decodeInventory(readFileSync(file), file).inventory;
}
