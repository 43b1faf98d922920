// Inventories arriving from agents and from `pyrelo hosts import`: bounded in size, gunzipped,
// parsed, validated, then stored once per content hash. A malformed or oversized one is refused
// with an error naming what is wrong; nothing of it is stored.
//
// The work, the database writes included, happens in a worker thread with a capped heap and a
// deadline per inventory (settings.ts InventoryLimits, README "Limits on what agents send"): a
// hostile inventory costs that worker, never the event loop that answers every other agent. The
// worker is kept while inventories come and ended when idle, or when one inventory overran its
// heap or deadline; the next inventory starts another.
//
// One inventory is taken at a time, from a queue per sender (an agent's host, the control socket)
// served in turn: what one sender has queued (an attacker's bombs) delays another's inventory by
// at most one of its own, not by all of them (issue 13).

import { Worker } from 'node:worker_threads';
import { decodeInventory, InventoryFormatError } from '../inventory/read.js';
import type { Inventory } from '../inventory/format.js';
import { DEFAULT_INVENTORY_LIMITS, type InventoryLimits } from './settings.js';
import type { IntakeReply, IntakeRequest, IntakeResult, IntakeWorkerData } from './inventory-worker.js';
import type { WriteTurns } from './write-turns.js';

export { factsOf } from './inventory-worker.js';
export type { IntakeResult, TakenInventory } from './inventory-worker.js';

/** Stored inventories passed these limits when they arrived; reading them back allows the largest. */
const MAX_STORED_INVENTORY_JSON_BYTES = 1024 * 1024 * 1024;

/** An idle worker is ended after this long: its heap (up to inventoryParseMemoryMb) goes back. One
 * that stored new content is ended at once (inWorker). */
const WORKER_IDLE_MS = 5_000;

interface QueuedInventory {
  readonly bytes: Buffer;
  readonly source: string;
  readonly expect: string;
  resolve(result: IntakeResult): void;
  reject(error: Error): void;
}

export class InventoryIntake {
  /** Per sender, its inventories in order; the map's order is the turn order. */
  private readonly queues = new Map<string, QueuedInventory[]>();
  private busy = false;
  private worker: Worker | null = null;
  private idle: NodeJS.Timeout | null = null;
  private nextId = 1;
  /** A worker was ended in the middle of an inventory: the next one reclaims what that left. */
  private reclaim = false;
  /** Inventories taken, by how (IntakeResult.how), for Status and the benches. */
  readonly taken = { receipt: 0, content: 0, stored: 0, refused: 0 };
  /** Worker threads started so far. */
  workersStarted = 0;

  /**
   * @param databaseFile the server's database, which the worker opens to store what it takes
   * @param turns the write turns the worker takes around each transaction (write-turns.ts): the
   *   server's writer thread goes first
   */
  constructor(
    private readonly databaseFile: string,
    readonly limits: InventoryLimits = DEFAULT_INVENTORY_LIMITS,
    private readonly turns: WriteTurns | null = null,
  ) {}

  /**
   * Takes and stores an inventory off the event loop, after those queued before it by `sender` and
   * in turn with other senders; rejects with an InventoryFormatError naming `source`. `expect` is
   * the hash an agent announced: when the inventory has another, nothing is stored and the
   * result's inventoryId is null.
   */
  take(bytes: Buffer, source: string, sender: string, expect = ''): Promise<IntakeResult> {
    // Refused before anything is copied to a worker.
    if (bytes.length > this.limits.maxBytes) {
      this.taken.refused += 1;
      return Promise.reject(
        new InventoryFormatError(
          source,
          '(size)',
          `${bytes.length} bytes, more than ${this.limits.maxBytes} (setting inventoryMaxBytes)`,
        ),
      );
    }
    return new Promise<IntakeResult>((resolve, reject) => {
      const queue = this.queues.get(sender) ?? [];
      queue.push({ bytes, source, expect, resolve, reject });
      this.queues.set(sender, queue);
      this.next();
    });
  }

  /** Ends the worker (server shutdown); queued inventories are refused. */
  close(): void {
    for (const queue of this.queues.values())
      for (const queued of queue)
        queued.reject(new InventoryFormatError(queued.source, '(intake)', 'the server is stopping'));
    this.queues.clear();
    this.endWorker();
  }

  /** Starts the next sender's first inventory, when none is being taken. */
  private next(): void {
    if (this.busy) return;
    const first = this.queues.entries().next();
    if (first.done === true) return;
    const [sender, queue] = first.value;
    const queued = queue.shift()!;
    // This sender's turn is over: to the back of the line, or out of it.
    this.queues.delete(sender);
    if (queue.length > 0) this.queues.set(sender, queue);
    this.busy = true;
    this.inWorker(queued)
      .then(
        (result) => {
          this.taken[result.how] += 1;
          queued.resolve(result);
        },
        (error: Error) => {
          this.taken.refused += 1;
          queued.reject(error);
        },
      )
      .finally(() => {
        this.busy = false;
        this.next();
      });
  }

  private endWorker(): void {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    if (this.worker !== null) void this.worker.terminate();
    this.worker = null;
  }

  private startWorker(): Worker {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    if (this.worker !== null) return this.worker;
    const workerData: IntakeWorkerData = {
      intakeWorker: { databaseFile: this.databaseFile, reclaim: this.reclaim, turns: this.turns?.buffer ?? null },
    };
    this.reclaim = false;
    this.workersStarted += 1;
    const worker = new Worker(new URL('./inventory-worker.js', import.meta.url), {
      workerData,
      name: 'pyrelo-inventory',
      resourceLimits: { maxOldGenerationSizeMb: this.limits.parseMemoryMb, maxYoungGenerationSizeMb: 64 },
    });
    // The server's own handles keep it running; an idle intake worker must not.
    worker.unref();
    worker.once('exit', () => {
      if (this.worker === worker) this.endWorker();
    });
    this.worker = worker;
    return worker;
  }

  private inWorker(queued: QueuedInventory): Promise<IntakeResult> {
    const { source } = queued;
    const worker = this.startWorker();
    const request: IntakeRequest = {
      id: this.nextId++,
      bytes: queued.bytes,
      source,
      limits: this.limits,
      expect: queued.expect,
    };
    return new Promise<IntakeResult>((resolve, reject) => {
      let settled = false;
      // keep: the worker takes the next inventory; end: it is ended between inventories; reclaim: it
      // was ended in the middle of one (deadline, heap, error), which may have left orphans.
      const settle = (
        error: Error | null,
        result?: IntakeResult,
        then: 'keep' | 'end' | 'reclaim' = 'reclaim',
      ): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (then === 'keep') {
          if (this.worker === worker) {
            this.idle = setTimeout(() => this.endWorker(), WORKER_IDLE_MS);
            this.idle.unref();
          }
        } else {
          if (then === 'reclaim') {
            this.reclaim = true;
            // It may have been inside a transaction, holding its write turn: given back once it is gone.
            worker.once('exit', () => this.turns?.release('intake'));
          }
          if (this.worker === worker) this.endWorker();
          else void worker.terminate();
        }
        if (error !== null) reject(error);
        else resolve(result!);
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
      const onMessage = (reply: IntakeReply): void => {
        if (reply.id !== request.id) return;
        if (!reply.ok) return settle(new InventoryFormatError(source, reply.field, reply.detail), undefined, 'keep');
        // New content was parsed, indexed and written: the worker's heap grew to hold it (300-500 MB
        // for a 22 MB inventory here) and V8 keeps what it grew; a new worker starts small (bench:soak's
        // RSS, README "Benchmarks"). Known bytes and refusals keep the worker.
        settle(null, reply.result, reply.result.how === 'stored' ? 'end' : 'keep');
      };
      const onError = (error: Error & { code?: string }): void => {
        settle(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new InventoryFormatError(
                source,
                '(parse)',
                `needs more than ${this.limits.parseMemoryMb} MiB to parse (setting inventoryParseMemoryMb)`,
              )
            : new InventoryFormatError(source, '(parse)', error.message),
        );
      };
      const onExit = (code: number): void =>
        settle(new InventoryFormatError(source, '(parse)', `the parsing worker exited with code ${code}`));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
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
