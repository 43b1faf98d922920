// The server's WAL checkpoints run in a thread of their own (src/server/wal-checkpointer.ts), not on
// the connection whose commit happens to pass 1,000 pages of log (the event loop's). A connection
// that does not checkpoint writes an inventory-sized log on a real database file; the database
// file takes those pages while that connection only waits, so another thread copied them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CompatDatabase } from '../../src/server/db/database.js';
import { WalCheckpointer } from '../../src/server/wal-checkpointer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test(
  'the checkpointer thread copies the log into the database; the writing connection never does',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyrelo-wal-checkpointer-'));
    const file = join(dir, 'compat.sqlite');
    const db = new CompatDatabase(file);
    db.db.pragma('wal_autocheckpoint = 0'); // as the server's connection
    const checkpointer = new WalCheckpointer(file, (why) => assert.fail(`the thread was lost: ${why}`), 50);
    try {
      const emptySize = statSync(file).size;
      // 8 MB of objects (2,000 pages of log), as the intake writes them.
      const add = db.db.prepare('INSERT INTO inventory_objects (sha256, body) VALUES (?, ?)');
      db.db.transaction(() => {
        for (let i = 0; i < 32; i++) add.run(randomBytes(32).toString('hex'), randomBytes(256 * 1024));
      })();
      assert.ok(statSync(`${file}-wal`).size > 8_000_000, 'the commit is in the log');
      // Waits on a condition only: the test's timeout bounds it.
      while (statSync(file).size < emptySize + 8_000_000) await sleep(50);
    } finally {
      await checkpointer.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('a checkpoint thread that fails is reported once, and does not bring the process down', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-wal-checkpointer-'));
  // The thread is unref'd (it must not keep a server alive): this test's own handle waits for it.
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    // No database there: the thread's open fails (fileMustExist), as it would on a damaged file.
    const reasons: string[] = [];
    const lost = new Promise<void>((resolve) => {
      const checkpointer = new WalCheckpointer(join(dir, 'missing.sqlite'), (why) => {
        reasons.push(why);
        resolve();
      });
      void checkpointer;
    });
    await lost;
    await sleep(200); // the exit that follows the error is not reported a second time
    assert.equal(reasons.length, 1, reasons.join('; '));
    assert.match(reasons[0]!, /missing\.sqlite|unable to open|directory does not exist/i);
  } finally {
    clearInterval(keepAlive);
    rmSync(dir, { recursive: true, force: true });
  }
});
