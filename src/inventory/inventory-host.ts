// A HostView over a stored inventory: answers the loader emulation from the recorded files of a
// host instead of its live filesystem, so a host that is far away (or was never reachable) can be
// checked against.

import { posix } from 'node:path';
import type { LdCache } from '../loader/ld-cache.js';
import type { HostView, LoaderConfig, OpenOutcome } from '../loader/host-view.js';
import type { LoadableObject } from '../loader/loadable.js';
import { loadObject } from './codec.js';
import type { Inventory } from './format.js';
import type { InventoryIndex } from './inventory-index.js';

export function loaderConfigOf(inventory: Pick<Inventory, 'loader'>): LoaderConfig {
  const stored = inventory.loader;
  const cache: LdCache | null =
    stored.cache === null
      ? null
      : {
          format: stored.cache.format,
          hwcapsSubdirs: stored.cache.hwcapsSubdirs,
          generator: null,
          entries: stored.cache.entries.map(([flags, key, value, osVersion, hwcap]) => ({
            flags,
            key,
            value,
            osVersion,
            hwcap: BigInt(hwcap),
          })),
        };
  // An inventory from before procMounted was recorded counts as a host with /proc (format.ts).
  return { ...stored, cache, procMounted: stored.procMounted ?? true, pageSize: stored.pageSize ?? 4096 };
}

export class InventoryHostView implements HostView {
  readonly config: LoaderConfig;
  private readonly objects = new Map<number, LoadableObject>();

  constructor(
    private readonly inventory: Inventory,
    readonly label: string,
  ) {
    this.config = loaderConfigOf(inventory);
  }

  open(path: string): OpenOutcome {
    // Only lexical normalisation is possible here: the inventory records every name (symlinks
    // included) under which the loader can reach a file.
    const normalized = posix.normalize(path);
    const index = this.inventory.files[normalized];
    if (index !== undefined) {
      const stored = this.inventory.objects[index];
      if (stored === undefined)
        throw new Error(`${this.label}: files["${normalized}"] names object ${index}, which does not exist`);
      return { kind: 'object', identity: `inventory:${index}`, header: stored.header, load: () => this.object(index) };
    }
    const message = this.inventory.unreadable[normalized];
    if (message !== undefined) return { kind: 'unreadable', message };
    return { kind: 'absent', errno: 'ENOENT' };
  }

  private object(index: number): LoadableObject {
    let object = this.objects.get(index);
    if (object === undefined) {
      object = loadObject(this.inventory.objects[index]!);
      this.objects.set(index, object);
    }
    return object;
  }
}

/**
 * The same view over an inventory stored pre-indexed (inventory-index.ts): paths and headers from
 * the index, each object fetched by its hash only when the loader opens it. `objectByHash` may
 * share one decoded object among many inventories: a LoadableObject is never changed once made.
 * Identities are the same as InventoryHostView's (the object's place in the inventory), so two
 * paths of one object are one file and two identical libraries at different paths are two.
 */
export class IndexedInventoryHostView implements HostView {
  readonly config: LoaderConfig;
  private readonly objects = new Map<number, LoadableObject>();

  constructor(
    private readonly index: InventoryIndex,
    private readonly objectByHash: (sha256: string) => LoadableObject,
    readonly label: string,
  ) {
    this.config = loaderConfigOf(index);
  }

  open(path: string): OpenOutcome {
    const normalized = posix.normalize(path);
    const position = Object.hasOwn(this.index.files, normalized) ? this.index.files[normalized] : undefined;
    if (position !== undefined) {
      const entry = this.index.objects[position];
      if (entry === undefined)
        throw new Error(`${this.label}: files["${normalized}"] names object ${position}, which does not exist`);
      return { kind: 'object', identity: `inventory:${position}`, header: entry[1], load: () => this.object(position) };
    }
    const message = Object.hasOwn(this.index.unreadable, normalized) ? this.index.unreadable[normalized] : undefined;
    if (message !== undefined) return { kind: 'unreadable', message };
    return { kind: 'absent', errno: 'ENOENT' };
  }

  private object(position: number): LoadableObject {
    let object = this.objects.get(position);
    if (object === undefined) {
      object = this.objectByHash(this.index.objects[position]![0]);
      this.objects.set(position, object);
    }
    return object;
  }
}
