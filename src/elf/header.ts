// e_ident and the ELF header. Only what makes the rest unreadable is refused here (short file,
// bad magic, unknown class or byte order). Values ld.so rejects but that parse fine (EI_VERSION,
// EI_OSABI, non-zero padding, e_type, e_machine, e_version) are exposed raw: the loader
// emulation decides, with glibc's own rules, what it refuses.

import {
  EI_ABIVERSION,
  EI_CLASS,
  EI_DATA,
  EI_NIDENT,
  EI_OSABI,
  EI_PAD,
  EI_VERSION,
  ELF32_EHDR_SIZE,
  ELF64_EHDR_SIZE,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  ELFMAG,
} from './constants.js';
import { Decoder } from './decoder.js';
import { ElfFormatError } from './errors.js';
import type { ByteSource } from './source.js';
import type { ElfHeader, ElfIdent } from './types.js';

export interface ParsedHeader {
  readonly header: ElfHeader;
  readonly decoder: Decoder;
}

export function parseHeader(source: ByteSource): ParsedHeader {
  const file = source.name;
  // glibc's open_verify reports "file too short" before it looks at the magic; do the same.
  if (source.size < EI_NIDENT) {
    throw new ElfFormatError(
      file,
      'e_ident',
      'too-short',
      `file is ${source.size} bytes, shorter than e_ident (${EI_NIDENT})`,
    );
  }
  // Read the largest header at once when the file has it: one read for ident and header.
  const first = source.read(0, Math.min(source.size, ELF64_EHDR_SIZE), 'e_ident');
  for (let i = 0; i < ELFMAG.length; i++) {
    if (first[i] !== ELFMAG[i]) throw new ElfFormatError(file, 'e_ident', 'bad-magic', 'not an ELF file (bad magic)');
  }
  const cls = first[EI_CLASS] ?? 0;
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) {
    throw new ElfFormatError(file, 'EI_CLASS', 'bad-class', `unknown ELF class ${cls}`);
  }
  const data = first[EI_DATA] ?? 0;
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) {
    throw new ElfFormatError(file, 'EI_DATA', 'bad-data', `unknown data encoding ${data}`);
  }
  const elfClass = cls === ELFCLASS64 ? 64 : 32;
  const ehsize = elfClass === 64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
  if (source.size < ehsize) {
    throw new ElfFormatError(
      file,
      'e_ehsize',
      'too-short',
      `file is ${source.size} bytes, shorter than the ELF${elfClass} header (${ehsize})`,
    );
  }
  let paddingNonZero = false;
  for (let i = EI_PAD; i < EI_NIDENT; i++) if (first[i] !== 0) paddingNonZero = true;
  const e_ident: ElfIdent = {
    class: elfClass,
    data: data === ELFDATA2LSB ? 'lsb' : 'msb',
    version: first[EI_VERSION] ?? 0,
    osabi: first[EI_OSABI] ?? 0,
    abiversion: first[EI_ABIVERSION] ?? 0,
    paddingNonZero,
  };

  const d = new Decoder(file, elfClass, data === ELFDATA2LSB);
  const dv = d.view(first);
  // Offsets after e_version differ by class because e_entry, e_phoff and e_shoff are words.
  const w = d.wordSize;
  const at = 24 + 3 * w; // e_flags
  const header: ElfHeader = {
    e_ident,
    e_type: d.u16(dv, 16),
    e_machine: d.u16(dv, 18),
    e_version: d.u32(dv, 20),
    e_entry: d.word(dv, 24, 'e_entry'),
    e_phoff: d.word(dv, 24 + w, 'e_phoff'),
    e_shoff: d.word(dv, 24 + 2 * w, 'e_shoff'),
    e_flags: d.u32(dv, at),
    e_ehsize: d.u16(dv, at + 4),
    e_phentsize: d.u16(dv, at + 6),
    e_phnum: d.u16(dv, at + 8),
    e_shentsize: d.u16(dv, at + 10),
    e_shnum: d.u16(dv, at + 12),
    e_shstrndx: d.u16(dv, at + 14),
  };
  return { header, decoder: d };
}
