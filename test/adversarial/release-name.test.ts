// Issue 13 item 9: release names had no length limit. A bundle named with 5,000 characters crashed
// the installer (the host agent's, and `pyrelo agent release install`'s) with an uncaught
// ENAMETOOLONG. Now such an archive, sent to the real install command, is refused with exit 2 and
// one line that shows the name shortened, before anything is written under the prefix.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { manifestText } from '../../src/bundle/manifest.js';
import { handTar } from '../bundle/tar-builder.js';
import { sampleManifest } from '../bundle/sample-manifest.js';
import { release, sha256 } from '../release/fixtures.js';

let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-name-'));
});

after(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

for (const length of [129, 5000]) {
  test(`a bundle named with ${length} characters is refused with exit 2 and one short line`, async () => {
    const prefix = join(work, `prefix-${length}`);
    const text = manifestText({ ...sampleManifest(), name: 'a'.repeat(length), grafted: [], elf: [], files: [] });
    const bytes = gzipSync(handTar([{ name: 'pyrelo.json', data: text }]));
    const digest = sha256(bytes);
    mkdirSync(join(prefix, '.pyrelo', 'incoming'), { recursive: true });
    const archive = join(prefix, '.pyrelo', 'incoming', `${digest}.tar.gz`);
    writeFileSync(archive, bytes);
    const result = await release([
      'install',
      '--prefix',
      prefix,
      '--bundle-digest',
      digest,
      '--manifest-sha256',
      sha256(Buffer.from(text)),
      '--archive',
      archive,
      '--sha256',
      digest,
      '--json',
    ]);
    assert.equal(result.exitCode, 2, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${result.stderr.slice(0, 500)}`);
    assert.ok(lines[0]!.length < 400, `a short line (${lines[0]!.length} characters)`);
    // Up to 255 characters a manifest is readable and the release folder's rule refuses the name;
    // beyond, the manifest's own validation does, before any rule of the installer.
    assert.match(
      lines[0]!,
      length <= 255
        ? new RegExp(
            `pyrelo\\.json: bundle name "a{60}"… \\(${length} characters\\) cannot name a release folder ` +
              '\\(longer than 128 characters\\)',
          )
        : new RegExp(
            `pyrelo\\.json: invalid manifest: name: "a{60}…" \\(${length} characters\\): longer than 255 characters`,
          ),
    );
    assert.deepEqual(readdirSync(join(prefix, 'releases')), [], 'nothing written under releases/');
    assert.equal(readdirSync(prefix).includes('current'), false);
  });
}
