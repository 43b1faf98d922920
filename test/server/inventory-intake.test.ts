// The inventory intake (src/server/inventory-intake.ts) with its real worker thread and a real
// database file: inventories are served in turn per sender, so one sender's queue (an attacker's
// bombs) delays another's inventory by one of its own at most (issue 13); the same bytes again are
// known by their hash without being parsed, the same content in other bytes is parsed but not
// indexed or written again; and what the worker stored reads back whole (body in parts, objects).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { collectInventory } from '../../src/inventory/collect.js';
import type { Inventory } from '../../src/inventory/format.js';
import { decodeInventory, InventoryFormatError } from '../../src/inventory/read.js';
import { inventoryContentSha256 } from '../../src/inventory/content-hash.js';
import { CompatDatabase } from '../../src/server/db/database.js';
import { InventoryIntake } from '../../src/server/inventory-intake.js';
import { BODY_PART_BYTES } from '../../src/server/db/inventory-store.js';

let work: string;
let inventory: Inventory;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-intake-test-'));
  inventory = collectInventory('/');
});

after(() => rmSync(work, { recursive: true, force: true }));

/** A database file with the schema, as the server makes it before the intake opens it. */
function database(name: string): CompatDatabase {
  return new CompatDatabase(join(work, name));
}

/** Nested arrays past inventoryMaxDepth: refused by the worker. */
const bomb = Buffer.from('['.repeat(1000) + ']'.repeat(1000));

test('senders are served in turn: a queue of bombs delays a good inventory by one turn, not by the queue', async () => {
  const db = database('turns.sqlite');
  const intake = new InventoryIntake(db.file);
  try {
    const finished: string[] = [];
    const jobs: Promise<unknown>[] = [];
    // The attacker queues five before the good host sends its one.
    for (let i = 0; i < 5; i++)
      jobs.push(
        intake.take(bomb, `bomb ${i}`, 'attacker').then(
          () => finished.push(`bomb ${i} taken`),
          (error: unknown) => {
            assert.ok(error instanceof InventoryFormatError, String(error));
            finished.push(`bomb ${i}`);
          },
        ),
      );
    jobs.push(intake.take(gzipSync(JSON.stringify(inventory)), 'good', 'good-host').then(() => finished.push('good')));
    await Promise.all(jobs);
    // bomb 0 was taken at once; the attacker's turn (bomb 1) was in line before the good host's.
    assert.deepEqual(finished, ['bomb 0', 'bomb 1', 'good', 'bomb 2', 'bomb 3', 'bomb 4']);
    assert.deepEqual(intake.taken, { receipt: 0, content: 0, stored: 1, refused: 5 });
  } finally {
    intake.close();
    db.close();
  }
});

test('the same bytes are known by their hash, the same content is not stored again', async () => {
  const db = database('dedup.sqlite');
  const intake = new InventoryIntake(db.file);
  try {
    const bytes = gzipSync(JSON.stringify(inventory));
    const first = await intake.take(bytes, 'first', 'host-a');
    assert.equal(first.how, 'stored');
    assert.equal(first.sha256, inventoryContentSha256(inventory));
    // The same bytes from another host (one image): not parsed.
    const again = await intake.take(bytes, 'again', 'host-b');
    assert.deepEqual({ ...again, how: 'stored' }, first);
    assert.equal(again.how, 'receipt');
    // Collected again (another collectedAt), sent as plain JSON: parsed, found stored.
    const recollected = Buffer.from(JSON.stringify({ ...inventory, collectedAt: '2030-01-01T00:00:00.000Z' }));
    const third = await intake.take(recollected, 'recollected', 'host-a');
    assert.equal(third.how, 'content');
    assert.equal(third.inventoryId, first.inventoryId);
    // A hash announced that matches neither: nothing stored, no id.
    const other = Buffer.from(JSON.stringify({ ...inventory, source: '/elsewhere' }));
    const mismatch = await intake.take(other, 'mismatch', 'host-c', 'f'.repeat(64));
    assert.equal(mismatch.inventoryId, null);
    assert.equal(db.inventoryCount(), 1);

    // What the worker wrote, in parts, reads back as the inventory it was.
    const body = db.inventoryBody(first.inventoryId!);
    assert.ok(body.length > BODY_PART_BYTES, 'the body is larger than a part (written in several)');
    assert.deepEqual(decodeInventory(body, 'stored').inventory, inventory);
    assert.equal(db.inventoryByHash(first.sha256)?.facts?.libcKind, inventory.host.libc.kind);
    assert.ok(db.inventoryObjectCount() > 0);
  } finally {
    intake.close();
    db.close();
  }
});

test('a worker that stored new content is ended (its heap goes back); known bytes and refusals keep it', async () => {
  const db = database('worker-end.sqlite');
  const intake = new InventoryIntake(db.file);
  try {
    const steps: [string, number][] = [];
    const step = async (name: string, taking: Promise<unknown>): Promise<void> => {
      await taking.catch((error: unknown) => assert.ok(error instanceof InventoryFormatError, String(error)));
      steps.push([name, intake.workersStarted]);
    };
    const bytes = gzipSync(JSON.stringify(inventory));
    await step('new content', intake.take(bytes, 'new', 'host-a'));
    await step('the same bytes', intake.take(bytes, 'again', 'host-b'));
    await step('a bomb', intake.take(bomb, 'bomb', 'attacker'));
    await step(
      'other new content',
      intake.take(gzipSync(JSON.stringify({ ...inventory, source: '/b' })), 'b', 'host-c'),
    );
    await step('the same bytes once more', intake.take(bytes, 'again', 'host-d'));
    assert.deepEqual(steps, [
      ['new content', 1],
      ['the same bytes', 2],
      ['a bomb', 2],
      ['other new content', 2],
      ['the same bytes once more', 3],
    ]);
  } finally {
    intake.close();
    db.close();
  }
});
