// The smoke command an agent runs: the manifest's `smoke` (from `pyrelo build --smoke`), else the
// interpreter importing its standard library; and how --smoke "CMD ARGS…" is split into words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { smokeCommand } from '../../src/compat/smoke.js';
import { writeManifest } from '../../src/bundle/manifest.js';
import { splitCommand } from '../../src/builder/split-command.js';
import { sampleManifest } from '../bundle/sample-manifest.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

test('smoke command: the manifest field, relative to the bundle; else the stdlib import', async () => {
  const dir = await makeTempDir();
  try {
    writeManifest(dir, { ...sampleManifest(), smoke: ['bin/python3.11', '-c', 'import ssl'] });
    assert.deepEqual(smokeCommand(dir), [join(dir, 'bin/python3.11'), '-c', 'import ssl']);
    writeManifest(dir, sampleManifest());
    const fallback = smokeCommand(dir);
    assert.equal(fallback[0], join(dir, sampleManifest().python.executable));
    assert.match(fallback.join(' '), /-c import sys, encodings, json, ssl/);
  } finally {
    await removeDir(dir);
  }
});

test('--smoke is split into words as sh quotes them, with no expansion', () => {
  assert.deepEqual(splitCommand('bin/smoke'), ['bin/smoke']);
  assert.deepEqual(splitCommand('  bin/python3 -c "import ssl; print(1)" '), [
    'bin/python3',
    '-c',
    'import ssl; print(1)',
  ]);
  assert.deepEqual(splitCommand(`bin/x 'a "b"' "c \\"d\\" $HOME" e\\ f ''`), [
    'bin/x',
    'a "b"',
    'c "d" $HOME',
    'e f',
    '',
  ]);
  assert.throws(() => splitCommand('bin/x "open'), /unterminated double quote/);
  assert.throws(() => splitCommand("bin/x 'open"), /unterminated single quote/);
});
