// Inventories written and read on any connection to the database: the server's (CompatDatabase)
// and the intake worker's (inventory-worker.ts), which stores what it takes so that the event loop
// answering every agent never writes megabytes (README "Limits on what agents send").
//
// An inventory is written in short transactions, none holding the database's one write lock for
// long, since the server's own writes (reports, heartbeats) wait for it: its new objects in
// batches of OBJECT_BATCH_BYTES, its gzipped body in parts of BODY_PART_BYTES, then one last
// transaction that makes it visible (its row, which objects it uses, its receipt). Until that last
// commit nothing names the inventory, so a crash in between leaves no half inventory: at most
// objects and parts no inventory uses. Those are reclaimed (reclaimOrphans) when the server starts
// and when an intake worker was ended in the middle of an inventory; the last transaction checks
// that every object and part it names is still there and writes back any that was reclaimed (or
// pruned) since its batch, so reclaiming is safe while an inventory is being stored.

import type { Database } from 'better-sqlite3';
import type { HostFacts, StoredIndex } from './database.js';
import { withoutTurns, type InTurn } from '../write-turns.js';

export const BODY_PART_BYTES = 256 * 1024;
export const OBJECT_BATCH_BYTES = 1024 * 1024;

export interface InventoryToStore {
  /** Content hash (src/inventory/content-hash.ts). */
  readonly sha256: string;
  readonly gzipped: Buffer;
  /** Bytes of JSON. */
  readonly size: number;
  readonly indexed?: StoredIndex;
  readonly facts?: HostFacts;
  /** The bytes as received, so that the same bytes again are known without parsing. */
  readonly receipt?: {
    readonly receivedSha256: string;
    readonly sentSha256: string;
    /** The collectedAt of those bytes ('' when unknown): the same bytes again were collected then too. */
    readonly collectedAt?: string;
  };
}

/** What a receipt knows: enough to give a host the inventory without reading it. */
export interface InventoryReceipt {
  readonly inventoryId: number;
  readonly sha256: string;
  readonly sentSha256: string;
  readonly size: number;
  readonly facts: HostFacts;
  /** When those bytes were collected; '' for receipts stored before it was kept (migration 7). */
  readonly collectedAt: string;
}

const now = (): string => new Date().toISOString();

/** The inventory stored for bytes with this sha256 (as received), when it has its facts and index. */
export function inventoryReceipt(db: Database, receivedSha256: string): InventoryReceipt | null {
  const row = db
    .prepare(
      `SELECT i.id, i.sha256, i.size, i.facts_json, r.sent_sha256, r.collected_at FROM inventory_receipts r
       JOIN inventories i ON i.id = r.inventory_id WHERE r.received_sha256 = ? AND i.index_json IS NOT NULL`,
    )
    .get(receivedSha256) as
    | {
        id: number;
        sha256: string;
        size: number;
        facts_json: string | null;
        sent_sha256: string;
        collected_at: string;
      }
    | undefined;
  if (row === undefined || row.facts_json === null) return null;
  return {
    inventoryId: row.id,
    sha256: row.sha256,
    sentSha256: row.sent_sha256,
    size: row.size,
    facts: JSON.parse(row.facts_json) as HostFacts,
    collectedAt: row.collected_at,
  };
}

/** The facts stored with an inventory (migration 6 on); null for one stored before. */
export function inventoryFacts(db: Database, inventoryId: number): HostFacts | null {
  const row = db.prepare('SELECT facts_json FROM inventories WHERE id = ?').get(inventoryId) as
    { facts_json: string | null } | undefined;
  return row?.facts_json ? (JSON.parse(row.facts_json) as HostFacts) : null;
}

/** An inventory's gzipped JSON, whole or from its parts; null when not stored. */
export function readInventoryBody(db: Database, inventoryId: number): Buffer | null {
  const row = db.prepare('SELECT sha256, body, body_parts FROM inventories WHERE id = ?').get(inventoryId) as
    { sha256: string; body: Buffer; body_parts: number } | undefined;
  if (row === undefined) return null;
  if (row.body_parts === 0) return row.body;
  const parts = db
    .prepare('SELECT bytes FROM inventory_body_parts WHERE sha256 = ? AND seq < ? ORDER BY seq')
    .pluck()
    .all(row.sha256, row.body_parts) as Buffer[];
  if (parts.length !== row.body_parts) throw new Error(`inventory ${inventoryId}: body parts missing`);
  return Buffer.concat(parts);
}

type Stamp = Pick<InventoryToStore, 'facts' | 'receipt'>;

function completeRow(db: Database, id: number, { facts, receipt }: Stamp): number {
  if (facts !== undefined) {
    db.prepare('UPDATE inventories SET facts_json = ? WHERE id = ? AND facts_json IS NULL').run(
      JSON.stringify(facts),
      id,
    );
    // What pyrelo fleet counts (migration 7), for an inventory that lacks it.
    if (facts.isaLevel !== undefined)
      db.prepare('UPDATE inventories SET isa_level = ?, page_size = ? WHERE id = ? AND isa_level IS NULL').run(
        facts.isaLevel,
        facts.pageSize ?? null,
        id,
      );
  }
  if (receipt !== undefined)
    db.prepare(
      `INSERT OR REPLACE INTO inventory_receipts (received_sha256, inventory_id, sent_sha256, collected_at)
      VALUES (?, ?, ?, ?)`,
    ).run(receipt.receivedSha256, id, receipt.sentSha256, receipt.collectedAt ?? '');
  return id;
}

function storedRow(db: Database, sha256: string): { id: number; indexed: number } | undefined {
  return db.prepare('SELECT id, index_json IS NOT NULL AS indexed FROM inventories WHERE sha256 = ?').get(sha256) as
    { id: number; indexed: number } | undefined;
}

/**
 * The id of the indexed inventory with this content, given what it lacked (facts, a receipt), in
 * one short transaction; null when no such inventory is stored.
 */
export function completeStoredInventory(
  db: Database,
  sha256: string,
  stamp: Stamp,
  turn: InTurn = withoutTurns,
): number | null {
  return turn(() =>
    db
      .transaction(() => {
        const row = storedRow(db, sha256);
        return row !== undefined && row.indexed === 1 ? completeRow(db, row.id, stamp) : null;
      })
      .immediate(),
  );
}

/**
 * Stores an inventory once per content hash, in short transactions (see the header); returns its
 * id. One stored already gets what it lacked (its index, facts, this receipt) and keeps its body.
 * Each transaction runs in a `turn` (the intake worker's turns at the write lock: write-turns.ts).
 */
export function storeInventoryInParts(db: Database, inventory: InventoryToStore, turn: InTurn = withoutTurns): number {
  const { sha256, indexed } = inventory;
  const stamp: Stamp = {
    ...(inventory.facts && { facts: inventory.facts }),
    ...(inventory.receipt && { receipt: inventory.receipt }),
  };
  const known = turn(() =>
    db
      .transaction(() => {
        const row = storedRow(db, sha256);
        return row !== undefined && (row.indexed === 1 || indexed === undefined)
          ? completeRow(db, row.id, stamp)
          : null;
      })
      .immediate(),
  );
  if (known !== null) return known;

  // New objects, a batch per transaction; those stored already (another host's) are not sent again.
  // One stored meanwhile by another connection is ignored by the INSERT.
  const objectKnown = db.prepare('SELECT 1 FROM inventory_objects WHERE sha256 = ?');
  const addObject = db.prepare('INSERT OR IGNORE INTO inventory_objects (sha256, body) VALUES (?, ?)');
  const fresh = (indexed?.objects ?? []).filter((o) => objectKnown.get(o.sha256) === undefined);
  const writeObjects = db.transaction((batch: typeof fresh) => {
    for (const o of batch) addObject.run(o.sha256, o.body);
  });
  for (let start = 0; start < fresh.length;) {
    let end = start;
    for (let bytes = 0; end < fresh.length && (end === start || bytes < OBJECT_BATCH_BYTES); end++)
      bytes += fresh[end]!.body.length;
    const batch = fresh.slice(start, end);
    turn(() => writeObjects.immediate(batch));
    start = end;
  }

  // The body in parts, replacing any a crash left for this content.
  const parts = Math.ceil(inventory.gzipped.length / BODY_PART_BYTES);
  turn(() => db.prepare('DELETE FROM inventory_body_parts WHERE sha256 = ?').run(sha256));
  const addPart = db.prepare('INSERT INTO inventory_body_parts (sha256, seq, bytes) VALUES (?, ?, ?)');
  for (let seq = 0; seq < parts; seq++) {
    const bytes = inventory.gzipped.subarray(seq * BODY_PART_BYTES, (seq + 1) * BODY_PART_BYTES);
    turn(() => addPart.run(sha256, seq, bytes));
  }

  return turn(() =>
    db
      .transaction(() => {
        // Stored meanwhile by another connection: the same content, nothing to add but what it lacks.
        const row = storedRow(db, sha256);
        if (row !== undefined && (row.indexed === 1 || indexed === undefined)) return completeRow(db, row.id, stamp);
        const id =
          row?.id ??
          Number(
            db
              .prepare(
                `INSERT INTO inventories (sha256, body, body_parts, size, stored_at, facts_json)
              VALUES (?, ?, ?, ?, ?, ?)`,
              )
              .run(sha256, Buffer.alloc(0), parts, inventory.size, now(), null).lastInsertRowid,
          );
        if (indexed !== undefined) {
          db.prepare('UPDATE inventories SET index_json = ? WHERE id = ?').run(indexed.index, id);
          const use = db.prepare('INSERT OR IGNORE INTO inventory_object_uses (inventory_id, sha256) VALUES (?, ?)');
          for (const o of indexed.objects) {
            // An object seen stored in its batch may have been deleted since, with the last inventory
            // that used it (pruning, on the server's connection): stored again here, with its use.
            if (objectKnown.get(o.sha256) === undefined) addObject.run(o.sha256, o.body);
            use.run(id, o.sha256);
          }
        }
        if (row !== undefined) db.prepare('DELETE FROM inventory_body_parts WHERE sha256 = ?').run(sha256);
        else {
          // A part written above may have been reclaimed since (reclaimOrphans on another connection,
          // or pruning of an older inventory with this content): written again here.
          const stored = new Set(
            db.prepare('SELECT seq FROM inventory_body_parts WHERE sha256 = ? AND seq < ?').pluck().all(sha256, parts),
          );
          for (let seq = 0; seq < parts; seq++)
            if (!stored.has(seq))
              addPart.run(sha256, seq, inventory.gzipped.subarray(seq * BODY_PART_BYTES, (seq + 1) * BODY_PART_BYTES));
        }
        return completeRow(db, id, stamp);
      })
      .immediate(),
  );
}

/** What reclaimOrphans deleted. */
export interface ReclaimedOrphans {
  readonly inventories: number;
  readonly objects: number;
  readonly bodyParts: number;
}

/**
 * Deletes what an inventory's short transactions left when they never reached the last one (a
 * crash, a worker ended for its deadline or heap): objects no inventory uses, and body parts of no
 * stored inventory (header). With `unnamedInventories`, also inventories that no host, kept version
 * or check names, as a crash between the intake's last commit and the server's commit that gives
 * the inventory to its host leaves them (pruning deletes the same ones); only when no inventory is
 * being taken, since one just stored is named by its host a moment later, on the server's connection.
 * One IMMEDIATE transaction.
 */
export function reclaimOrphans(
  db: Database,
  { unnamedInventories }: { unnamedInventories: boolean },
  turn: InTurn = withoutTurns,
): ReclaimedOrphans {
  return turn(() =>
    db
      .transaction(() => {
        const inventories = unnamedInventories
          ? db
              .prepare(
                `DELETE FROM inventories WHERE
              NOT EXISTS (SELECT 1 FROM hosts h WHERE h.inventory_id = inventories.id)
              AND NOT EXISTS (SELECT 1 FROM host_inventories v WHERE v.inventory_id = inventories.id)
              AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.inventory_id = inventories.id)`,
              )
              .run().changes
          : 0;
        // Uses and receipts of those went with them (ON DELETE CASCADE).
        const objects = db
          .prepare(
            `DELETE FROM inventory_objects WHERE
          NOT EXISTS (SELECT 1 FROM inventory_object_uses u WHERE u.sha256 = inventory_objects.sha256)`,
          )
          .run().changes;
        const bodyParts = db
          .prepare(
            `DELETE FROM inventory_body_parts WHERE NOT EXISTS (SELECT 1 FROM inventories i
          WHERE i.sha256 = inventory_body_parts.sha256 AND inventory_body_parts.seq < i.body_parts)`,
          )
          .run().changes;
        return { inventories, objects, bodyParts };
      })
      .immediate(),
  );
}
