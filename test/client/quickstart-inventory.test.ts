// The quick start printed this host's inventory summary twice (`pyrelo inventory`, then
// `pyrelo inventory -o FILE`). `-o` prints the same summary a bare `pyrelo inventory` does, so the
// script asks once; this holds both halves: the script's one call, and what that call prints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'client', 'main.js');

test('the quick start takes the inventory once, and -o prints the summary a bare inventory prints', async () => {
  const script = readFileSync(join(ROOT, 'scripts', 'quickstart.sh'), 'utf8');
  const calls = script.split('\n').filter((l) => /^\s*pyrelo inventory\b/.test(l));
  assert.equal(calls.length, 1, `pyrelo inventory runs once in scripts/quickstart.sh:\n${calls.join('\n')}`);
  assert.match(calls[0]!, / -o /);

  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-qs-inventory-'));
  try {
    const file = join(dir, 'this-host.json.gz');
    const [bare, written] = await Promise.all([
      execa(process.execPath, [CLI, 'inventory']),
      execa(process.execPath, [CLI, 'inventory', '-o', file]),
    ]);
    assert.ok(statSync(file).size > 0);
    // The summary's lines (the file's path aside) are the same.
    const summary = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '' && !l.includes(file));
    assert.ok(summary(bare.stdout).length > 2, bare.stdout);
    assert.deepEqual(summary(written.stdout), summary(bare.stdout));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
