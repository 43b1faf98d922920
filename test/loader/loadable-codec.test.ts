// An object read back from the parse cache's form (src/loader/loadable-codec.ts) answers as the
// object read from the file: the same facts, the same definitions, and the same answer to every
// lookup by name that symbol binding makes. Over the libraries of this machine's main library
// folder, which hold every kind of table a real system has (GNU and SysV hash, versions, TLS).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../../src/elf/elf-file.js';
import { ElfFormatError } from '../../src/elf/errors.js';
import { findElfFiles } from '../../src/elf/find-elf-files.js';
import {
  definitionLookups,
  describeElf,
  headerOf,
  indexedDefinitionsOf,
  type LoadableObject,
  type SymbolDefinition,
} from '../../src/loader/loadable.js';
import { decodeLoadable, encodeLoadable } from '../../src/loader/loadable-codec.js';

const FOLDER = '/usr/lib/x86_64-linux-gnu';

/** What symbol binding asks an object for a name (symbol-binding.ts: its lookup, else a scan of its definitions). */
function lookup(object: LoadableObject, name: string): string[] {
  const found: readonly SymbolDefinition[] =
    definitionLookups.get(object)?.(name) ?? object.definitions.filter((d) => d.name === name);
  return found.map((d) => JSON.stringify(d)).sort();
}

function plain(object: LoadableObject): unknown {
  return JSON.parse(JSON.stringify({ ...object, definitions: object.definitions })) as unknown;
}

test('loadable codec: every library of the main library folder reads back with the same facts and lookups', () => {
  const files = findElfFiles([FOLDER]).slice(0, 400);
  assert.ok(files.length > 50, `found ${files.length} ELF files under ${FOLDER}`);
  let compared = 0;
  let lookups = 0;
  for (const file of files) {
    const elf = ElfFile.open(file);
    let original: LoadableObject;
    let encoded;
    try {
      original = describeElf(elf);
      encoded = encodeLoadable(original, indexedDefinitionsOf(elf));
    } catch (error) {
      if (error instanceof ElfFormatError) continue;
      throw error;
    } finally {
      elf.close();
    }
    const header = (() => {
      const again = ElfFile.open(file);
      try {
        return headerOf(again);
      } finally {
        again.close();
      }
    })();
    const decoded = decodeLoadable(header, encoded);
    assert.deepEqual(plain(decoded), plain(original), file);
    const names = new Set([
      ...original.definitions.map((d) => d.name),
      ...original.requirements.map((r) => r.name),
      'no_such_symbol_here',
      '',
    ]);
    for (const name of names) {
      assert.deepEqual(lookup(decoded, name), lookup(original, name), `${file}: ${name}`);
      lookups += 1;
    }
    compared += 1;
  }
  assert.ok(compared > 50 && lookups > 1000, `${compared} objects, ${lookups} lookups compared`);
});
