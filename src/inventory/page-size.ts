// The running kernel's page size, as ld.so learns it: the AT_PAGESZ entry (type 6) of the auxiliary
// vector the kernel hands every process, which /proc/self/auxv holds (pairs of native words). Node
// has no call for it (os has none; process.memoryUsage does not say), so it is read there, and
// without /proc from `getconf PAGESIZE` (glibc's sysconf answers from the same AT_PAGESZ).
// A root checked from outside shares this machine's kernel, so it has this page size too.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

const AT_NULL = 0n;
const AT_PAGESZ = 6n;

/** Page sizes a Linux kernel runs with: a power of two from 4 KiB (x86, arm64) to 256 KiB (hexagon). */
export function isPageSize(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 4096 &&
    value <= 262_144 &&
    (value & (value - 1)) === 0
  );
}

/** AT_PAGESZ from an auxiliary vector of 8-byte words in this machine's byte order; null when absent. */
export function pageSizeFromAuxv(auxv: Buffer): number | null {
  const read = (at: number): bigint => (endianness() === 'LE' ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at));
  for (let at = 0; at + 16 <= auxv.length; at += 16) {
    const type = read(at);
    if (type === AT_NULL) break;
    if (type === AT_PAGESZ) {
      const value = Number(read(at + 8));
      return isPageSize(value) ? value : null;
    }
  }
  return null;
}

function fromAuxv(): number | null {
  try {
    return pageSizeFromAuxv(readFileSync('/proc/self/auxv'));
  } catch {
    return null;
  }
}

function fromGetconf(): number | null {
  try {
    const value = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8', timeout: 10_000 }).trim());
    return isPageSize(value) ? value : null;
  } catch {
    return null;
  }
}

let cached: number | undefined;

/**
 * This kernel's page size. When neither /proc/self/auxv nor getconf answers, 4096: the smallest
 * page any Linux runs, and so the most lenient for the PT_LOAD checks (docs/loader.md section 7).
 */
export function runningPageSize(): number {
  cached ??= fromAuxv() ?? fromGetconf() ?? 4096;
  return cached;
}
