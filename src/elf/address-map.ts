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

  constructor(private readonly file: string, phdrs: readonly ProgramHeader[]) {
    this.loads = phdrs.filter((p) => p.p_type === PT_LOAD);
  }

  /**
   * Maps `vaddr`, requiring `size` bytes from it to lie in the file-backed part (p_filesz) of
   * one PT_LOAD segment. Data past p_filesz is zero-fill in memory and has no bytes in the file.
   * Errors name `field` (the address) or, when only the size overruns, `sizeField`.
   */
  map(vaddr: number, size: number, field: string, sizeField = field): MappedRange {
    for (const p of this.loads) {
      if (vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz) {
        const rel = vaddr - p.p_vaddr;
        if (size > p.p_filesz - rel) {
          throw new ElfFormatError(this.file, sizeField, 'out-of-range',
            `0x${vaddr.toString(16)}+${size} runs past the end of its PT_LOAD segment`);
        }
        return { offset: p.p_offset + rel, end: p.p_offset + p.p_filesz };
      }
    }
    // An empty table may sit exactly at a segment's end.
    if (size === 0) {
      for (const p of this.loads) {
        if (vaddr === p.p_vaddr + p.p_filesz) return { offset: p.p_offset + p.p_filesz, end: p.p_offset + p.p_filesz };
      }
    }
    throw new ElfFormatError(this.file, field, 'out-of-range',
      `address 0x${vaddr.toString(16)} is not in the file part of any PT_LOAD segment`);
  }
}
