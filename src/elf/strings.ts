// A string table (.dynstr, .shstrtab): NUL-terminated strings addressed by byte offset.
// The table is read once; strings are decoded only when asked for.

import { ElfFormatError } from './errors.js';

// eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL by definition
const NON_ASCII = /[^\x00-\x7f]/;

export class StringTable {
  constructor(
    private readonly file: string,
    private readonly table: string,
    private readonly bytes: Buffer,
  ) {}

  /** The position of the table's last NUL, -1 when it has none; a string starting after it is unterminated. */
  private lastNul: number | undefined;

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
    this.check(offset, field);
    const end = b.indexOf(0, offset);
    if (end === offset) return '';
    // Symbol names are ASCII; latin1 decodes those several times faster than utf8 and identically.
    const text = b.toString('latin1', offset, end);
    return NON_ASCII.test(text) ? b.toString('utf8', offset, end) : text;
  }

  /** Whether the string at `offset` is `text`, compared byte for byte; raises what get() would raise. */
  equals(offset: number, text: string, field: string): boolean {
    const b = this.bytes;
    if (offset === 0 && b.length === 0) return text === '';
    this.check(offset, field);
    const n = text.length;
    if (offset + n >= b.length || b[offset + n] !== 0) {
      // Not the same length (or not ASCII): decode and compare the slow way.
      return NON_ASCII.test(text) ? this.get(offset, field) === text : false;
    }
    for (let i = 0; i < n; i++)
      if (b[offset + i] !== text.charCodeAt(i)) return NON_ASCII.test(text) && this.get(offset, field) === text;
    return true;
  }

  /** Raises the error get() would raise for `offset`, without decoding the string. */
  check(offset: number, field: string): void {
    const b = this.bytes;
    if (offset === 0 && b.length === 0) return;
    if (offset >= b.length) {
      throw new ElfFormatError(
        this.file,
        field,
        'out-of-range',
        `string offset ${offset} is outside ${this.table} (size ${b.length})`,
      );
    }
    this.lastNul ??= b.lastIndexOf(0);
    if (offset > this.lastNul) {
      throw new ElfFormatError(
        this.file,
        field,
        'malformed',
        `string at ${offset} is not NUL-terminated within ${this.table}`,
      );
    }
  }
}
