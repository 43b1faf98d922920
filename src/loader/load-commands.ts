// What glibc's ld.so checks about an object's PT_LOAD segments ("load commands") before it maps
// them: the loop over the program headers at the start of _dl_map_object_from_fd (elf/dl-load.c).
// The first offending PT_LOAD, in program header order, stops loading with ld.so's message.
//
//   up to 2.34:  (p_align & (pagesize - 1)) != 0             "ELF load command alignment not page-aligned"
//                ((p_vaddr - p_offset) & (p_align - 1)) != 0  "ELF load command address/offset not properly aligned"
//   2.35 and on: ((p_vaddr - p_offset) & (pagesize - 1)) != 0 "ELF load command address/offset not page-aligned"
//                (BZ #28688 dropped the p_align checks; BZ #28838 added this one; p_align only
//                chooses the mapping's alignment now, when it is a power of two)
//   any version: no PT_LOAD at all                            "object file has no loadable segments"
//
// ld.so maps the libraries, and the main program only when it is run as `ld.so PROGRAM` (or
// traced by ldd). A program started normally is mapped by the kernel, which mmaps each PT_LOAD
// with file content at p_offset rounded down to the page: when p_offset and p_vaddr differ modulo
// the page size that mmap fails past the point of no return of execve, and the process is killed
// with SIGSEGV (observed on Linux 6.x); p_align does not matter to it.
//
// The arithmetic is glibc's: bitwise on ElfW(Addr), so wrap-around and a p_align of 0 or of a
// value that is not a power of two behave as they do in C, not as a modulo would.

import { PT_LOAD } from '../elf/constants.js';
import type { ElfFile } from '../elf/elf-file.js';
import type { ElfClass } from '../elf/types.js';

/** The fields of one PT_LOAD program header that the mapping checks read. */
export interface LoadSegment {
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly align: number;
}

/** Which set of checks a glibc applies (see the table above). */
export type LoadCommandRules = 'p_align' | 'page';

/**
 * GLRO(dl_pagesize) is the running kernel's page size (AT_PAGESZ): 4 KiB on x86_64, and the
 * smallest (most lenient) aarch64 page. A host's own is LoaderConfig.pageSize, recorded in its
 * inventory (docs/loader.md section 7, "Page size"); this default serves the build's verify step.
 */
export const LOADER_PAGE_SIZE = 4096;

export const NO_LOADABLE_SEGMENTS = 'object file has no loadable segments';

/** The PT_LOAD headers of a parsed file, in program header order. */
export function loadSegmentsOf(elf: ElfFile): LoadSegment[] {
  return elf.programHeaders
    .filter((ph) => ph.p_type === PT_LOAD)
    .map((ph) => ({ offset: ph.p_offset, vaddr: ph.p_vaddr, filesz: ph.p_filesz, align: ph.p_align }));
}

/** The rules of a glibc release; an unknown release gets the current ones. */
export function loadCommandRulesFor(glibcVersion: readonly [number, number] | null): LoadCommandRules {
  if (glibcVersion === null) return 'page';
  const [major, minor] = glibcVersion;
  return major > 2 || (major === 2 && minor >= 35) ? 'page' : 'p_align';
}

/** p_vaddr - p_offset as an unsigned ElfW(Addr). */
function delta(segment: LoadSegment, elfClass: ElfClass): bigint {
  return BigInt.asUintN(elfClass, BigInt(segment.vaddr) - BigInt(segment.offset));
}

/** ld.so's complaint about one PT_LOAD under `rules`, or null when it accepts it. */
export function loadSegmentError(
  segment: LoadSegment,
  rules: LoadCommandRules,
  elfClass: ElfClass,
  pageSize = LOADER_PAGE_SIZE,
): string | null {
  const pageMask = BigInt(pageSize - 1);
  if (rules === 'page') {
    return (delta(segment, elfClass) & pageMask) !== 0n ? 'ELF load command address/offset not page-aligned' : null;
  }
  const align = BigInt(segment.align);
  if ((align & pageMask) !== 0n) return 'ELF load command alignment not page-aligned';
  const alignMask = BigInt.asUintN(elfClass, align - 1n);
  if ((delta(segment, elfClass) & alignMask) !== 0n) return 'ELF load command address/offset not properly aligned';
  return null;
}

/** The error _dl_map_object_from_fd stops with while it collects the load commands, or null. */
export function loadCommandError(
  segments: readonly LoadSegment[],
  rules: LoadCommandRules,
  elfClass: ElfClass,
  pageSize = LOADER_PAGE_SIZE,
): string | null {
  for (const segment of segments) {
    const error = loadSegmentError(segment, rules, elfClass, pageSize);
    if (error !== null) return error;
  }
  return segments.length === 0 ? NO_LOADABLE_SEGMENTS : null;
}

/** The first PT_LOAD the kernel cannot map for a program it starts itself (see above), or null. */
export function kernelUnmappableSegment(
  segments: readonly LoadSegment[],
  elfClass: ElfClass,
  pageSize = LOADER_PAGE_SIZE,
): LoadSegment | null {
  const pageMask = BigInt(pageSize - 1);
  return segments.find((s) => s.filesz > 0 && (delta(s, elfClass) & pageMask) !== 0n) ?? null;
}
