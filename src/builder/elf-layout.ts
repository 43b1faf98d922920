// What glibc's ld.so checks about an object's PT_LOAD segments before it maps them
// (_dl_map_object_from_fd in elf/dl-load.c), so the build never ships a file the loader refuses:
//   (p_align & (pagesize - 1)) != 0            -> "ELF load command alignment not page-aligned" (up to 2.34)
//   ((p_vaddr - p_offset) & (p_align - 1)) != 0 -> "ELF load command address/offset not properly aligned" (up to 2.34)
//   ((p_vaddr - p_offset) & (pagesize - 1)) != 0 -> "ELF load command address/offset not page-aligned" (2.35+)
// A file patchelf has grown (auditwheel's repaired wheels: numpy.libs/libscipy_openblas…) and then
// rewritten by `strip` breaks the last rule: strip lays the file out by its sections and moves the
// segments patchelf added, which no section covers, to offsets that no longer match their addresses.

import { ElfFile } from '../elf/elf-file.js';
import { PT_LOAD } from '../elf/constants.js';

/** The smallest page size of the targets (x86_64, and aarch64 with 4 KiB pages). */
const PAGE_SIZE = 4096;

/** The loader's complaints about the file's LOAD segments; empty when ld.so would map them. */
export function loadSegmentProblems(path: string): string[] {
  const elf = ElfFile.open(path);
  try {
    const problems: string[] = [];
    for (const ph of elf.programHeaders) {
      if (ph.p_type !== PT_LOAD) continue;
      const at = `LOAD segment at offset 0x${ph.p_offset.toString(16)}, address 0x${ph.p_vaddr.toString(16)}`;
      const delta = ph.p_vaddr - ph.p_offset;
      if (ph.p_align % PAGE_SIZE !== 0) problems.push(`${at}: ELF load command alignment not page-aligned`);
      else if (delta % ph.p_align !== 0) problems.push(`${at}: ELF load command address/offset not properly aligned`);
      if (delta % PAGE_SIZE !== 0) problems.push(`${at}: ELF load command address/offset not page-aligned`);
    }
    return problems;
  } finally {
    elf.close();
  }
}

/** Whether the file has DWARF or other .debug sections, the only thing `strip --strip-debug` removes for us. */
export function hasDebugSections(path: string): boolean {
  const elf = ElfFile.open(path);
  try {
    return elf.sectionHeaders().some((s) => s.name.startsWith('.debug') || s.name.startsWith('.zdebug'));
  } finally {
    elf.close();
  }
}
