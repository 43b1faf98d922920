// Where the bytes come from: an open file descriptor read with positional reads, or a buffer in
// memory (tests, fuzzing). A shared library can be hundreds of megabytes and the reader needs a
// few kilobytes of it, so nothing reads a whole file: each table is fetched with one positional
// read, after its extent has been checked against the file size (so a corrupt size can never
// make us allocate more than the file holds).

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ElfFormatError } from './errors.js';

export interface ByteSource {
  /** The path, or the name given to fromBuffer; used in error messages. */
  readonly name: string;
  readonly size: number;
  /**
   * Exactly `length` bytes at `offset`. Raises ElfFormatError('out-of-range', field) when the
   * range is not inside the file, before allocating anything.
   */
  read(offset: number, length: number, field: string): Buffer;
  close(): void;
}

/** The check every read goes through; exported for the callers that clamp a range themselves. */
export function checkRange(
  source: { name: string; size: number },
  offset: number,
  length: number,
  field: string,
): void {
  if (!(offset >= 0 && length >= 0 && offset <= source.size && length <= source.size - offset)) {
    throw new ElfFormatError(
      source.name,
      field,
      'out-of-range',
      `bytes ${offset}..${offset + length} are outside the file (size ${source.size})`,
    );
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;
  private readonly bytes: Buffer;

  constructor(
    readonly name: string,
    bytes: Uint8Array,
  ) {
    // A view, not a copy: fromBuffer on a fuzz mutant must stay cheap.
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.byteLength;
  }

  read(offset: number, length: number, field: string): Buffer {
    checkRange(this, offset, length, field);
    return this.bytes.subarray(offset, offset + length);
  }

  close(): void {
    // Nothing to release.
  }
}

/**
 * How much of the start of a file one read fetches. A library's loader-relevant tables (hash
 * tables, .dynsym, .dynstr, versions, relocations) sit in its first segment, so in most files
 * every read the loader makes but the dynamic section's lands in this window: one system call
 * instead of fifteen (docs/loader.md's reads are positional, so the window changes no result).
 */
const HEAD_WINDOW = 32 * 1024;

export class FdSource implements ByteSource {
  private fd: number | null;
  /** The first min(size, HEAD_WINDOW) bytes, read on first use. */
  private head: Buffer | null = null;

  private constructor(
    readonly name: string,
    fd: number,
    readonly size: number,
  ) {
    this.fd = fd;
  }

  /** Opens `path` read-only. Filesystem errors (ENOENT, EACCES, EISDIR...) propagate unchanged. */
  static open(path: string): FdSource {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      // A directory opens fine on Linux and only fails at read(); fail here the way read() would,
      // keeping the errno a caller may test for.
      if (st.isDirectory()) {
        const err = new Error(`EISDIR: illegal operation on a directory, read '${path}'`) as NodeJS.ErrnoException;
        err.code = 'EISDIR';
        err.errno = -21;
        err.syscall = 'read';
        err.path = path;
        throw err;
      }
      return new FdSource(path, fd, st.size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  read(offset: number, length: number, field: string): Buffer {
    checkRange(this, offset, length, field);
    if (this.fd === null) throw new Error(`${this.name}: read after close()`);
    if (offset + length <= HEAD_WINDOW) {
      this.head ??= this.readFd(0, Math.min(this.size, HEAD_WINDOW), field);
      if (offset + length <= this.head.length) return this.head.subarray(offset, offset + length);
    }
    return this.readFd(offset, length, field);
  }

  private readFd(offset: number, length: number, field: string): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    // readSync can return short counts (signals, pipes); loop until the range is filled.
    while (done < length) {
      const n = readSync(this.fd!, buf, done, length - done, offset + done);
      if (n === 0) {
        // The file shrank under us since fstat.
        throw new ElfFormatError(
          this.name,
          field,
          'too-short',
          `file ended at ${offset + done} while reading ${length} bytes at ${offset}`,
        );
      }
      done += n;
    }
    return buf;
  }

  close(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }
}

/**
 * Reads a region whose length is not known in advance (version chains, GNU hash chains) in
 * chunks, keeping the last chunk: a chain of small records costs one read, not one per field.
 * Reads never go past `end` (the end of the segment the region lives in).
 */
export class ChunkReader {
  private chunk: Buffer = Buffer.alloc(0);
  private chunkStart = 0;
  private readonly end: number;

  constructor(
    private readonly source: ByteSource,
    end: number,
    private readonly chunkSize = 4096,
  ) {
    // A segment may claim more bytes than the file has; the file's end is the real bound.
    this.end = Math.min(end, source.size);
  }

  /**
   * Ensures [offset, offset+length) is available and returns the buffer together with the index
   * of `offset` in it.
   */
  at(offset: number, length: number, field: string): { buf: Buffer; pos: number } {
    if (offset >= this.chunkStart && offset + length <= this.chunkStart + this.chunk.length) {
      return { buf: this.chunk, pos: offset - this.chunkStart };
    }
    if (!(offset >= 0 && offset + length <= this.end)) {
      throw new ElfFormatError(
        this.source.name,
        field,
        'out-of-range',
        `bytes ${offset}..${offset + length} are outside their segment (ends at ${this.end})`,
      );
    }
    const want = Math.min(Math.max(length, this.chunkSize), this.end - offset);
    this.chunk = this.source.read(offset, want, field);
    this.chunkStart = offset;
    return { buf: this.chunk, pos: 0 };
  }
}
