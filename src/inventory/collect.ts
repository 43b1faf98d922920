// Collects the inventory of a host from a live root: every library the loader can find by name
// (the system directories with their hwcaps subdirectories, the ld.so.cache targets, the
// directories ld.so.conf names, and the RPATH/RUNPATH directories of what was found), reduced to
// what the loader emulation needs.

import { readdirSync } from 'node:fs';
import { release } from 'node:os';
import { posix } from 'node:path';
import { ElfFormatError } from '../elf/errors.js';
import { splitSearchPath } from '../loader/dynamic-string-tokens.js';
import { RootHostView } from '../loader/root-host.js';
import { collectHostNss } from './host-nss.js';
import { readLdSoConf } from './ld-so-conf.js';
import type { LoadableObject } from '../loader/loadable.js';
import { storeObject } from './codec.js';
import { INVENTORY_FORMAT, cacheEntryToStored, type Inventory, type StoredObject } from './format.js';
import { detectLibc, readOsRelease } from './host-facts.js';
import { loaderConfigForRoot, type RootConfigOptions } from './root-config.js';

/** The shebang pyrelo's launchers use (builder/libc-bundle.ts, builder/launchers.ts). */
const LAUNCHER_SHELL = '/bin/sh';

const MACHINE_NAMES: Readonly<Record<number, string>> = { 62: 'x86_64', 183: 'aarch64' };

/** A name the loader could be asked for: shared objects, not the linker scripts and data beside them. */
function looksLikeLibrary(name: string): boolean {
  return /\.so(\.|$)/.test(name) || name.startsWith('ld-');
}

export function collectInventory(rootDir: string, options: RootConfigOptions = {}): Inventory {
  const config = loaderConfigForRoot(rootDir, options);
  const view = new RootHostView(rootDir, config);
  const files: Record<string, number> = {};
  const unreadable: Record<string, string> = {};
  const objects: StoredObject[] = [];
  const indexByIdentity = new Map<string, number>();
  const scannedDirs = new Set<string>();
  const pendingDirs: string[] = [];

  const queueDir = (dir: string): void => {
    if (dir === '' || !dir.startsWith('/')) return;
    const normalized = posix.normalize(dir);
    if (scannedDirs.has(normalized)) return;
    scannedDirs.add(normalized);
    pendingDirs.push(normalized);
  };

  const record = (path: string): void => {
    if (files[path] !== undefined || unreadable[path] !== undefined) return;
    const outcome = view.open(path);
    if (outcome.kind === 'absent') return;
    if (outcome.kind === 'unreadable') {
      unreadable[path] = outcome.message;
      return;
    }
    let index = indexByIdentity.get(outcome.identity);
    if (index === undefined) {
      let object: LoadableObject;
      try {
        object = outcome.load();
      } catch (error) {
        if (!(error instanceof ElfFormatError)) throw error;
        unreadable[path] = `invalid ELF file (${error.message})`;
        return;
      }
      index = objects.length;
      objects.push(storeObject(object));
      indexByIdentity.set(outcome.identity, index);
      // Libraries found here look for their own dependencies in their RPATH/RUNPATH too.
      const origin = posix.dirname(path);
      for (const list of [object.rpath, object.runpath]) {
        if (list === null) continue;
        for (const dir of splitSearchPath(list, /:/, { origin, lib: config.libToken, platform: config.platform }))
          queueDir(dir);
      }
    }
    files[path] = index;
  };

  const scanDir = (dir: string): void => {
    const resolved = view.resolve(dir);
    if ('errno' in resolved) return;
    let names: string[];
    try {
      names = readdirSync(resolved.hostPath).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'glibc-hwcaps') {
        for (const sub of subdirsOf(view, `${dir}/glibc-hwcaps`)) queueDir(`${dir}/glibc-hwcaps/${sub}`);
      } else if (looksLikeLibrary(name)) {
        record(posix.join(dir, name));
      }
    }
  };

  record(config.interpreter);
  // The shell that runs launcher scripts (`#!/bin/sh`): with LD_PRELOAD set, a --libc bundle
  // bundle's preloads are loaded into it under this host's loader first (loader-model.md, "LD_PRELOAD").
  record(LAUNCHER_SHELL);
  for (const dir of config.systemDirs) queueDir(dir);
  for (const entry of config.cache?.entries ?? []) {
    record(entry.value);
    queueDir(posix.dirname(entry.value));
  }
  for (const dir of readLdSoConf(rootDir)) queueDir(dir);
  while (pendingDirs.length > 0) scanDir(pendingDirs.shift()!);

  const os = readOsRelease(rootDir);
  const libc = detectLibc(rootDir);
  return {
    format: INVENTORY_FORMAT,
    collectedAt: new Date().toISOString(),
    source: rootDir,
    host: {
      osRelease:
        os === null
          ? null
          : {
              id: os.id,
              versionId: os.versionId,
              prettyName: os.prettyName,
              versionCodename: os.versionCodename,
              idLike: os.idLike,
            },
      arch: MACHINE_NAMES[config.machine] ?? String(config.machine),
      kernelRelease: release(),
      libc: { kind: libc.kind, version: libc.version },
    },
    loader: {
      ...config,
      cache:
        config.cache === null
          ? null
          : {
              format: config.cache.format,
              hwcapsSubdirs: config.cache.hwcapsSubdirs,
              entries: config.cache.entries.map(cacheEntryToStored),
            },
    },
    files,
    unreadable,
    objects,
    nss: collectHostNss(rootDir, view),
  };
}

function subdirsOf(view: RootHostView, dir: string): string[] {
  const resolved = view.resolve(dir);
  if ('errno' in resolved) return [];
  try {
    return readdirSync(resolved.hostPath, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}
