// The one error the ELF reader raises for malformed input. Callers (the loader emulation, the
// inventory) catch this class only; anything else escaping the reader is a bug, which the fuzz
// test hunts for. Filesystem errors from opening a file are NOT wrapped: the loader emulation
// needs their errno (ENOENT, EACCES, ...) to reproduce what ld.so reports.

import { UserInputError } from '../common/user-input-error.js';

export type ElfErrorReason =
  | 'too-short' // the file ends before a structure the format requires (ident, header)
  | 'bad-magic' // not "\x7fELF"
  | 'bad-class' // EI_CLASS not ELFCLASS32/ELFCLASS64
  | 'bad-data' // EI_DATA not ELFDATA2LSB/ELFDATA2MSB
  | 'out-of-range' // an offset, address or size points outside the file or its segment
  | 'too-large' // a 64-bit value above Number.MAX_SAFE_INTEGER
  | 'cycle' // a version chain loops
  | 'malformed'; // anything else structurally unreadable (entry size, unterminated string...)

export class ElfFormatError extends UserInputError {
  override readonly name = 'ElfFormatError';

  constructor(
    /** The path (or the name given to fromBuffer). */
    readonly file: string,
    /** The spec name of the offending field or table: 'e_phoff', 'DT_STRTAB', 'vn_next', '.dynsym'. */
    readonly field: string,
    readonly reason: ElfErrorReason,
    detail: string,
  ) {
    super(file, detail, `${file}: ${field}: ${detail}`);
  }
}
