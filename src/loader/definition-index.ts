// An object's findable definitions (loadable.ts) in one compact buffer that answers "the
// definitions of this name" without decoding the others, as the file's own DT_GNU_HASH / DT_HASH
// table does (docs/loader.md section 6). It is what the parse cache stores instead of the file's
// tables: a lookup reads a few bytes of the buffer, and loading an object from the cache decodes
// nothing of its symbols.
//
// Layout (little endian):
//   u32 count, u32 nslots (a power of two)
//   u32 slots[nslots]           entry number + 1 of a hash-reachable definition, 0 = empty (linear probing)
//   entry[count], 16 bytes each: u32 gnu hash, u32 name offset, u32 name length, u16 version index
//                                (0xffff = none), u8 flags (1 versionHidden, 2 undefinedWithValue), u8 0
//   names                       UTF-8 bytes, not terminated
// Every findable definition has an entry (the `definitions` list, in symbol order); only those a
// lookup through the file's hash table reaches are in the slots, so a lookup answers what
// DynamicSymbolTable.named answers.

import { gnuHash, gnuHashOfName, nameBytesOf } from '../elf/hash-tables.js';
import type { SymbolDefinition } from './loadable.js';

const HEADER = 8;
const ENTRY = 16;
const NO_VERSION = 0xffff;

/** One definition to index, and whether a lookup of its name through the file's hash table finds it. */
export interface IndexedDefinition {
  readonly definition: SymbolDefinition;
  readonly reachable: boolean;
}

function slotCountFor(reachable: number): number {
  let n = 1;
  while (n < reachable * 2) n *= 2;
  return n;
}

// eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL by definition
const NON_ASCII = /[^\x00-\x7f]/;

/** A name's UTF-8 bytes as a latin1 string, one char per byte (the name itself when it is ASCII, as nearly all are). */
function utf8Latin1(name: string): string {
  return NON_ASCII.test(name) ? Buffer.from(name, 'utf8').toString('latin1') : name;
}

export function encodeDefinitionIndex(items: readonly IndexedDefinition[]): Buffer {
  const names = items.map((item) => utf8Latin1(item.definition.name));
  let reachable = 0;
  for (const item of items) if (item.reachable) reachable += 1;
  const nslots = slotCountFor(reachable);
  const entriesAt = HEADER + 4 * nslots;
  const namesAt = entriesAt + ENTRY * items.length;
  let namesLength = 0;
  for (const name of names) namesLength += name.length;
  const out = Buffer.alloc(namesAt + namesLength);
  const slots = new Uint32Array(nslots);
  out.writeUInt32LE(items.length, 0);
  out.writeUInt32LE(nslots, 4);
  let nameOffset = namesAt;
  for (let i = 0; i < items.length; i++) {
    const { definition, reachable: inSlots } = items[i]!;
    const bytes = names[i]!;
    const hash = gnuHash(bytes);
    const at = entriesAt + ENTRY * i;
    out.writeUInt32LE(hash, at);
    out.writeUInt32LE(nameOffset, at + 4);
    out.writeUInt32LE(bytes.length, at + 8);
    const version = definition.versionIndex;
    if (version !== null && (version < 0 || version >= NO_VERSION))
      throw new Error(`version index ${version} cannot be stored`);
    out.writeUInt16LE(version ?? NO_VERSION, at + 12);
    out[at + 14] = (definition.versionHidden ? 1 : 0) | (definition.undefinedWithValue ? 2 : 0);
    nameOffset += out.write(bytes, nameOffset, 'latin1');
    if (!inSlots) continue;
    let slot = hash & (nslots - 1);
    while (slots[slot] !== 0) slot = (slot + 1) & (nslots - 1);
    slots[slot] = i + 1;
  }
  for (let s = 0; s < nslots; s++) out.writeUInt32LE(slots[s]!, HEADER + 4 * s);
  return out;
}

/** Reads an index written by encodeDefinitionIndex; the buffer is checked once, then trusted. */
export class DefinitionIndex {
  private readonly count: number;
  private readonly nslots: number;
  private readonly entriesAt: number;

  constructor(private readonly buf: Buffer) {
    if (buf.length < HEADER) throw new Error('definition index: too short');
    this.count = buf.readUInt32LE(0);
    this.nslots = buf.readUInt32LE(4);
    this.entriesAt = HEADER + 4 * this.nslots;
    const namesAt = this.entriesAt + ENTRY * this.count;
    if (this.nslots === 0 || (this.nslots & (this.nslots - 1)) !== 0 || namesAt > buf.length)
      throw new Error('definition index: bad layout');
    // A slot naming a missing entry, or a name outside the buffer, would misread: refuse it here.
    for (let s = 0; s < this.nslots; s++)
      if (buf.readUInt32LE(HEADER + 4 * s) > this.count) throw new Error('definition index: bad slot');
    for (let i = 0; i < this.count; i++) {
      const at = this.entriesAt + ENTRY * i;
      const offset = buf.readUInt32LE(at + 4);
      if (offset < namesAt || offset + buf.readUInt32LE(at + 8) > buf.length)
        throw new Error('definition index: bad name');
    }
  }

  private definitionAt(i: number, knownName?: string): SymbolDefinition {
    const at = this.entriesAt + ENTRY * i;
    const version = this.buf.readUInt16LE(at + 12);
    const flags = this.buf[at + 14]!;
    const offset = this.buf.readUInt32LE(at + 4);
    return {
      name: knownName ?? this.buf.toString('utf8', offset, offset + this.buf.readUInt32LE(at + 8)),
      versionIndex: version === NO_VERSION ? null : version,
      versionHidden: (flags & 1) !== 0,
      undefinedWithValue: (flags & 2) !== 0,
    };
  }

  /** Every definition, in symbol order (what LoadableObject.definitions lists). */
  all(): SymbolDefinition[] {
    const out: SymbolDefinition[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.definitionAt(i));
    return out;
  }

  /** The definitions of `name` a lookup through the file's hash table finds, in symbol order. */
  named(name: string): SymbolDefinition[] {
    const buf = this.buf;
    const hash = gnuHashOfName(name);
    const bytes = nameBytesOf(name);
    const mask = this.nslots - 1;
    const found: number[] = [];
    for (let slot = hash & mask, probes = 0; probes < this.nslots; slot = (slot + 1) & mask, probes++) {
      const entry = buf.readUInt32LE(HEADER + 4 * slot);
      if (entry === 0) break;
      const at = this.entriesAt + ENTRY * (entry - 1);
      if (buf.readUInt32LE(at) !== hash || buf.readUInt32LE(at + 8) !== bytes.length) continue;
      const offset = buf.readUInt32LE(at + 4);
      let same = true;
      for (let k = 0; k < bytes.length; k++) {
        if (buf[offset + k] !== bytes.charCodeAt(k)) {
          same = false;
          break;
        }
      }
      if (same) found.push(entry - 1);
    }
    return found.sort((a, b) => a - b).map((i) => this.definitionAt(i, name));
  }
}
