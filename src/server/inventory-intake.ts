// Inventories arriving from agents and from `pyrelo hosts import`: bounded in size, gunzipped,
// parsed, validated, then stored once per content hash. A malformed or oversized one is refused
// with an error naming what is wrong; nothing of it is stored.
//
// The work happens in a worker thread started per inventory, one at a time, with a capped heap
// and a deadline (settings.ts InventoryLimits, README "Limits on what agents send"): a hostile
// inventory costs that worker, never the event loop that answers every other agent.

import { Worker } from 'node:worker_threads';
import { decodeInventory, InventoryFormatError } from '../inventory/read.js';
import type { Inventory } from '../inventory/format.js';
import { DEFAULT_INVENTORY_LIMITS, type InventoryLimits } from './settings.js';
import type { InventoryJob, InventoryReply, TakenInventory } from './inventory-worker.js';

export { factsOf } from './inventory-worker.js';
export type { TakenInventory } from './inventory-worker.js';

/** Stored inventories passed these limits when they arrived; reading them back allows the largest. */
const MAX_STORED_INVENTORY_JSON_BYTES = 1024 * 1024 * 1024;

export class InventoryIntake {
  /** One inventory at a time: a flood of them waits here instead of multiplying workers. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly limits: InventoryLimits = DEFAULT_INVENTORY_LIMITS) {}

  /** Checks an inventory off the event loop; rejects with an InventoryFormatError naming `source`. */
  take(bytes: Buffer, source: string): Promise<TakenInventory> {
    // Refused before anything is copied to a worker.
    if (bytes.length > this.limits.maxBytes) {
      return Promise.reject(
        new InventoryFormatError(
          source,
          '(size)',
          `${bytes.length} bytes, more than ${this.limits.maxBytes} (setting inventoryMaxBytes)`,
        ),
      );
    }
    const run = this.queue.then(
      () => this.inWorker(bytes, source),
      () => this.inWorker(bytes, source),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private inWorker(bytes: Buffer, source: string): Promise<TakenInventory> {
    const job: InventoryJob = { bytes, source, limits: this.limits };
    const worker = new Worker(new URL('./inventory-worker.js', import.meta.url), {
      workerData: { inventoryJob: job },
      name: 'pyrelo-inventory',
      resourceLimits: { maxOldGenerationSizeMb: this.limits.parseMemoryMb, maxYoungGenerationSizeMb: 64 },
    });
    return new Promise<TakenInventory>((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | null, taken?: TakenInventory): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        if (error !== null) reject(error);
        else resolve(taken!);
      };
      const timer = setTimeout(() => {
        settle(
          new InventoryFormatError(
            source,
            '(parse)',
            `not parsed within ${this.limits.parseSeconds} s (setting inventoryParseSeconds)`,
          ),
        );
      }, this.limits.parseSeconds * 1000);
      worker.on('message', (reply: InventoryReply) => {
        if (!reply.ok) return settle(new InventoryFormatError(source, reply.field, reply.detail));
        const gzipped = Buffer.from(
          reply.taken.gzipped.buffer,
          reply.taken.gzipped.byteOffset,
          reply.taken.gzipped.byteLength,
        );
        // Buffers arrive as Uint8Arrays (structured clone): SQLite and the readers want Buffers.
        const { index, objects } = reply.taken.indexed;
        const indexed = {
          index: Buffer.from(index.buffer, index.byteOffset, index.byteLength),
          objects: objects.map((o) => ({
            sha256: o.sha256,
            body: Buffer.from(o.body.buffer, o.body.byteOffset, o.body.byteLength),
          })),
        };
        settle(null, { ...reply.taken, gzipped, indexed });
      });
      worker.on('error', (error: Error & { code?: string }) => {
        settle(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new InventoryFormatError(
                source,
                '(parse)',
                `needs more than ${this.limits.parseMemoryMb} MiB to parse (setting inventoryParseMemoryMb)`,
              )
            : new InventoryFormatError(source, '(parse)', error.message),
        );
      });
      worker.on('exit', (code) =>
        settle(new InventoryFormatError(source, '(parse)', `the parsing worker exited with code ${code}`)),
      );
    });
  }
}

/**
 * Parsed inventories by id, a few at a time: predictions for many bundles reuse one. A stored
 * inventory never changes (one row per content hash), so an entry never goes stale.
 */
export class InventoryCache {
  private readonly entries = new Map<number, Inventory>();

  constructor(
    private readonly body: (inventoryId: number) => Buffer,
    private readonly capacity = 8,
  ) {}

  get(inventoryId: number): Inventory {
    let inventory = this.entries.get(inventoryId);
    if (inventory === undefined) {
      // Stored rows are already hashed and gzipped: decode only (no sha256 of the whole JSON again).
      inventory = decodeInventory(
        this.body(inventoryId),
        `stored inventory ${inventoryId}`,
        MAX_STORED_INVENTORY_JSON_BYTES,
      ).inventory;
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(inventoryId, inventory);
    }
    return inventory;
  }
}
