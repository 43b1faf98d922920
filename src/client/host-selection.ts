// Turns the CLI's host options (--root DIR, --inventory FILE, neither) into a HostView, and the
// user's paths into paths as that host sees them.

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HostView } from '../loader/host-view.js';
import { OverlayHostView } from '../loader/overlay-host.js';
import { RootHostView } from '../loader/root-host.js';
import { InventoryHostView } from '../inventory/inventory-host.js';
import { readInventory } from '../inventory/read.js';
import { loaderConfigForRoot } from '../inventory/root-config.js';

export interface HostSelection {
  readonly view: HostView;
  /** Maps a path on this machine to the path the emulated loader uses for it. */
  toHostPath(localPath: string): string;
}

function inside(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * With --root, files inside the root are seen as that host sees them (/srv/bullseye/usr/bin/ls is
 * /usr/bin/ls); files elsewhere (a bundle being checked) are laid over the host at their own path.
 * With --inventory, the checked files are always local and laid over the stored host.
 */
export function selectHost(options: { root?: string; inventory?: string }, inputs: readonly string[]): HostSelection {
  const localInputs = inputs.map((p) => resolve(p));
  if (options.inventory !== undefined) {
    const inventory = readInventory(options.inventory);
    const base = new InventoryHostView(inventory, `inventory ${options.inventory}`);
    const local = new RootHostView('/', base.config);
    return { view: new OverlayHostView(base, local, localInputs), toHostPath: (p) => resolve(p) };
  }
  const rootDir = options.root === undefined ? '/' : realpathSync(options.root);
  const base = new RootHostView(rootDir, loaderConfigForRoot(rootDir));
  const outside = localInputs.filter((p) => !inside(p, rootDir));
  if (outside.length === 0) {
    return {
      view: base,
      toHostPath: (p) => {
        const abs = resolve(p);
        return rootDir === '/' ? abs : abs.slice(rootDir.length) || '/';
      },
    };
  }
  const local = new RootHostView('/', base.config);
  return {
    view: new OverlayHostView(base, local, outside),
    toHostPath: (p) => {
      const abs = resolve(p);
      return inside(abs, rootDir) && !outside.some((o) => inside(abs, o)) ? abs.slice(rootDir.length) || '/' : abs;
    },
  };
}
