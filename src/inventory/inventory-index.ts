// An inventory taken apart for storage (issue 16, "Inventories stored pre-indexed"): the index (the
// loader configuration, every path and what it names, each object's ELF header and the sha256 of
// its stored form) and the objects themselves, each stored once by that hash. Hosts of one
// distribution have mostly the same libraries, so a fleet's objects are stored once each, and a
// prediction reads the small index and only the objects the loader opens, instead of the whole
// inventory's JSON (docs/loader.md: the loader only looks at the files it opens).

import { createHash } from 'node:crypto';
import type { Inventory, InventoryLoaderConfig, StoredObject } from './format.js';
import type { HostNss } from './host-nss.js';

export const INVENTORY_INDEX_FORMAT = 'pyrelo-inventory-index/1';

export interface InventoryIndex {
  readonly format: typeof INVENTORY_INDEX_FORMAT;
  readonly loader: InventoryLoaderConfig;
  /** As in the inventory: every path the loader can open by name, to an index into `objects`. */
  readonly files: Readonly<Record<string, number>>;
  readonly unreadable: Readonly<Record<string, string>>;
  /** Per object of the inventory, in its order: [sha256 of its stored JSON, its ELF header]. */
  readonly objects: readonly (readonly [sha256: string, header: StoredObject['header']])[];
  /** As in the inventory: the host's NSS and locale facts, when it has them (host-nss.ts). */
  readonly nss?: HostNss;
}

export interface IndexedInventory {
  readonly index: InventoryIndex;
  /** Each distinct object once: its hash and its JSON (a StoredObject). */
  readonly objects: readonly { readonly sha256: string; readonly json: string }[];
}

export function indexInventory(inventory: Inventory): IndexedInventory {
  const objects = new Map<string, string>();
  const entries = inventory.objects.map((object) => {
    const json = JSON.stringify(object);
    const sha256 = createHash('sha256').update(json).digest('hex');
    objects.set(sha256, json);
    return [sha256, object.header] as const;
  });
  return {
    index: {
      format: INVENTORY_INDEX_FORMAT,
      loader: inventory.loader,
      files: inventory.files,
      unreadable: inventory.unreadable,
      objects: entries,
      ...(inventory.nss === undefined ? {} : { nss: inventory.nss }),
    },
    objects: [...objects].map(([sha256, json]) => ({ sha256, json })),
  };
}
