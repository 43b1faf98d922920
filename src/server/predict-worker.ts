// A prediction worker (worker_threads): runs the loader check of one bundle against one stored
// inventory, off the server's event loop, and posts the CheckResult back. The main thread stores
// it; this thread never writes.
//
// It is sent ids and paths, not inventories: it reads the inventory itself, by id, through its own
// read-only better-sqlite3 connection to the server's WAL database file, so the megabytes of an
// inventory never cross postMessage. An inventory stored pre-indexed (src/inventory/inventory-index.ts)
// is read as its small index, and only the objects the loader opens are fetched, by content hash,
// decoded once and shared by every inventory that has them (issue 16). One stored before it was
// indexed is gunzipped and parsed whole, as before. Stored objects never change (one row per
// hash), nor does an index once written. The bundle side (its ELF files, parsed once, and its
// leftovers) is prepared once per bundle and shared by every inventory's prediction
// (check-bundle.ts BundleSide); the bundle's unpacked tree in the store is immutable as well.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  bundleSide,
  hostNssFacts,
  predictBundleSide,
  type BundleSide,
  type HostNssFacts,
} from '../compat/check-bundle.js';
import type { HostNss } from '../inventory/host-nss.js';
import { InventoryHostView, IndexedInventoryHostView } from '../inventory/inventory-host.js';
import type { InventoryIndex } from '../inventory/inventory-index.js';
import type { StoredObject } from '../inventory/format.js';
import { loadObject } from '../inventory/codec.js';
import type { HostView } from '../loader/host-view.js';
import type { LoadableObject } from '../loader/loadable.js';
import { InventoryCache } from './inventory-intake.js';
import { readInventoryBody } from './db/inventory-store.js';
import { Lru } from './lru.js';
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

/** Decoded objects of pre-indexed inventories kept per worker, shared by every inventory that has them. */
const OBJECTS_KEPT = 256;
/** Host views of pre-indexed inventories kept per worker (an index is small: paths and headers). */
const INDEXED_VIEWS_KEPT = 64;
/** Prepared bundle sides kept per worker. */
const BUNDLES_KEPT = 4;

if (parentPort !== null) {
  const port = parentPort;
  const data = workerData as PredictWorkerData;
  const db = new Database(data.databaseFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const selectIndex = db.prepare('SELECT index_json FROM inventories WHERE id = ?');
  const selectObject = db.prepare('SELECT body FROM inventory_objects WHERE sha256 = ?');
  // Inventories stored before they were indexed: the whole body, parsed (the old path).
  const inventories = new InventoryCache((id) => {
    const body = readInventoryBody(db, id);
    if (body === null) throw new Error(`inventory ${id}: not stored`);
    return body;
  }, data.cacheSize);
  // Rows written by the server from an inventory it validated at intake (inventory-worker.ts).
  const objects = new Lru<string, LoadableObject>(OBJECTS_KEPT);
  const objectByHash = (sha256: string): LoadableObject =>
    objects.get(sha256, () => {
      const row = selectObject.get(sha256) as { body: Buffer } | undefined;
      if (row === undefined) throw new Error(`inventory object ${sha256}: not stored`);
      return loadObject(JSON.parse(row.body.toString('utf8')) as StoredObject);
    });
  /** A stored inventory as the prediction needs it: its loader's view and its NSS facts. */
  interface StoredHost {
    readonly view: HostView;
    readonly nss: HostNssFacts | undefined;
  }
  const nssFacts = (nss: HostNss | undefined) => (nss === undefined ? undefined : hostNssFacts(nss));
  const indexedHosts = new Lru<number, StoredHost | null>(INDEXED_VIEWS_KEPT);
  const hostOf = (job: PredictJob): StoredHost => {
    const label = `inventory of ${job.host}`;
    const indexed = indexedHosts.get(job.inventoryId, () => {
      const row = selectIndex.get(job.inventoryId) as { index_json: Buffer | null } | undefined;
      if (row === undefined) throw new Error(`inventory ${job.inventoryId}: not stored`);
      if (row.index_json === null) return null;
      const index = JSON.parse(row.index_json.toString('utf8')) as InventoryIndex;
      return { view: new IndexedInventoryHostView(index, objectByHash, label), nss: nssFacts(index.nss) };
    });
    if (indexed !== null) return indexed;
    const inventory = inventories.get(job.inventoryId);
    return { view: new InventoryHostView(inventory, label), nss: nssFacts(inventory.nss) };
  };
  const bundles = new Lru<string, BundleSide>(BUNDLES_KEPT);
  port.on('message', ({ id, job }: PredictRequest) => {
    let reply: PredictReply;
    try {
      const { view: base, nss } = hostOf(job);
      const side = bundles.get(`${job.digest}:${base.config.elfClass}`, () => bundleSide(job.bundleDir, base.config));
      const result = predictBundleSide(
        base,
        side,
        {
          digest: job.digest,
          host: job.host,
          inventorySha256: job.inventorySha256,
        },
        nss,
      );
      reply = { id, result };
    } catch (error) {
      reply = { id, error: (error as Error).message };
    }
    port.postMessage(reply);
  });
}
