// A prediction worker (worker_threads): runs the loader check of one bundle against one stored
// inventory, off the server's event loop, and posts the CheckResult back. The main thread stores
// it; this thread never writes.
//
// It is sent ids and paths, not inventories: it reads the inventory itself, by id, through its own
// read-only better-sqlite3 connection to the server's WAL database file. Inventory rows never
// change (one per content hash, written and committed before any prediction of them is queued),
// so a WAL reader on another thread sees exactly the bytes the main thread would; the megabytes of
// an inventory never cross postMessage (a structured clone per job), and gunzip + JSON.parse +
// validation, as heavy as the check itself for a large host, happen here too, once per inventory
// thanks to the cache. The bundle is read from its unpacked tree in the store, immutable as well.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { predictBundle } from '../compat/check-bundle.js';
import { InventoryCache } from './inventory-intake.js';
import type { CheckResult } from '../proto/messages.js';

export interface PredictWorkerData {
  readonly databaseFile: string;
  /** Parsed inventories kept per worker. */
  readonly cacheSize: number;
}

export interface PredictJob {
  readonly bundleDir: string;
  readonly digest: string;
  readonly host: string;
  readonly inventoryId: number;
  readonly inventorySha256: string;
}

export type PredictRequest = { readonly id: number; readonly job: PredictJob };
export type PredictReply =
  { readonly id: number; readonly result: CheckResult } | { readonly id: number; readonly error: string };

if (parentPort !== null) {
  const port = parentPort;
  const data = workerData as PredictWorkerData;
  const db = new Database(data.databaseFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const select = db.prepare('SELECT body FROM inventories WHERE id = ?');
  const inventories = new InventoryCache((id) => {
    const row = select.get(id) as { body: Buffer } | undefined;
    if (row === undefined) throw new Error(`inventory ${id}: not stored`);
    return row.body;
  }, data.cacheSize);
  port.on('message', ({ id, job }: PredictRequest) => {
    let reply: PredictReply;
    try {
      const result = predictBundle(inventories.get(job.inventoryId), job.bundleDir, {
        digest: job.digest,
        host: job.host,
        inventorySha256: job.inventorySha256,
      });
      reply = { id, result };
    } catch (error) {
      reply = { id, error: (error as Error).message };
    }
    port.postMessage(reply);
  });
}
