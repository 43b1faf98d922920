// Packing and extraction: two packs of the same folder give the same bytes in every format; a pack
// extracts back to the same files; hostile or damaged archives are refused naming the archive and
// the entry, with nothing written outside a temporary folder and no destination left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BundleError } from '../../src/bundle/errors.js';
import { extractArchive } from '../../src/bundle/extract.js';
import { listBundleFiles } from '../../src/bundle/file-list.js';
import { writeManifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { handTar } from './tar-builder.js';
import { sampleManifest } from './sample-manifest.js';

function makeBundle(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'lib', 'deep', 'er'), { recursive: true });
  writeFileSync(join(dir, 'bin', 'python3.11'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'bin', 'python3.11'), 0o755);
  symlinkSync('python3.11', join(dir, 'bin', 'python3'));
  writeFileSync(join(dir, 'lib', 'deep', 'er', 'data.bin'), Buffer.alloc(70_000, 7));
  writeFileSync(join(dir, 'lib', 'B'), 'upper case sorts first');
  writeManifest(dir, { ...sampleManifest(), grafted: [], elf: [], files: listBundleFiles(dir) });
}

for (const suffix of ['.tar.gz', '.tar.xz', '.tar.zst']) {
  test(`pack ${suffix}: reproducible bytes, and extracts back to the same files`, async () => {
    const dir = await makeTempDir();
    try {
      const src = join(dir, 'src');
      makeBundle(src);
      await packBundle(src, join(dir, `one${suffix}`));
      // Different times and a different umask-free mode history must not matter.
      utimesSync(join(src, 'lib', 'B'), 12345, 67890);
      await packBundle(src, join(dir, `two${suffix}`));
      assert.ok(
        readFileSync(join(dir, `one${suffix}`)).equals(readFileSync(join(dir, `two${suffix}`))),
        'byte-identical archives',
      );
      const manifest = await extractArchive(join(dir, `one${suffix}`), join(dir, 'out'));
      assert.ok(manifest !== null);
      assert.deepEqual(listBundleFiles(join(dir, 'out')), listBundleFiles(src));
      await assert.rejects(extractArchive(join(dir, `one${suffix}`), join(dir, 'out')), /already exists \(use --force/);
      await extractArchive(join(dir, `one${suffix}`), join(dir, 'out'), { force: true });
      assert.deepEqual(readdirSync(dir).sort(), [`one${suffix}`, 'out', 'src', `two${suffix}`]);
    } finally {
      await removeDir(dir);
    }
  });
}

const HOSTILE: Array<[string, () => Buffer, RegExp]> = [
  [
    'path traversal',
    () =>
      handTar([
        { name: 'ok.txt', data: 'x' },
        { name: '../escaped.txt', data: 'pwned' },
      ]),
    /: \.\.\/escaped\.txt: path leaves the destination/,
  ],
  [
    'nested traversal',
    () => handTar([{ name: 'a/b/../../../escaped.txt', data: 'pwned' }]),
    /a\/b\/\.\.\/\.\.\/\.\.\/escaped\.txt: path leaves/,
  ],
  [
    'absolute path',
    () => handTar([{ name: '/tmp/escaped.txt', data: 'pwned' }]),
    /: \/tmp\/escaped\.txt: absolute path refused/,
  ],
  [
    'symlink escape',
    () => handTar([{ name: 'link', type: 'symlink', linkName: '../..' }]),
    /: link: symlink pointing out of the destination refused/,
  ],
  [
    'symlink then write through it',
    () =>
      handTar([
        { name: 'sub', type: 'symlink', linkName: '.' },
        { name: 'sub/x', data: 'y' },
      ]),
    /sub\/x: entry would be written through a symlink/,
  ],
  [
    'dotted symlink trick',
    () =>
      handTar([
        { name: 'here', type: 'symlink', linkName: '.' },
        { name: 'out', type: 'symlink', linkName: 'here/../escaped.txt' },
      ]),
    /: out: symlink pointing out/,
  ],
  [
    'device file',
    () => handTar([{ name: 'null', type: 'character-device' }]),
    /: null: character-device entries are not allowed/,
  ],
  ['fifo', () => handTar([{ name: 'pipe', type: 'fifo' }]), /: pipe: fifo entries are not allowed/],
  [
    'hard link',
    () =>
      handTar([
        { name: 'a', data: 'x' },
        { name: 'b', type: 'hardlink', linkName: '/etc/passwd' },
      ]),
    /: b: hardlink entries are not allowed/,
  ],
  [
    'duplicate entry',
    () =>
      handTar([
        { name: 'a', type: 'symlink', linkName: 'b' },
        { name: 'a', data: 'x' },
      ]),
    /: a: entry appears twice/,
  ],
  [
    'truncated data',
    () => handTar([{ name: 'big', data: 'z'.repeat(5000) }]).subarray(0, 2048),
    /truncated: 5000 bytes announced/,
  ],
  [
    'truncated end',
    () => handTar([{ name: 'a', data: 'x' }]).subarray(0, 1024),
    /truncated: no end-of-archive marker after a/,
  ],
  [
    'corrupt header',
    () => {
      const t = handTar([{ name: 'a', data: 'x' }]);
      t[0] = 0x41;
      return t;
    },
    /corrupt tar header \(checksum\)/,
  ],
];

for (const [what, make, expected] of HOSTILE) {
  test(`extraction refuses a hostile archive: ${what}`, async () => {
    const parent = await makeTempDir();
    try {
      const area = join(parent, 'area');
      mkdirSync(area);
      const archive = join(area, 'evil.tar.gz');
      writeFileSync(archive, gzipSync(make()));
      await assert.rejects(extractArchive(archive, join(area, 'dest')), (e: unknown) => {
        assert.ok(e instanceof BundleError, String(e));
        assert.match(e.message, new RegExp(`^${archive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
        assert.match(e.message, expected);
        return true;
      });
      assert.deepEqual(readdirSync(area), ['evil.tar.gz'], 'no destination, no temporary folder left');
      assert.deepEqual(readdirSync(parent), ['area'], 'nothing written next to the area');
      assert.equal(existsSync('/tmp/escaped.txt'), false);
    } finally {
      await removeDir(parent);
    }
  });
}

test('extraction refuses truncated compressed data and a checksum mismatch', async () => {
  const dir = await makeTempDir();
  try {
    const src = join(dir, 'src');
    makeBundle(src);
    await packBundle(src, join(dir, 'good.tar.xz'));
    const good = readFileSync(join(dir, 'good.tar.xz'));
    writeFileSync(join(dir, 'cut.tar.xz'), good.subarray(0, good.length - 40));
    await assert.rejects(
      extractArchive(join(dir, 'cut.tar.xz'), join(dir, 'out')),
      /cut\.tar\.xz: corrupt or truncated xz data/,
    );
    // Change one file after the manifest was written: the archive is well-formed but lies.
    writeFileSync(join(src, 'lib', 'B'), 'tampered!!!!!!!!!!!!!!');
    await packBundle(src, join(dir, 'lying.tar.gz'));
    await assert.rejects(
      extractArchive(join(dir, 'lying.tar.gz'), join(dir, 'out')),
      /lying\.tar\.gz: does not match its manifest \(1 problem\(s\)\): lib\/B: checksum mismatch/,
    );
    assert.deepEqual(readdirSync(dir).sort(), ['cut.tar.xz', 'good.tar.xz', 'lying.tar.gz', 'src']);
  } finally {
    await removeDir(dir);
  }
});
