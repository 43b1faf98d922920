// Inventories from agents and `hosts import`, taken apart and stored in a worker thread whose heap
// is capped (inventory-intake.ts keeps one while there is work): the sha256 of the bytes as
// received, and when those bytes were taken before, nothing more; else gunzip up to the
// expanded-bytes limit, a pre-scan for nesting and value count, JSON.parse, validation, the content
// hash, and only for content not stored yet the index, gzip and the writes, on the worker's own
// database connection. Only the inventory's id, hashes and host facts go back to the event loop
// (README "Limits on what agents send").

import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { InventoryFormatError, validateInventory } from '../inventory/read.js';
import { jsonShapeProblem, JsonShapeScan } from '../inventory/json-shape.js';
import { inventoryContentSha256 } from '../inventory/content-hash.js';
import type { HostFacts, StoredIndex } from './db/database.js';
import { indexInventory } from '../inventory/inventory-index.js';
import type { InventoryLimits } from './settings.js';
import { collectionTime } from './collected-at.js';
import type { Inventory } from '../inventory/format.js';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import {
  completeStoredInventory,
  inventoryReceipt,
  reclaimOrphans,
  storeInventoryInParts,
} from './db/inventory-store.js';
import { withoutTurns, WriteTurns, type InTurn } from './write-turns.js';

export interface InventoryJob {
  readonly bytes: Uint8Array;
  readonly source: string;
  readonly limits: InventoryLimits;
}

export interface TakenInventory {
  readonly facts: HostFacts;
  /** Its identity: the sha256 of its content without collectedAt (src/inventory/content-hash.ts). */
  readonly sha256: string;
  /** sha256 of the JSON as sent, which agents before the content hash announced. */
  readonly sentSha256: string;
  readonly gzipped: Buffer;
  /** Bytes of JSON. */
  readonly size: number;
  /** Its index and distinct objects, stored beside it for predictions (src/inventory/inventory-index.ts). */
  readonly indexed: StoredIndex;
}

export type InventoryReply =
  | { readonly ok: true; readonly taken: TakenInventory }
  | { readonly ok: false; readonly field: string; readonly detail: string };

export function factsOf(inventory: Inventory): HostFacts {
  const { host } = inventory;
  return {
    distroId: host.osRelease?.id ?? '',
    distroVersion: host.osRelease?.versionId ?? '',
    arch: host.arch,
    kernel: host.kernelRelease,
    libcKind: host.libc.kind,
    libcVersion: host.libc.version ?? '',
    isaLevel: inventory.loader.isaLevel,
    // Absent in inventories written before it was recorded: 4096, as loaderConfigOf reads it.
    pageSize: inventory.loader.pageSize ?? 4096,
  };
}

/** An inventory read and checked, not yet packed for storage. */
interface ReadInventory {
  readonly inventory: Inventory;
  readonly sha256: string;
  readonly sentSha256: string;
  readonly json: Buffer;
  /** The bytes as received when they were gzipped already (stored as they are). */
  readonly gzipped: Buffer | null;
}

/** Gunzip within the limits, shape check, parse, validate, hash: run it only off the event loop. */
function readInventoryJob(job: InventoryJob): ReadInventory {
  const { source, limits } = job;
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const fail = (field: string, detail: string): never => {
    throw new InventoryFormatError(source, field, detail);
  };
  if (bytes.length > limits.maxBytes)
    fail('(size)', `${bytes.length} bytes, more than ${limits.maxBytes} (setting inventoryMaxBytes)`);
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let json = bytes;
  if (gzipped) {
    try {
      // maxOutputLength stops inflating there: the expansion never takes more memory than that.
      json = gunzipSync(bytes, { maxOutputLength: limits.maxJsonBytes });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE')
        fail('(gzip)', `expands to more than ${limits.maxJsonBytes} bytes (setting inventoryMaxJsonBytes)`);
      fail('(gzip)', (error as Error).message);
    }
  } else if (bytes.length > limits.maxJsonBytes) {
    fail('(size)', `${bytes.length} bytes of JSON, more than ${limits.maxJsonBytes} (setting inventoryMaxJsonBytes)`);
  }
  const shape = jsonShapeProblem(json, limits);
  if (shape !== null) fail('(json)', `${shape} (settings inventoryMaxDepth, inventoryMaxElements)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch (error) {
    fail('(json)', (error as Error).message);
  }
  const inventory = validateInventory(parsed, source);
  return {
    inventory,
    sha256: inventoryContentSha256(parsed),
    sentSha256: createHash('sha256').update(json).digest('hex'),
    json,
    gzipped: gzipped ? bytes : null,
  };
}

/** Inflated a chunk at a time by refuseBeforeInflating: what one chunk holds. */
const SCAN_CHUNK_BYTES = 64 * 1024;

/**
 * Gzipped bytes inflated a chunk at a time, each chunk counted, shape-scanned and dropped: a bomb
 * (past inventoryMaxJsonBytes) or too many values or levels is refused holding one chunk, where
 * gunzipSync held everything inflated until the limit (up to 256 MiB, and twice that while
 * concatenating: bench:soak's RSS under attack, README "Benchmarks"). What passes is inflated again
 * by readInventoryJob, whole. A gzip error is left to readInventoryJob, which names it.
 */
async function refuseBeforeInflating(job: InventoryJob): Promise<void> {
  const { source, limits } = job;
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes.length > limits.maxBytes) return;
  const fail = (field: string, detail: string): never => {
    throw new InventoryFormatError(source, field, detail);
  };
  const scan = new JsonShapeScan(limits);
  let inflated = 0;
  const gunzip = createGunzip({ chunkSize: SCAN_CHUNK_BYTES });
  gunzip.end(bytes);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      if (inflated > limits.maxJsonBytes)
        fail('(gzip)', `expands to more than ${limits.maxJsonBytes} bytes (setting inventoryMaxJsonBytes)`);
      const shape = scan.feed(chunk);
      if (shape !== null) fail('(json)', `${shape} (settings inventoryMaxDepth, inventoryMaxElements)`);
    }
  } catch (error) {
    if (error instanceof InventoryFormatError) throw error;
  } finally {
    gunzip.destroy();
  }
}

/** Index and gzip for storage: only for content not stored yet. */
function packInventory(read: ReadInventory): TakenInventory {
  const indexed = indexInventory(read.inventory);
  return {
    indexed: {
      index: Buffer.from(JSON.stringify(indexed.index)),
      objects: indexed.objects.map((o) => ({ sha256: o.sha256, body: Buffer.from(o.json) })),
    },
    facts: factsOf(read.inventory),
    sha256: read.sha256,
    sentSha256: read.sentSha256,
    gzipped: read.gzipped ?? gzipSync(read.json, { level: 6 }),
    size: read.json.length,
  };
}

/** The whole intake of one inventory, synchronously, without storing: run it only off the event loop. */
export function takeInventory(job: InventoryJob): TakenInventory {
  return packInventory(readInventoryJob(job));
}

/** One inventory for the intake worker to take and store (inventory-intake.ts). */
export interface IntakeRequest extends InventoryJob {
  readonly id: number;
  /** The hash the agent announced ('' for none): on a mismatch nothing is stored. */
  readonly expect: string;
}

/** What the intake did with an inventory. */
export interface IntakeResult {
  /** The stored inventory; null when it did not match the announced hash (nothing stored). */
  readonly inventoryId: number | null;
  readonly sha256: string;
  readonly sentSha256: string;
  readonly facts: HostFacts;
  readonly size: number;
  /** When the inventory was collected (its collectedAt, checked; '' when it has none or not a time). */
  readonly collectedAt: string;
  /** receipt: the same bytes were taken before (not parsed); content: parsed, its content stored
   * already (not indexed or written); stored: new content, indexed and written. */
  readonly how: 'receipt' | 'content' | 'stored';
}

export type IntakeReply =
  | { readonly id: number; readonly ok: true; readonly result: IntakeResult }
  | { readonly id: number; readonly ok: false; readonly field: string; readonly detail: string };

export interface IntakeWorkerData {
  /** reclaim: the worker before this one was ended in the middle of an inventory (its deadline, its
   * heap), which may have left objects and body parts no inventory uses (db/inventory-store.ts).
   * turns: the write turns shared with the writer thread (write-turns.ts), when the server has one. */
  readonly intakeWorker: {
    readonly databaseFile: string;
    readonly reclaim: boolean;
    readonly turns: SharedArrayBuffer | null;
  };
}

/** Deletes what an interrupted store left; a failure (the lock busy too long) waits for the next occasion. */
function reclaimInterrupted(db: SqliteDatabase, turn: InTurn): void {
  try {
    reclaimOrphans(db, { unnamedInventories: false }, turn);
  } catch {
    // Nothing is lost: the orphans stay until the next reclaim (the next interrupted store, a restart).
  }
}

const matches = (expect: string, hashes: { sha256: string; sentSha256: string }): boolean =>
  expect === '' || expect === hashes.sha256 || expect === hashes.sentSha256;

/**
 * Takes one inventory and stores it on the worker's own connection: the same bytes as before are
 * known by their hash alone, known content is not indexed or written again, and new content is
 * written in short transactions (db/inventory-store.ts), each in a `turn` (write-turns.ts).
 */
export async function intake(
  db: SqliteDatabase,
  request: IntakeRequest,
  turn: InTurn = withoutTurns,
): Promise<IntakeResult> {
  const bytes = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength);
  const receivedSha256 = createHash('sha256').update(bytes).digest('hex');
  const receipt = inventoryReceipt(db, receivedSha256);
  if (receipt !== null) {
    return {
      inventoryId: matches(request.expect, receipt) ? receipt.inventoryId : null,
      sha256: receipt.sha256,
      sentSha256: receipt.sentSha256,
      facts: receipt.facts,
      size: receipt.size,
      collectedAt: receipt.collectedAt,
      how: 'receipt',
    };
  }
  await refuseBeforeInflating(request);
  const read = readInventoryJob(request);
  const facts = factsOf(read.inventory);
  const collectedAt = collectionTime(read.inventory.collectedAt);
  const answer = { sha256: read.sha256, sentSha256: read.sentSha256, facts, size: read.json.length, collectedAt };
  if (!matches(request.expect, read)) return { ...answer, inventoryId: null, how: 'content' };
  const stamp = { facts, receipt: { receivedSha256, sentSha256: read.sentSha256, collectedAt } };
  const known = completeStoredInventory(db, read.sha256, stamp, turn);
  if (known !== null) return { ...answer, inventoryId: known, how: 'content' };
  const packed = packInventory(read);
  const inventoryId = storeInventoryInParts(db, { ...packed, ...stamp }, turn);
  return { ...answer, inventoryId, how: 'stored' };
}

const data = workerData as Partial<IntakeWorkerData> | null;
if (parentPort !== null && data?.intakeWorker !== undefined) {
  const port = parentPort;
  const db = new Database(data.intakeWorker.databaseFile, { fileMustExist: true });
  // An inventory lost to a power cut is asked for again (its host has no inventory, or an older
  // one, until the server's next commit, which syncs the log with this one's pages in it):
  // NORMAL spares this connection's fsyncs; the server's own connection stays FULL.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Checkpoints are the checkpoint thread's (wal-checkpointer.ts): one run in this worker's commit
  // would hold its write turn, and the writer thread waiting for it, for the copy (up to 0.9 s here).
  db.pragma('wal_autocheckpoint = 0');
  const turns = data.intakeWorker.turns === null ? null : new WriteTurns(data.intakeWorker.turns);
  const turn: InTurn = turns === null ? withoutTurns : (fn) => turns.during('intake', fn);
  if (data.intakeWorker.reclaim) reclaimInterrupted(db, turn);
  // One request at a time: the intake sends the next after this one's reply.
  port.on('message', async (request: IntakeRequest) => {
    let reply: IntakeReply;
    try {
      reply = { id: request.id, ok: true, result: await intake(db, request, turn) };
    } catch (error) {
      if (error instanceof InventoryFormatError)
        reply = { id: request.id, ok: false, field: error.field, detail: error.detail };
      else {
        // A store that failed half-way (the database busy or full) left what it had committed.
        reclaimInterrupted(db, turn);
        reply = { id: request.id, ok: false, field: '(intake)', detail: (error as Error).message };
      }
    }
    port.postMessage(reply);
  });
}
