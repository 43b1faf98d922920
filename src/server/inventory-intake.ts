// Inventories arriving from agents and from `pyrelo hosts import`: bounded in size, gunzipped,
// parsed, validated, then stored once per content hash. A malformed one is refused with an error
// naming what is wrong; nothing of it is stored.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { decodeInventory } from '../inventory/read.js';
import type { Inventory } from '../inventory/format.js';
import type { HostFacts } from './db/database.js';

export const MAX_INVENTORY_JSON_BYTES = 256 * 1024 * 1024;

export interface ParsedInventory {
  readonly inventory: Inventory;
  readonly sha256: string;
  readonly gzipped: Buffer;
  readonly size: number;
}

export function parseInventoryBytes(bytes: Buffer, source: string): ParsedInventory {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const { inventory, json } = decodeInventory(bytes, source, MAX_INVENTORY_JSON_BYTES);
  return { inventory, sha256: createHash('sha256').update(json).digest('hex'), gzipped: gzipped ? bytes : gzipSync(json, { level: 6 }), size: json.length };
}

export function factsOf(inventory: Inventory): HostFacts {
  const { host } = inventory;
  return {
    distroId: host.osRelease?.id ?? '',
    distroVersion: host.osRelease?.versionId ?? '',
    arch: host.arch,
    kernel: host.kernelRelease,
    libcKind: host.libc.kind,
    libcVersion: host.libc.version ?? '',
  };
}

/**
 * Parsed inventories by id, a few at a time: predictions for many bundles reuse one. A stored
 * inventory never changes (one row per content hash), so an entry never goes stale.
 */
export class InventoryCache {
  private readonly entries = new Map<number, Inventory>();

  constructor(private readonly body: (inventoryId: number) => Buffer, private readonly capacity = 8) {}

  get(inventoryId: number): Inventory {
    let inventory = this.entries.get(inventoryId);
    if (inventory === undefined) {
      // Stored rows are already hashed and gzipped: decode only (no sha256 of the whole JSON again).
      inventory = decodeInventory(this.body(inventoryId), `stored inventory ${inventoryId}`, MAX_INVENTORY_JSON_BYTES).inventory;
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(inventoryId, inventory);
    }
    return inventory;
  }
}
