// A LoadableObject in the parse cache's form (parse-cache.ts) and back: its small facts as JSON,
// its definitions as a DefinitionIndex (definition-index.ts), so that an object read back from the
// cache answers every question of the loader emulation as the object read from the file did.

import { DefinitionIndex, encodeDefinitionIndex, type IndexedDefinition } from './definition-index.js';
import {
  definitionLookups,
  dynamicFactsOf,
  type LoadableHeader,
  type LoadableObject,
  type SymbolDefinition,
  type SymbolRequirement,
} from './loadable.js';

/** What the cache stores of one object. */
export interface EncodedLoadable {
  readonly facts: string;
  readonly requirements: Buffer;
  readonly definitions: Buffer;
}

/** Everything of a LoadableObject but its header (stored apart), requirements and definitions (binary, below). */
type StoredFacts = Omit<LoadableObject, 'header' | 'definitions' | 'requirements'>;

/**
 * The requirements: u32 count, then per requirement u16 version index (0xffff = none) and u8 flags
 * (1 weak, 2 pltOnly, 4 selfDefined), then the names in UTF-8, each ended by a NUL (an ELF name
 * never holds one). A library can need thousands of symbols: this reads back several times faster
 * than JSON and is a third of its size.
 */
function encodeRequirements(requirements: readonly SymbolRequirement[]): Buffer {
  const names = Buffer.from(requirements.map((r) => `${r.name}\0`).join(''), 'utf8');
  const out = Buffer.alloc(4 + 3 * requirements.length + names.length);
  out.writeUInt32LE(requirements.length, 0);
  requirements.forEach((r, i) => {
    if (r.versionIndex !== null && (r.versionIndex < 0 || r.versionIndex >= NO_VERSION))
      throw new Error(`version index ${r.versionIndex} cannot be stored`);
    out.writeUInt16LE(r.versionIndex ?? NO_VERSION, 4 + 3 * i);
    out[4 + 3 * i + 2] = (r.weak ? 1 : 0) | (r.pltOnly ? 2 : 0) | (r.selfDefined ? 4 : 0);
  });
  names.copy(out, 4 + 3 * requirements.length);
  return out;
}

function decodeRequirements(buf: Buffer): SymbolRequirement[] {
  const count = buf.readUInt32LE(0);
  const namesAt = 4 + 3 * count;
  const names = count === 0 ? [] : buf.toString('utf8', namesAt, buf.length - 1).split('\0');
  if (names.length !== count) throw new Error(`requirements: ${names.length} names for ${count} entries`);
  const out = new Array<SymbolRequirement>(count);
  for (let i = 0; i < count; i++) {
    const at = 4 + 3 * i;
    const version = buf.readUInt16LE(at);
    const flags = buf[at + 2]!;
    out[i] = {
      name: names[i]!,
      versionIndex: version === NO_VERSION ? null : version,
      weak: (flags & 1) !== 0,
      pltOnly: (flags & 2) !== 0,
      selfDefined: (flags & 4) !== 0,
    };
  }
  return out;
}

const NO_VERSION = 0xffff;

/** `object` as describeElf made it, with its definitions from indexedDefinitionsOf on the same file. */
export function encodeLoadable(object: LoadableObject, definitions: readonly IndexedDefinition[]): EncodedLoadable {
  // Field by field, not a spread: a spread would read the `definitions` getter and decode them all.
  const facts: StoredFacts = {
    interpreter: object.interpreter,
    ...(object.interpreterRefusal === undefined ? {} : { interpreterRefusal: object.interpreterRefusal }),
    ...dynamicFactsOf(object),
    x86IsaNeeded: object.x86IsaNeeded,
    ...(object.loadSegments === undefined ? {} : { loadSegments: object.loadSegments }),
    ...(object.tls === undefined ? {} : { tls: object.tls }),
    versionDefinitions: object.versionDefinitions,
    versionNeeds: object.versionNeeds,
    versions: object.versions,
    hasVersym: object.hasVersym,
    hasSymbolHash: object.hasSymbolHash,
  };
  return {
    facts: JSON.stringify(facts),
    requirements: encodeRequirements(object.requirements),
    definitions: encodeDefinitionIndex(definitions),
  };
}

export function decodeLoadable(header: LoadableHeader, encoded: EncodedLoadable): LoadableObject {
  const facts = JSON.parse(encoded.facts) as StoredFacts;
  const index = new DefinitionIndex(encoded.definitions);
  let definitions: SymbolDefinition[] | undefined;
  const object: LoadableObject = {
    ...facts,
    header,
    requirements: decodeRequirements(encoded.requirements),
    // Decoded on first use, as from the file: symbol binding looks names up instead.
    get definitions(): readonly SymbolDefinition[] {
      return (definitions ??= index.all());
    },
  };
  definitionLookups.set(object, (name) => index.named(name));
  return object;
}
