// A HostView over a stored inventory: answers the loader emulation from the recorded files of a
// host instead of its live filesystem, so a host that is far away (or was never reachable) can be
// checked against.

import { posix } from 'node:path';
import type { LdCache } from '../loader/ld-cache.js';
import type { HostView, LoaderConfig, OpenOutcome } from '../loader/host-view.js';
import type { LoadableObject } from '../loader/loadable.js';
import { loadObject } from './codec.js';
import type { Inventory } from './format.js';

export function loaderConfigOf(inventory: Inventory): LoaderConfig {
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
  return { ...stored, cache, procMounted: stored.procMounted ?? true };
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
