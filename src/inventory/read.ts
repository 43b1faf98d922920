// Reads a stored inventory (JSON, optionally gzip'd) and refuses malformed ones with an error that
// names the file and the field, before any of it reaches the loader emulation.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { INVENTORY_FORMAT, type Inventory } from './format.js';

export class InventoryFormatError extends Error {
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: ${field}: ${detail}`);
    this.name = 'InventoryFormatError';
  }
}

const MAX_INVENTORY_BYTES = 512 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural validation of the parts the emulation indexes into. */
export function validateInventory(value: unknown, file: string): Inventory {
  const fail = (field: string, detail: string): never => {
    throw new InventoryFormatError(file, field, detail);
  };
  if (!isRecord(value)) return fail('(top level)', 'not a JSON object');
  if (value.format !== INVENTORY_FORMAT) return fail('format', `expected "${INVENTORY_FORMAT}", found ${JSON.stringify(value.format)}`);
  if (!isRecord(value.host)) fail('host', 'missing or not an object');
  const loader = value.loader;
  if (!isRecord(loader)) return fail('loader', 'missing or not an object');
  for (const key of ['machine', 'isaLevel'] as const) if (typeof loader[key] !== 'number') fail(`loader.${key}`, 'not a number');
  for (const key of ['interpreter', 'libToken', 'platform'] as const) if (typeof loader[key] !== 'string') fail(`loader.${key}`, 'not a string');
  for (const key of ['systemDirs', 'hwcapsSubdirs', 'legacyHwcapsSubdirs'] as const) {
    if (!Array.isArray(loader[key]) || !(loader[key] as unknown[]).every((d) => typeof d === 'string')) fail(`loader.${key}`, 'not a list of strings');
  }
  if (loader.elfClass !== 32 && loader.elfClass !== 64) fail('loader.elfClass', 'not 32 or 64');
  if (loader.cache !== null) {
    if (!isRecord(loader.cache) || !Array.isArray(loader.cache.entries)) fail('loader.cache.entries', 'not a list');
  }
  const objects = value.objects;
  if (!Array.isArray(objects)) return fail('objects', 'not a list');
  objects.forEach((object, i) => {
    if (!isRecord(object) || !isRecord(object.header)) fail(`objects[${i}]`, 'not an object with a header');
    for (const key of ['needed', 'definitions', 'requirements', 'versionDefinitions', 'versionNeeds', 'versions']) {
      if (!Array.isArray((object as Record<string, unknown>)[key])) fail(`objects[${i}].${key}`, 'not a list');
    }
  });
  if (!isRecord(value.files)) return fail('files', 'not an object');
  for (const [path, index] of Object.entries(value.files)) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= objects.length) {
      fail(`files["${path}"]`, `object index ${JSON.stringify(index)} out of range (0..${objects.length - 1})`);
    }
  }
  if (!isRecord(value.unreadable)) fail('unreadable', 'not an object');
  return value as unknown as Inventory;
}

/**
 * An inventory from its bytes (JSON, or gzip'd JSON), validated. Returns the JSON text as well,
 * since whoever stores it deduplicates by the hash of exactly those bytes.
 */
export function decodeInventory(bytes: Buffer, source: string, maxBytes = MAX_INVENTORY_BYTES): { inventory: Inventory; json: Buffer } {
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
