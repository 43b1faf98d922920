// A reader for the tar formats GNU tar and busybox write (ustar, GNU long names, pax path records),
// over an archive already decompressed into memory. It only parses; what is allowed is decided by
// the extractor. Any damage (bad header checksum, data past the end) is an error naming the entry.

import { BundleError } from './errors.js';

export type TarEntryType =
  'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device' | 'block-device' | 'fifo' | 'other';

export interface TarEntry {
  readonly name: string;
  readonly type: TarEntryType;
  readonly mode: number;
  readonly linkName: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

export function text(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return Buffer.from(end === -1 ? field : field.subarray(0, end)).toString('utf8');
}

export function octal(block: Uint8Array, offset: number, length: number, archive: string, name: string): number {
  const first = block[offset]!;
  if (first & 0x80) {
    // GNU base-256: big-endian binary in the rest of the field.
    let value = 0;
    for (let i = offset + 1; i < offset + length; i += 1) value = value * 256 + block[i]!;
    return value;
  }
  const digits = text(block, offset, length).trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits))
    throw new BundleError(archive, `corrupt tar header (numeric field ${JSON.stringify(digits)})`, name);
  return parseInt(digits, 8);
}

function typeOf(flag: number): TarEntryType {
  switch (String.fromCharCode(flag)) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'character-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

function checksumMatches(block: Uint8Array, stored: number): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** pax extended header records: "LEN key=value\n". */
export function paxRecords(data: Uint8Array, archive: string): Map<string, string> {
  const records = new Map<string, string>();
  const bytes = Buffer.from(data);
  let offset = 0;
  while (offset < bytes.length) {
    const space = bytes.indexOf(0x20, offset);
    const length = space === -1 ? NaN : Number(bytes.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0 || offset + length > bytes.length)
      throw new BundleError(archive, 'corrupt pax header');
    const record = bytes.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return records;
}

export function* readTar(bytes: Uint8Array, archive: string): Generator<TarEntry> {
  let offset = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax = new Map<string, string>();
  let last = '(start of archive)';
  while (true) {
    if (offset + BLOCK > bytes.length)
      throw new BundleError(archive, `truncated: no end-of-archive marker after ${last}`);
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return; // end of archive (GNU tar writes two zero blocks; one is enough)
    const rawName = text(header, 0, 100);
    const magic = text(header, 257, 6);
    const prefix = magic === 'ustar' && text(header, 263, 2) === '00' ? text(header, 345, 155) : '';
    const headerName = prefix === '' ? rawName : `${prefix}/${rawName}`;
    if (!checksumMatches(header, octal(header, 148, 8, archive, headerName)))
      throw new BundleError(archive, 'corrupt tar header (checksum)', headerName || last);
    const size = octal(header, 124, 12, archive, headerName);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > bytes.length)
      throw new BundleError(
        archive,
        `truncated: ${size} bytes announced, ${bytes.length - dataStart} present`,
        longName ?? headerName,
      );
    const data = bytes.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    const flag = String.fromCharCode(header[156]!);
    if (flag === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    if (flag === 'K') {
      longLink = text(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      pax = paxRecords(data, archive);
      continue;
    }
    if (flag === 'g') continue; // global pax records carry nothing a bundle needs
    const name = pax.get('path') ?? longName ?? headerName;
    const linkName = pax.get('linkpath') ?? longLink ?? text(header, 157, 100);
    longName = null;
    longLink = null;
    pax = new Map();
    last = name;
    yield { name, type: typeOf(header[156]!), mode: octal(header, 100, 8, archive, name), linkName, data };
  }
}
