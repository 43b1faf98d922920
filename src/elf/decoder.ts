// Integer decoding for one file's class and byte order. Every structure decoder takes a Buffer
// fetched by one read and decodes fields out of it through a DataView: no per-field I/O.
//
// 64-bit values are assembled from two 32-bit halves (faster than BigInt) and refused above
// Number.MAX_SAFE_INTEGER, so that no address silently loses precision.

import { ElfFormatError } from './errors.js';

const TWO_32 = 4294967296;
/** The largest high half of a 64-bit value that still gives a safe integer. */
const MAX_SAFE_HIGH = 0x1fffff;

export class Decoder {
  readonly is64: boolean;
  /** Size of an address/offset/size word: 4 or 8. */
  readonly wordSize: 4 | 8;

  constructor(
    readonly file: string,
    elfClass: 32 | 64,
    readonly le: boolean,
  ) {
    this.is64 = elfClass === 64;
    this.wordSize = this.is64 ? 8 : 4;
  }

  view(buf: Buffer): DataView {
    return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u16(dv: DataView, off: number): number {
    return dv.getUint16(off, this.le);
  }

  u32(dv: DataView, off: number): number {
    return dv.getUint32(off, this.le);
  }

  s32(dv: DataView, off: number): number {
    return dv.getInt32(off, this.le);
  }

  /** Unsigned 64-bit; 'too-large' above Number.MAX_SAFE_INTEGER. */
  u64(dv: DataView, off: number, field: string): number {
    const lo = dv.getUint32(this.le ? off : off + 4, this.le);
    const hi = dv.getUint32(this.le ? off + 4 : off, this.le);
    if (hi > MAX_SAFE_HIGH) {
      throw new ElfFormatError(
        this.file,
        field,
        'too-large',
        `value 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} exceeds Number.MAX_SAFE_INTEGER`,
      );
    }
    return hi * TWO_32 + lo;
  }

  /** Signed 64-bit (Elf64_Sxword, e.g. d_tag); 'too-large' outside the safe integer range. */
  s64(dv: DataView, off: number, field: string): number {
    const lo = dv.getUint32(this.le ? off : off + 4, this.le);
    const hi = dv.getInt32(this.le ? off + 4 : off, this.le);
    if (hi > MAX_SAFE_HIGH || hi < -MAX_SAFE_HIGH - 1) {
      throw new ElfFormatError(this.file, field, 'too-large', `value exceeds the safe integer range`);
    }
    return hi * TWO_32 + lo;
  }

  /** An Elf_Addr / Elf_Off / Elf_Xword-sized unsigned field: 4 bytes in ELF32, 8 in ELF64. */
  word(dv: DataView, off: number, field: string): number {
    return this.is64 ? this.u64(dv, off, field) : dv.getUint32(off, this.le);
  }

  /** An Elf_Sword / Elf_Sxword-sized signed field. */
  sword(dv: DataView, off: number, field: string): number {
    return this.is64 ? this.s64(dv, off, field) : dv.getInt32(off, this.le);
  }

  error(field: string, reason: ConstructorParameters<typeof ElfFormatError>[2], detail: string): ElfFormatError {
    return new ElfFormatError(this.file, field, reason, detail);
  }
}
