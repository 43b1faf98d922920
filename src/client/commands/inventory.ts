// `pyrelo inventory [--root DIR] [--json] [-o FILE]`

import { renameSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { collectInventory } from '../../inventory/collect.js';
import type { Inventory } from '../../inventory/format.js';
import { writeOut } from '../../common/terminal-text.js';

export interface InventoryCommandOptions {
  readonly root?: string;
  readonly json?: boolean;
  readonly output?: string;
  /** false with --no-proc (commander's negated option). */
  readonly proc?: boolean;
}

function describe(inventory: Inventory): string[] {
  const { host, loader } = inventory;
  const os = host.osRelease;
  return [
    `source:      ${inventory.source}`,
    `os:          ${os?.prettyName ?? 'unknown'} (ID=${os?.id ?? '?'} VERSION_ID=${os?.versionId ?? '?'})`,
    `arch:        ${host.arch}`,
    `kernel:      ${host.kernelRelease}`,
    `libc:        ${host.libc.kind}${host.libc.version === null ? '' : ` ${host.libc.version}`}`,
    `interpreter: ${loader.interpreter}`,
    `search dirs: ${loader.systemDirs.join(':')}  ($LIB=${loader.libToken}, $PLATFORM=${loader.platform})`,
    `hwcaps:      ${loader.hwcapsSubdirs.join(', ') || 'none'}`,
    `/proc:       ${loader.procMounted === false ? "not mounted (a program's own $ORIGIN has no value)" : 'mounted'}`,
    'ld.so.cache: ' +
      `${loader.cache === null ? 'none' : `${loader.cache.entries.length} entries (${loader.cache.format} format)`}`,
    `libraries:   ${Object.keys(inventory.files).length} paths, ${inventory.objects.length} distinct objects`,
  ];
}

/** Writes to a temporary name first, so an interrupted run never leaves half an inventory. */
function writeAtomically(file: string, bytes: Buffer | string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, file);
}

export function runInventory(options: InventoryCommandOptions): number {
  const inventory = collectInventory(options.root ?? '/', options.proc === false ? { procMounted: false } : {});
  const json = JSON.stringify(inventory);
  if (options.output !== undefined) {
    writeAtomically(options.output, options.output.endsWith('.gz') ? gzipSync(json, { level: 9 }) : json);
  }
  // Library names and paths come from the host's files: escaped (common/terminal-text.ts).
  if (options.json) writeOut(`${json}\n`);
  else writeOut(`${describe(inventory).join('\n')}\n`);
  return 0;
}
