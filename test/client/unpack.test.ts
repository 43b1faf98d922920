// `pyrelo unpack` as a user runs it: a real bundle into a new folder with every sha256 checked; a
// hostile archive and an existing folder exit 2 naming the input, and leave nothing behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { makeBundle } from '../server/fixtures.js';
import { handTar } from '../bundle/tar-builder.js';

const cli = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const pyrelo = (...args: string[]) => execa('node', [cli, ...args], { reject: false });

test('unpack: a bundle into a new folder, checked; an existing folder needs --force', async () => {
  const dir = await makeTempDir('pyrelo-unpack-');
  try {
    const archive = await makeBundle(dir, 'unpackme', 'static');
    const target = join(dir, 'out');
    const r = await pyrelo('unpack', archive, target, '--json');
    assert.equal(r.exitCode, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { bundle: string; files: number };
    assert.equal(summary.bundle, 'unpackme');
    assert.equal(summary.files, 1);
    assert.equal((await execa(join(target, 'bin', 'python3'))).stdout, '3.11.9');

    const again = await pyrelo('unpack', archive, target);
    assert.equal(again.exitCode, 2);
    assert.match(again.stderr, /out: already exists \(use --force to replace it\)/);
    assert.equal((await pyrelo('unpack', archive, target, '--force')).exitCode, 0);
  } finally {
    await removeDir(dir);
  }
});

test('unpack: a hostile archive exits 2 naming the archive and the entry; nothing is written', async () => {
  const dir = await makeTempDir('pyrelo-unpack-');
  try {
    const area = join(dir, 'area');
    mkdirSync(area);
    const archive = join(area, 'evil.tar.gz');
    writeFileSync(
      archive,
      gzipSync(
        handTar([
          { name: 'ok', data: 'x' },
          { name: '../escaped.txt', data: 'gotcha' },
        ]),
      ),
    );
    const r = await pyrelo('unpack', archive, join(area, 'dest'));
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^pyrelo: .*evil\.tar\.gz: .*\.\.\/escaped\.txt/m);
    assert.deepEqual(readdirSync(area), ['evil.tar.gz']);
    assert.equal(existsSync(join(dir, 'escaped.txt')), false);
  } finally {
    await removeDir(dir);
  }
});
