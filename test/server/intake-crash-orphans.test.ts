// A real server process killed with kill -9 while its intake worker stores an inventory, between
// the short transactions (src/server/db/inventory-store.ts): the inventory's new objects and its
// body parts are committed, the last transaction (the one that names them) never is. Restarted,
// the server reclaims those orphans, and removes nothing an inventory, host or check names.
//
// The moment is reached without timing: a trigger the test adds to the live database makes the
// worker's last transaction spin inside its first INSERT (a cross join of a few thousand rows, the
// only way SQLite has to stay in a statement), so the worker stays between "every part committed"
// and "named", which the test sees from its own connection, and kill -9 lands there. The server's
// code has no hook for it. The trigger is dropped before the restart.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { ControlClient } from '../../src/client/control-client.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { inventoryContentSha256 } from '../../src/inventory/content-hash.js';
import type { Inventory } from '../../src/inventory/format.js';
import { initPki } from '../../src/server/pki.js';
import { BODY_PART_BYTES, readInventoryBody } from '../../src/server/db/inventory-store.js';
import { CompatDatabase } from '../../src/server/db/database.js';
import { takeInventory } from '../../src/server/inventory-worker.js';
import { DEFAULT_INVENTORY_LIMITS } from '../../src/server/settings.js';
import { freePort, startServerProcess } from './fixtures.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

const work = mkdtempSync(join(tmpdir(), 'pyrelo-intake-crash-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Objects no inventory uses, and body parts of no stored inventory. */
function orphans(db: SqliteDatabase): { objects: number; bodyParts: number } {
  const count = (sql: string): number => db.prepare(sql).pluck().get() as number;
  return {
    objects: count(`SELECT count(*) FROM inventory_objects o
      WHERE NOT EXISTS (SELECT 1 FROM inventory_object_uses u WHERE u.sha256 = o.sha256)`),
    bodyParts: count(`SELECT count(*) FROM inventory_body_parts p WHERE NOT EXISTS
      (SELECT 1 FROM inventories i WHERE i.sha256 = p.sha256 AND p.seq < i.body_parts)`),
  };
}

/** Everything stored that something names: each inventory's body, its objects' bytes, its hosts. */
function referenced(db: SqliteDatabase): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const { id, sha256 } of db.prepare('SELECT id, sha256 FROM inventories ORDER BY id').all() as {
    id: number;
    sha256: string;
  }[])
    seen[`inventory ${sha256} body`] = sha(readInventoryBody(db, id)!);
  for (const { sha256, body } of db
    .prepare(
      `SELECT o.sha256, o.body FROM inventory_objects o
      WHERE EXISTS (SELECT 1 FROM inventory_object_uses u WHERE u.sha256 = o.sha256) ORDER BY o.sha256`,
    )
    .all() as { sha256: string; body: Buffer }[])
    seen[`object ${sha256}`] = sha(body);
  for (const { name, inventory } of db
    .prepare('SELECT h.name, i.sha256 AS inventory FROM hosts h JOIN inventories i ON i.id = h.inventory_id')
    .all() as { name: string; inventory: string }[])
    seen[`host ${name}`] = inventory;
  return seen;
}

test(
  "kill -9 between the intake's short transactions: the restarted server reclaims the orphans, keeps the rest",
  { timeout: 180_000 },
  async () => {
    const dir = join(work, 'server');
    const file = join(dir, 'compat.sqlite');
    await initPki(dir);
    const ports = async (): Promise<[number, number]> => [await freePort(), await freePort()];
    let server = await startServerProcess(dir, ...(await ports()));
    children.push(server);
    let control = new ControlClient(`unix:${join(dir, 'control.sock')}`);

    // A host whose inventory is stored and named: what must survive.
    const kept = collectInventory('/');
    await control.call('ImportInventory', { name: 'kept', inventory: gzipSync(JSON.stringify(kept)) });
    // The one the crash interrupts: every object differs from kept's, so each is new and written.
    const lost: Inventory = { ...kept, objects: kept.objects.map((o) => ({ ...o, hasSymbolHash: !o.hasSymbolHash })) };
    const lostBytes = gzipSync(JSON.stringify(lost));
    const lostSha256 = inventoryContentSha256(JSON.parse(JSON.stringify(lost)));
    const lostParts = Math.ceil(lostBytes.length / BODY_PART_BYTES);
    assert.ok(lostParts >= 2 && lost.objects.length > 100, 'an inventory of several parts and many objects');

    const db = new Database(file);
    db.pragma('busy_timeout = 5000');
    db.exec(`CREATE TABLE crash_spin (n INTEGER);
      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000)
        INSERT INTO crash_spin SELECT n FROM c;
      CREATE TRIGGER crash_point BEFORE INSERT ON inventories BEGIN
        SELECT count(*) FROM crash_spin a, crash_spin b, crash_spin c, crash_spin d;
      END;`);
    const importing = control.call('ImportInventory', { name: 'lost', inventory: lostBytes }).then(
      () => 'stored',
      () => 'cut',
    );
    // Parts are the intake's last short transactions before the one that names the inventory.
    const parts = db.prepare('SELECT count(*) FROM inventory_body_parts WHERE sha256 = ?').pluck();
    while ((parts.get(lostSha256) as number) < lostParts) await sleep(20);
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    control.close();
    assert.equal(await importing, 'cut');

    const before = orphans(db);
    assert.ok(before.objects > 100, `the crash left objects no inventory uses (${before.objects})`);
    assert.equal(before.bodyParts, lostParts, 'the crash left the body parts of no stored inventory');
    const keptBefore = referenced(db);
    assert.ok(Object.keys(keptBefore).length > 100 && keptBefore['host kept'] !== undefined);
    db.exec('DROP TRIGGER crash_point; DROP TABLE crash_spin;');

    server = await startServerProcess(dir, ...(await ports())); // resolves once it listens
    children.push(server);
    assert.deepEqual(orphans(db), { objects: 0, bodyParts: 0 }, 'orphans reclaimed at start');
    assert.deepEqual(referenced(db), keptBefore, 'nothing named was removed');
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');

    // The interrupted inventory is taken whole when sent again.
    control = new ControlClient(`unix:${join(dir, 'control.sock')}`);
    const host = await control.call('ImportInventory', { name: 'lost', inventory: lostBytes });
    control.close();
    assert.equal(host.inventoryVersion, 1);
    const id = db.prepare('SELECT id FROM inventories WHERE sha256 = ?').pluck().get(lostSha256) as number;
    assert.equal(sha(readInventoryBody(db, id)!), sha(lostBytes));
    assert.deepEqual(orphans(db), { objects: 0, bodyParts: 0 });
    db.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  },
);

test('a reclaim committed between the batches and the last transaction takes nothing the inventory needs', () => {
  // The server reclaims while the intake may be storing (after a worker was ended mid-inventory).
  // A trigger replays it at the worst moment: as the last transaction begins, what a reclaim on
  // another connection would delete (this inventory's parts and new objects, named by nothing yet)
  // is gone; the last transaction must write them back.
  const db = new CompatDatabase(join(work, 'reclaim-race.sqlite'));
  try {
    db.db.exec(`CREATE TRIGGER reclaim_now BEFORE INSERT ON inventories BEGIN
      DELETE FROM inventory_body_parts;
      DELETE FROM inventory_objects WHERE NOT EXISTS
        (SELECT 1 FROM inventory_object_uses u WHERE u.sha256 = inventory_objects.sha256);
    END;`);
    const taken = takeInventory({
      bytes: Buffer.from(JSON.stringify(collectInventory('/'))),
      source: 'here',
      limits: DEFAULT_INVENTORY_LIMITS,
    });
    assert.ok(taken.gzipped.length > BODY_PART_BYTES, 'a body of several parts');
    const id = db.storeInventory(taken.sha256, taken.gzipped, taken.size, taken.indexed);
    assert.equal(sha(db.inventoryBody(id)), sha(taken.gzipped), 'the body reads back whole');
    const missing = db.db
      .prepare(
        `SELECT count(*) FROM inventory_object_uses u
        WHERE u.inventory_id = ? AND NOT EXISTS (SELECT 1 FROM inventory_objects o WHERE o.sha256 = u.sha256)`,
      )
      .pluck()
      .get(id) as number;
    assert.equal(missing, 0, 'every object the inventory uses is stored');
    assert.equal(db.inventoryObjectCount(), taken.indexed.objects.length);
  } finally {
    db.close();
  }
});
