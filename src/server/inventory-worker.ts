// One inventory from an agent or `hosts import`, taken apart in a worker thread whose heap is
// capped (inventory-intake.ts starts one per inventory): gunzip up to the expanded-bytes limit, a
// pre-scan for nesting and value count, JSON.parse, validation, sha256, gzip for storage. Only the
// host's facts, the hash and the gzipped bytes go back to the event loop (README "Limits on what
// agents send").

import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InventoryFormatError, validateInventory } from '../inventory/read.js';
import { jsonShapeProblem } from '../inventory/json-shape.js';
import { inventoryContentSha256 } from '../inventory/content-hash.js';
import type { HostFacts, StoredIndex } from './db/database.js';
import { indexInventory } from '../inventory/inventory-index.js';
import type { InventoryLimits } from './settings.js';
import type { Inventory } from '../inventory/format.js';

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
  };
}

/** The whole intake of one inventory, synchronously: run it only off the event loop. */
export function takeInventory(job: InventoryJob): TakenInventory {
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
  const indexed = indexInventory(inventory);
  return {
    indexed: {
      index: Buffer.from(JSON.stringify(indexed.index)),
      objects: indexed.objects.map((o) => ({ sha256: o.sha256, body: Buffer.from(o.json) })),
    },
    facts: factsOf(inventory),
    sha256: inventoryContentSha256(parsed),
    sentSha256: createHash('sha256').update(json).digest('hex'),
    gzipped: gzipped ? bytes : gzipSync(json, { level: 6 }),
    size: json.length,
  };
}

if (parentPort !== null && (workerData as { inventoryJob?: InventoryJob } | null)?.inventoryJob !== undefined) {
  const job = (workerData as { inventoryJob: InventoryJob }).inventoryJob;
  let reply: InventoryReply;
  try {
    reply = { ok: true, taken: takeInventory(job) };
  } catch (error) {
    reply =
      error instanceof InventoryFormatError
        ? { ok: false, field: error.field, detail: error.detail }
        : { ok: false, field: '(intake)', detail: (error as Error).message };
  }
  const transfer = reply.ok ? [reply.taken.gzipped.buffer as ArrayBuffer] : [];
  parentPort.postMessage(reply, transfer);
}
