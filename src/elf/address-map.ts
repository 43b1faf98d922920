// Virtual address -> file offset through the PT_LOAD segments. The dynamic section gives
// addresses (d_ptr), not offsets, and a stripped file has no section headers to help: this is
// how ld.so itself sees the tables, as parts of the mapped segments.

import { PT_LOAD } from './constants.js';
import { ElfFormatError } from './errors.js';
import type { ProgramHeader } from './types.js';

export interface MappedRange {
  /** File offset of the address. */
  readonly offset: number;
  /** File offset where the file-backed part of the containing segment ends. */
  readonly end: number;
}

export class AddressMap {
  private readonly loads: readonly ProgramHeader[];

  constructor(
    private readonly file: string,
    phdrs: readonly ProgramHeader[],
  ) {
    this.loads = phdrs.filter((p) => p.p_type === PT_LOAD);
  }

  /**
   * Maps `vaddr`, requiring `size` bytes from it to lie in the file-backed part (p_filesz) of a
   * PT_LOAD segment, or of a run of segments that follow each other without a gap both in memory
   * and in the file (patchelf, growing a non-PIE executable, puts the new .dynstr in a segment of
   * its own right before the old first one, and the table runs on into it). Data past p_filesz is
   * zero-fill in memory and has no bytes in the file. Errors name `field` (the address) or, when
   * only the size overruns, `sizeField`.
   */
  map(vaddr: number, size: number, field: string, sizeField = field): MappedRange {
    for (let i = 0; i < this.loads.length; i += 1) {
      const p = this.loads[i]!;
      if (vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz) {
        const offset = p.p_offset + (vaddr - p.p_vaddr);
        let end = p.p_offset + p.p_filesz;
        let vend = p.p_vaddr + p.p_filesz;
        for (let j = i + 1; offset + size > end && j < this.loads.length; j += 1) {
          const next = this.loads[j]!;
          if (next.p_vaddr !== vend || next.p_offset !== end) break;
          end = next.p_offset + next.p_filesz;
          vend = next.p_vaddr + next.p_filesz;
        }
        if (offset + size > end) {
          throw new ElfFormatError(
            this.file,
            sizeField,
            'out-of-range',
            `0x${vaddr.toString(16)}+${size} runs past the end of its PT_LOAD segment`,
          );
        }
        return { offset, end };
      }
    }
    // An empty table may sit exactly at a segment's end.
    if (size === 0) {
      for (const p of this.loads) {
        if (vaddr === p.p_vaddr + p.p_filesz) return { offset: p.p_offset + p.p_filesz, end: p.p_offset + p.p_filesz };
      }
    }
    throw new ElfFormatError(
      this.file,
      field,
      'out-of-range',
      `address 0x${vaddr.toString(16)} is not in the file part of any PT_LOAD segment`,
    );
  }
}
