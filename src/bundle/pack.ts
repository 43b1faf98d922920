// Reproducible archives of a bundle folder: GNU tar over an explicit, byte-sorted entry list, with
// every time set to 0, owner and group 0, GNU format (no pax headers, so no atime/ctime records),
// piped into a compressor that writes no name or time. Written under a temporary name and renamed.

import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { temporarySibling } from './atomic-write.js';
import { compressCommand, requireCompression } from './compression.js';
import { compareBytes, walkBundle } from './file-list.js';

export const TAR_FLAGS = [
  '--format=gnu',
  '--mtime=@0',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--no-recursion',
  '--hard-dereference',
];

/** The entry list: every folder and every file, sorted so that a folder precedes its contents. */
export function archiveEntries(root: string): string[] {
  const { files, dirs } = walkBundle(root);
  return [...dirs, ...files].sort(compareBytes);
}

/** Packs the contents of `root` (entries relative to it, no leading `./`) into `output`. */
export async function packBundle(root: string, output: string): Promise<void> {
  const [compressor, compressorArgs] = compressCommand(requireCompression(output));
  const entries = archiveEntries(root);
  const temporary = temporarySibling(output);
  try {
    const tar = execa('tar', [...TAR_FLAGS, '-C', root, '--null', '-T', '-', '-cf', '-'], {
      input: Buffer.from(entries.map((e) => `${e}\0`).join('')),
      stdout: 'pipe',
      buffer: { stdout: false },
      env: { LC_ALL: 'C' },
    });
    const compress = execa(compressor, compressorArgs, { stdin: 'pipe', stdout: 'pipe', buffer: { stdout: false } });
    tar.stdout.pipe(compress.stdin);
    const file = createWriteStream(temporary, { mode: 0o644 });
    compress.stdout.pipe(file);
    const written = new Promise<void>((resolve, reject) => {
      file.on('finish', resolve);
      file.on('error', reject);
    });
    await Promise.all([tar, compress, written]);
    renameSync(temporary, output);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
