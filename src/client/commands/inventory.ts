// `pyrelo inventory [--root DIR] [--json] [-o FILE]`

import { renameSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { collectInventory } from '../../inventory/collect.js';
import type { Inventory } from '../../inventory/format.js';
import { writeOut } from '../../common/terminal-text.js';
import { isPageSize } from '../../inventory/page-size.js';
import { InputError } from '../../elf/find-elf-files.js';

export interface InventoryCommandOptions {
  readonly root?: string;
  readonly json?: boolean;
  readonly output?: string;
  /** false with --no-proc (commander's negated option). */
  readonly proc?: boolean;
  /** --page-size: the kernel page size to record instead of this machine's. */
  readonly pageSize?: string;
}

/** --page-size N (inventory and check), checked before anything is read. */
export function givenPageSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!isPageSize(n)) throw new InputError(`--page-size ${value}`, 'not a page size (a power of two, 4096 to 262144)');
  return n;
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
    `page size:   ${loader.pageSize ?? 4096} bytes`,
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
  const pageSize = givenPageSize(options.pageSize);
  const inventory = collectInventory(options.root ?? '/', {
    ...(options.proc === false ? { procMounted: false } : {}),
    ...(pageSize === undefined ? {} : { pageSize }),
  });
  const json = JSON.stringify(inventory);
  if (options.output !== undefined) {
    writeAtomically(options.output, options.output.endsWith('.gz') ? gzipSync(json, { level: 9 }) : json);
  }
  // Library names and paths come from the host's files: escaped (common/terminal-text.ts).
  if (options.json) writeOut(`${json}\n`);
  else writeOut(`${describe(inventory).join('\n')}\n`);
  return 0;
}
