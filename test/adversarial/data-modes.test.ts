// Issue 13 item 12: a data folder made beforehand kept its mode (0755), and compat.sqlite, -wal and
// -shm were 0644: any local user could read every host's inventory and deployment. A real server
// process started on a pre-made 0755 folder now makes it 0700 and the database files 0600, and the
// real user `nobody` can read none of them.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startFleet, type Fleet } from './fleet.js';

let work: string;
let fleet: Fleet;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-modes-'));
  chmodSync(work, 0o755);
  // Made beforehand, as an operator's `mkdir -p` with umask 022 makes it.
  mkdirSync(join(work, 'server'), { mode: 0o755 });
  chmodSync(join(work, 'server'), 0o755);
  fleet = await startFleet(work);
});

after(async () => {
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the data folder is 0700 and compat.sqlite, -wal and -shm are 0600; nobody reads none of them', async (t) => {
  const dir = join(work, 'server');
  assert.equal((statSync(dir).mode & 0o777).toString(8), '700');
  for (const name of ['compat.sqlite', 'compat.sqlite-wal', 'compat.sqlite-shm']) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    assert.equal((statSync(file).mode & 0o777).toString(8), '600', name);
  }
  if (process.geteuid?.() !== 0) return t.skip('reading as nobody needs root (runuser)');
  const read = await execa('runuser', ['-u', 'nobody', '--', 'cat', join(dir, 'compat.sqlite')], {
    reject: false,
    encoding: 'buffer',
  });
  assert.notEqual(read.exitCode, 0, 'nobody cannot read the database');
});
