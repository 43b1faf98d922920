// Issue 13 items 13 and 11: a refused enrollment exited 1 with a gRPC stack trace, a server started
// on a read-only data folder printed one, a read-only compat.sqlite started and then failed every
// write, and a damaged inventories page let the server run while an agent looped between connecting
// and "database disk image is malformed". Each now exits 2 with one line naming the input.
// Real processes throughout: `pyrelo agent enroll` against a real server, and `pyrelo server` on a
// folder or a file bind-mounted read-only in a mount namespace of its own (unshare -m: nothing is
// mounted on this machine), and on a database whose inventories page was overwritten.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { CompatDatabase } from '../../src/server/db/database.js';
import { initPki } from '../../src/server/pki.js';
import { freePort, startServerProcess } from '../server/fixtures.js';
import { startFleet, type Fleet } from './fleet.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');

let work: string;
let fleet: Fleet;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-start-'));
  fleet = await startFleet(join(work, 'fleet'));
});

after(async () => {
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** One line on stderr, no stack trace (no "    at " frame, no "node:internal"). */
function assertOneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr.slice(0, 2000)}`);
  assert.doesNotMatch(stderr, /^\s+at |node:internal|Error:/m);
  return lines[0]!;
}

/** `pyrelo server` on `data`, with `mounts` bind-mounted read-only in a mount namespace of its own. */
function serverWith(data: string, mounts: readonly string[] = []): SpawnSyncReturns<string> {
  const args = [
    MAIN,
    'server',
    '--data',
    data,
    '--listen',
    '127.0.0.1:0',
    '--enroll-listen',
    '127.0.0.1:0',
    '--log-level',
    'warn',
  ];
  const script = [
    ...mounts.map((_, i) => `mount --bind -o ro "$${i + 1}" "$${i + 1}"`),
    `exec "${process.execPath}" ${args.map((a) => `'${a}'`).join(' ')}`,
  ].join(' && ');
  return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...mounts], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const canMount = (): boolean => process.geteuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;

test('a refused enrollment exits 2 with one line that says why', () => {
  const run = spawnSync(
    process.execPath,
    [
      MAIN,
      'agent',
      'enroll',
      '--server',
      fleet.enrollAddress,
      '--token',
      'not-a-token',
      '--ca',
      join(fleet.dir, 'server', 'pki', 'ca.crt'),
      '--dir',
      join(work, 'agent-refused'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 2, run.stderr);
  assert.match(
    assertOneLine(run.stderr),
    new RegExp(
      `^pyrelo: enrollment at ${fleet.enrollAddress} refused: enrollment token unknown, already used or expired$`,
    ),
  );
});

test('a server started on a read-only data folder exits 2 with one line naming it', async (t) => {
  if (!canMount()) return t.skip('a read-only bind mount needs root and unshare -m');
  const data = join(work, 'ro-folder');
  await initPki(data);
  const run = serverWith(data, [data]);
  assert.equal(run.status, 2, `${run.stdout}${run.stderr}`);
  assert.match(
    assertOneLine(run.stderr),
    new RegExp(`^pyrelo: data folder ${data}: cannot be written \\(EROFS: read-only file system\\)$`),
  );
});

test('a server started on a read-only compat.sqlite exits 2 with one line naming it', async (t) => {
  if (!canMount()) return t.skip('a read-only bind mount needs root and unshare -m');
  const data = join(work, 'ro-database');
  await initPki(data);
  new CompatDatabase(join(data, 'compat.sqlite')).close(); // made 0600 by the server's own rules
  spawnSync('chmod', ['600', join(data, 'compat.sqlite')]);
  const run = serverWith(data, [join(data, 'compat.sqlite')]);
  assert.equal(run.status, 2, `${run.stdout}${run.stderr}`);
  assert.match(
    assertOneLine(run.stderr),
    new RegExp(
      `^pyrelo: database ${join(data, 'compat.sqlite')}: cannot be written \\(attempt to write a readonly database\\)$`,
    ),
  );
});

test('a server started on a database with a damaged inventories page exits 2 with one line naming it', async () => {
  const data = join(work, 'damaged');
  await initPki(data);
  const file = join(data, 'compat.sqlite');
  const db = new CompatDatabase(file);
  for (let i = 0; i < 3; i++) db.storeInventory(`${i}`.padStart(64, '0'), gzipSync(randomBytes(20_000)), 20_000);
  const pageSize = db.db.pragma('page_size', { simple: true }) as number;
  const root = (
    db.db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'inventories'").get() as { rootpage: number }
  ).rootpage;
  db.close(); // checkpoints the WAL into the file
  cpSync(file, `${file}.good`);
  // The table's first page, overwritten as a bad disk or a stray write would.
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (root - 1) * pageSize);
  closeSync(fd);

  const run = serverWith(data);
  assert.equal(run.status, 2, `${run.stdout}${run.stderr}`);
  assert.match(
    assertOneLine(run.stderr),
    // SQLite either lists the damage (quick_check's rows) or stops at the first bad page it reads.
    new RegExp(
      `^pyrelo: database ${file}: is damaged \\((quick_check: .+|database disk image is malformed)\\); ` +
        'restore it from a backup$',
    ),
  );
  // The same folder with the undamaged copy starts (the refusal is the damage, not the folder).
  cpSync(`${file}.good`, file);
  const server = await startServerProcess(data, await freePort(), await freePort()); // resolves once it listens
  server.kill('SIGKILL');
  await new Promise((resolve) => server.once('exit', resolve));
});
