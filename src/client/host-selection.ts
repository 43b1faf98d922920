// Turns the CLI's host options (--root DIR, --inventory FILE, neither) into a HostView, and the
// user's paths into paths as that host sees them.

import { realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { HostView, LoaderConfig } from '../loader/host-view.js';
import { OverlayHostView } from '../loader/overlay-host.js';
import { RootHostView } from '../loader/root-host.js';
import type { ParseCache } from '../loader/parse-cache.js';
import { InventoryHostView } from '../inventory/inventory-host.js';
import { readInventory } from '../inventory/read.js';
import { loaderConfigForRoot } from '../inventory/root-config.js';
import { platformInventory } from '../inventory/platform-catalog.js';
import { ReferenceHostView } from '../inventory/reference-host.js';
import { BASIS_LABELS, choosePlatform, type PredictionBasis } from '../compat/platform-prediction.js';

export interface HostSelection {
  readonly view: HostView;
  /** Maps a path on this machine to the path the emulated loader uses for it. */
  toHostPath(localPath: string): string;
  /** With --platform: the platform and what its prediction is made from. */
  readonly platform?: { readonly name: string; readonly basis: PredictionBasis; readonly uncertain: readonly string[] };
}

/** --platform NAME: the platform's stored inventory where the catalog has one, else its facts. */
function platformView(given: string): { view: HostView; platform: NonNullable<HostSelection['platform']> } {
  const choice = choosePlatform(given);
  const inventory = platformInventory(choice.platform, choice.arch);
  const basis: PredictionBasis = inventory === null ? 'reference' : 'inventory';
  const label = `${choice.label} (${BASIS_LABELS[basis]})`;
  return {
    view:
      inventory === null
        ? new ReferenceHostView(choice.platform, choice.arch, choice.label)
        : new InventoryHostView(inventory, label),
    platform: { name: choice.label, basis, uncertain: choice.platform.uncertain },
  };
}

/**
 * What is laid over the host for one input: a folder as given; for a file, the folder it is in,
 * since a program finds its libraries beside it ($ORIGIN) far more often than anywhere else. But a
 * file in one of the host's own library folders (or directly under /) stands for itself alone:
 * laying /usr/lib/x86_64-linux-gnu of this machine over the host would hide the host's libraries.
 */
function localFolderOf(input: string, hostLibraryDirs: ReadonlySet<string>, realFolders: Map<string, string>): string {
  const path = resolve(input);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return path;
  const folder = dirname(path);
  if (folder === '/' || hostLibraryDirs.has(folder)) return path;
  // A thousand files of one folder: its real path is looked up once.
  let real = realFolders.get(folder);
  if (real === undefined) {
    real = realpathSync(folder);
    realFolders.set(folder, real);
  }
  return hostLibraryDirs.has(real) ? path : folder;
}

/** The folders the host's loader searches by default or through its cache. */
function libraryDirsOf(config: LoaderConfig): Set<string> {
  const dirs = new Set(config.systemDirs);
  for (const entry of config.cache?.entries ?? []) dirs.add(dirname(entry.value));
  return dirs;
}

function inside(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * With --root, files inside the root are seen as that host sees them (/srv/bullseye/usr/bin/ls is
 * /usr/bin/ls); files elsewhere (a bundle being checked) are laid over the host at their own path,
 * together with the folder they are in.
 * With --inventory, the checked files are always local and laid over the stored host.
 */
export function selectHost(
  options: { root?: string; inventory?: string; platform?: string; proc?: boolean; pageSize?: number | undefined },
  inputs: readonly string[],
  parseCache: ParseCache | null = null,
): HostSelection {
  const stored =
    options.inventory !== undefined
      ? {
          view: new InventoryHostView(readInventory(options.inventory), `inventory ${options.inventory}`),
          platform: undefined,
        }
      : options.platform !== undefined
        ? platformView(options.platform)
        : null;
  if (stored !== null) {
    // A stored or reference host: the checked files are always local and laid over it.
    const base = stored.view;
    const local = new RootHostView('/', base.config, parseCache);
    const libraryDirs = libraryDirsOf(base.config);
    const realFolders = new Map<string, string>();
    const localInputs = inputs.map((p) => localFolderOf(p, libraryDirs, realFolders));
    return {
      view: new OverlayHostView(base, local, localInputs),
      toHostPath: (p) => resolve(p),
      ...(stored.platform === undefined ? {} : { platform: stored.platform }),
    };
  }
  const rootDir = options.root === undefined ? '/' : realpathSync(options.root);
  const base = new RootHostView(
    rootDir,
    loaderConfigForRoot(rootDir, {
      ...(options.proc === false ? { procMounted: false } : {}),
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    }),
    parseCache,
  );
  const hostDirs = libraryDirsOf(base.config);
  const realFolders = new Map<string, string>();
  const localInputs = inputs.map((p) => localFolderOf(p, hostDirs, realFolders));
  const outside = localInputs.filter((p) => !inside(p, rootDir) && !inside(rootDir, p));
  if (outside.length === 0) {
    return {
      view: base,
      toHostPath: (p) => {
        const abs = resolve(p);
        return rootDir === '/' ? abs : abs.slice(rootDir.length) || '/';
      },
    };
  }
  const local = new RootHostView('/', base.config, parseCache);
  return {
    view: new OverlayHostView(base, local, outside),
    toHostPath: (p) => {
      const abs = resolve(p);
      return inside(abs, rootDir) && !outside.some((o) => inside(abs, o)) ? abs.slice(rootDir.length) || '/' : abs;
    },
  };
}
