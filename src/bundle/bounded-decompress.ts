// Decompression of an archive that can never take more memory or disk than its manifest declares
// (README "Unpacking is bounded"). Archives are byte-sorted, so pyrelo.json comes after most of
// the bundle: a first pass streams the decompressed bytes through a tar header scanner, keeping
// nothing but pyrelo.json, and stops as soon as the bytes seen pass what the manifest declares
// (plus tar's own overhead and a margin) or, before the manifest is seen, the ceiling for archives
// without one. Only then is the archive decompressed into memory, stopped at that same bound.

import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { decompressCommand, type Compression } from './compression.js';
import { BundleError } from './errors.js';
import { MANIFEST_NAME, parseManifest } from './manifest.js';
import { octal, paxRecords, text } from './tar-reader.js';

const BLOCK = 512;
/** Expanded bytes allowed for an archive without pyrelo.json (and before it is seen): 4 GiB. */
export const MAX_UNDECLARED_EXPANSION = 4 * 1024 ** 3;
/** Never more than this is kept of a pyrelo.json, a GNU long name or a pax header. */
const MAX_KEPT_ENTRY = 64 * 1024 * 1024;

class TooLarge extends Error {}

/** The decompressed bytes in chunks; leaving the loop early stops the decompressor. */
async function* decompressedChunks(
  archive: string,
  bytes: Uint8Array,
  compression: Compression,
): AsyncGenerator<Buffer> {
  if (compression === 'gzip') {
    const gunzip = Readable.from([bytes], { objectMode: false }).pipe(createGunzip());
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      if (error instanceof TooLarge) throw error;
      throw new BundleError(archive, `corrupt or truncated gzip data (${(error as Error).message})`);
    } finally {
      gunzip.destroy();
    }
    return;
  }
  const [command, args] = decompressCommand(compression);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  child.stdin.on('error', () => {}); // EPIPE when we stop reading early: the child is killed anyway
  child.stdin.end(bytes);
  let complete = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    complete = true;
  } finally {
    if (!complete) child.kill('SIGKILL');
  }
  const code = await exited;
  if (code !== 0) throw new BundleError(archive, `corrupt or truncated ${compression} data (${stderr.trim()})`);
}

/** What the manifest allows the tar stream to hold: its files, a tar header or three per path and folder, a margin. */
function declaredTarBytes(manifestText: string, archive: string): number {
  const manifest = parseManifest(manifestText, `${archive}: ${MANIFEST_NAME}`);
  const folders = new Set<string>();
  let total = 1024 * 1024 + BLOCK * Math.ceil(manifestText.length / BLOCK);
  for (const file of manifest.files) {
    total += 3 * BLOCK + BLOCK * Math.ceil((file.size ?? 0) / BLOCK);
    for (let i = file.path.indexOf('/'); i !== -1; i = file.path.indexOf('/', i + 1))
      folders.add(file.path.slice(0, i));
  }
  return total + 3 * BLOCK * folders.size;
}

/**
 * Streams the archive once without keeping it and returns the bound its expansion must stay
 * within: what its pyrelo.json declares, or MAX_UNDECLARED_EXPANSION without one.
 */
async function expansionBound(archive: string, bytes: Uint8Array, compression: Compression): Promise<number> {
  let bound = MAX_UNDECLARED_EXPANSION;
  let seen = 0;
  // The scanner: `pending` holds the part of a header block or kept entry not complete yet.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let want = BLOCK; // bytes wanted next: a header, or the data of an entry being kept
  let skip = 0; // data bytes of an entry not kept, still to pass
  let keeping: 'manifest' | 'longname' | 'pax' | null = null;
  let keptSize = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  let ended = false;
  const onBlock = (block: Buffer): void => {
    if (keeping !== null) {
      const data = block.subarray(0, keptSize);
      if (keeping === 'manifest') bound = Math.max(0, declaredTarBytes(data.toString('utf8'), archive));
      else if (keeping === 'longname') longName = text(data, 0, data.length);
      else paxPath = paxRecords(data, archive).get('path') ?? null;
      keeping = null;
      want = BLOCK;
      return;
    }
    if (block.every((b) => b === 0)) {
      ended = true;
      return;
    }
    const flag = String.fromCharCode(block[156]!);
    // As tar-reader.ts reads names: the ustar prefix only in POSIX ustar headers (GNU's hold times there).
    const prefix = text(block, 257, 6) === 'ustar' && text(block, 263, 2) === '00' ? text(block, 345, 155) : '';
    const headerName = prefix === '' ? text(block, 0, 100) : `${prefix}/${text(block, 0, 100)}`;
    const name = (paxPath ?? longName ?? headerName).replace(/^(\.\/)+/, '');
    const size = octal(block, 124, 12, archive, name);
    const padded = BLOCK * Math.ceil(size / BLOCK);
    if (flag === 'L' || flag === 'x' || ((flag === '0' || flag === '\0') && name === MANIFEST_NAME)) {
      if (size > MAX_KEPT_ENTRY)
        throw new BundleError(archive, `${size} bytes in one header or manifest entry, refused`, name);
      keeping = flag === 'L' ? 'longname' : flag === 'x' ? 'pax' : 'manifest';
      keptSize = size;
      want = padded;
      if (padded === 0) onBlock(Buffer.alloc(0));
      return;
    }
    if (flag !== 'K' && flag !== 'g') {
      longName = null;
      paxPath = null;
    }
    skip = padded;
  };
  try {
    for await (const chunk of decompressedChunks(archive, bytes, compression)) {
      seen += chunk.length;
      if (seen > bound) throw new TooLarge();
      let offset = 0;
      while (offset < chunk.length && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - offset);
          skip -= n;
          offset += n;
          continue;
        }
        const n = Math.min(want - pendingBytes, chunk.length - offset);
        pending.push(chunk.subarray(offset, offset + n));
        pendingBytes += n;
        offset += n;
        if (pendingBytes === want) {
          const block = Buffer.concat(pending);
          pending = [];
          pendingBytes = 0;
          onBlock(block);
          if (seen > bound) throw new TooLarge();
        }
      }
    }
  } catch (error) {
    if (error instanceof TooLarge) throw tooLarge(archive, bound);
    throw error;
  }
  return bound;
}

function tooLarge(archive: string, bound: number): BundleError {
  return new BundleError(
    archive,
    bound === MAX_UNDECLARED_EXPANSION
      ? `expands to more than ${bound} bytes (the limit for an archive without ${MANIFEST_NAME}), refused`
      : `expands to more than its ${MANIFEST_NAME} declares (${bound} bytes with tar headers and margin), refused`,
  );
}

/** The archive's tar bytes, never more than its manifest declares (see the top of this file). */
export async function boundedDecompress(archive: string, bytes: Uint8Array, compression: Compression): Promise<Buffer> {
  const bound = await expansionBound(archive, bytes, compression);
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of decompressedChunks(archive, bytes, compression)) {
      total += chunk.length;
      if (total > bound) throw new TooLarge();
      parts.push(chunk);
    }
  } catch (error) {
    if (error instanceof TooLarge) throw tooLarge(archive, bound);
    throw error;
  }
  return Buffer.concat(parts, total);
}
