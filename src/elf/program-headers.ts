// The program header table: what the kernel and ld.so actually use. Read eagerly, in one read.

import { ELF32_PHDR_SIZE, ELF64_PHDR_SIZE } from './constants.js';
import type { Decoder } from './decoder.js';
import { ElfFormatError } from './errors.js';
import type { ByteSource } from './source.js';
import type { ElfHeader, ProgramHeader } from './types.js';

export function parseProgramHeaders(source: ByteSource, d: Decoder, h: ElfHeader): ProgramHeader[] {
  if (h.e_phnum === 0) return [];
  const entsize = d.is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
  // ld.so refuses any other e_phentsize ("ELF file's phentsize not the expected size"), and a
  // different stride would make the table unreadable with our structure layout anyway.
  if (h.e_phentsize !== entsize) {
    throw new ElfFormatError(
      source.name,
      'e_phentsize',
      'malformed',
      `${h.e_phentsize}, expected ${entsize} for ELF${d.is64 ? 64 : 32}`,
    );
  }
  const buf = source.read(h.e_phoff, h.e_phnum * entsize, 'e_phoff');
  const dv = d.view(buf);
  const out: ProgramHeader[] = new Array<ProgramHeader>(h.e_phnum);
  for (let i = 0; i < h.e_phnum; i++) {
    const o = i * entsize;
    if (d.is64) {
      out[i] = {
        p_type: d.u32(dv, o),
        p_flags: d.u32(dv, o + 4),
        p_offset: d.u64(dv, o + 8, 'p_offset'),
        p_vaddr: d.u64(dv, o + 16, 'p_vaddr'),
        p_paddr: d.u64(dv, o + 24, 'p_paddr'),
        p_filesz: d.u64(dv, o + 32, 'p_filesz'),
        p_memsz: d.u64(dv, o + 40, 'p_memsz'),
        p_align: d.u64(dv, o + 48, 'p_align'),
      };
    } else {
      out[i] = {
        p_type: d.u32(dv, o),
        p_offset: d.u32(dv, o + 4),
        p_vaddr: d.u32(dv, o + 8),
        p_paddr: d.u32(dv, o + 12),
        p_filesz: d.u32(dv, o + 16),
        p_memsz: d.u32(dv, o + 20),
        p_flags: d.u32(dv, o + 24),
        p_align: d.u32(dv, o + 28),
      };
    }
  }
  return out;
}
