// A string table (.dynstr, .shstrtab): NUL-terminated strings addressed by byte offset.
// The table is read once; strings are decoded only when asked for.

import { ElfFormatError } from './errors.js';

// eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL by definition
const NON_ASCII = /[^\x00-\x7f]/;

export class StringTable {
  constructor(private readonly file: string, private readonly table: string, private readonly bytes: Buffer) {}

  get size(): number {
    return this.bytes.length;
  }

  /**
   * The string at `offset`. `field` names the referring field (st_name, vn_file, DT_NEEDED...)
   * for the error message. Decoded as UTF-8 because names such as DT_NEEDED become paths.
   */
  get(offset: number, field: string): string {
    const b = this.bytes;
    // Offset 0 is the empty string by definition (gABI), even in an empty table.
    if (offset === 0 && b.length === 0) return '';
    if (offset >= b.length) {
      throw new ElfFormatError(this.file, field, 'out-of-range', `string offset ${offset} is outside ${this.table} (size ${b.length})`);
    }
    const end = b.indexOf(0, offset);
    if (end < 0) {
      throw new ElfFormatError(this.file, field, 'malformed', `string at ${offset} is not NUL-terminated within ${this.table}`);
    }
    if (end === offset) return '';
    // Symbol names are ASCII; latin1 decodes those several times faster than utf8 and identically.
    const text = b.toString('latin1', offset, end);
    return NON_ASCII.test(text) ? b.toString('utf8', offset, end) : text;
  }
}
