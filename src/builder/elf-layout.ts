// What glibc's ld.so checks about an object's PT_LOAD segments before it maps them, so the build
// never ships a file the loader refuses: the rules of every glibc (src/loader/load-commands.ts),
// since a bundle must load on old and new hosts alike.
// A file patchelf has grown (auditwheel's repaired wheels: numpy.libs/libscipy_openblas…) and then
// rewritten by `strip` breaks the 2.35+ rule ("ELF load command address/offset not page-aligned"):
// strip lays the file out by its sections and moves the segments patchelf added, which no section
// covers, to offsets that no longer match their addresses.

import { ElfFile } from '../elf/elf-file.js';
import type { ElfClass } from '../elf/types.js';
import { loadSegmentError, loadSegmentsOf, type LoadCommandRules, type LoadSegment } from '../loader/load-commands.js';

const ALL_RULES: readonly LoadCommandRules[] = ['p_align', 'page'];

/**
 * The loader's complaints about these LOAD segments, under any glibc; empty when every ld.so
 * would map them. A file without LOAD segments (an object file) has none: ld.so never loads it.
 */
export function segmentProblems(segments: readonly LoadSegment[], elfClass: ElfClass): string[] {
  const problems: string[] = [];
  for (const segment of segments) {
    const at = `LOAD segment at offset 0x${segment.offset.toString(16)}, address 0x${segment.vaddr.toString(16)}`;
    const errors = new Set(ALL_RULES.map((rules) => loadSegmentError(segment, rules, elfClass)));
    for (const error of errors) if (error !== null) problems.push(`${at}: ${error}`);
  }
  return problems;
}

/** segmentProblems of the file at `path`. */
export function loadSegmentProblems(path: string): string[] {
  const elf = ElfFile.open(path);
  try {
    return segmentProblems(loadSegmentsOf(elf), elf.header.e_ident.class);
  } finally {
    elf.close();
  }
}

/** Whether the file has DWARF or other .debug sections: only such files are stripped (see stripDebug). */
export function hasDebugSections(path: string): boolean {
  const elf = ElfFile.open(path);
  try {
    return elf.sectionHeaders().some((s) => s.name.startsWith('.debug') || s.name.startsWith('.zdebug'));
  } finally {
    elf.close();
  }
}
