// Predictions from stored inventories: every bundle on a host whose inventory changed, and a new
// bundle on every host that has an inventory. A host never deployed to gets its verdict this way.
//
// The loader check is CPU-heavy and synchronous, so it runs in a small pool of worker threads
// (prediction-pool.ts, predict-worker.ts) while the event loop goes on serving heartbeats and
// reports; the main thread only queues, and stores what comes back. One queue entry per
// bundle x host:
//   - asking again for the same inventory joins the entry queued or running (idempotent);
//   - a newer inventory of the host supersedes a queued entry for its older one (the entry keeps
//     its place and its waiters, who get the newer result);
//   - a prediction someone waits for (predict(): the Check RPC) goes before background ones;
//   - a result is stored only if the host still has the inventory it was computed for (checked
//     in the same transaction as the write), so a late result for an older inventory, or for a
//     host removed meanwhile, is dropped and never overwrites a newer one.

import type { Logger } from 'pino';
import type { CompatDatabase, StoredBundle, StoredHost } from './db/database.js';
import type { BundleStore } from './bundle-store.js';
import { PredictionPool } from './prediction-pool.js';
import type { CheckResult } from '../proto/messages.js';

interface Waiter {
  resolve(result: CheckResult): void;
  reject(error: Error): void;
}

interface Entry {
  readonly key: string;
  readonly bundle: StoredBundle;
  readonly hostId: number;
  readonly hostName: string;
  inventoryId: number;
  inventoryVersion: number;
  inventorySha256: string;
  readonly waiters: Waiter[];
}

export interface PredictorStats {
  /** Jobs handed to a worker. */
  started: number;
  /** Results stored. */
  stored: number;
  /** Queued entries whose inventory a newer one replaced before they ran. */
  superseded: number;
  /** Results dropped: the host's inventory changed (or the host went) while they ran. */
  stale: number;
  failed: number;
}

export class Predictor {
  private readonly pool: PredictionPool;
  /**
   * Waiting for a worker, in order (Map order is insertion order): asked for by a caller waiting
   * (Check), then background work.
   */
  private readonly urgent = new Map<string, Entry>();
  private readonly queue = new Map<string, Entry>();
  /** Running on a worker (at most one per worker). */
  private readonly running = new Set<Entry>();
  private closed = false;
  readonly stats: PredictorStats = { started: 0, stored: 0, superseded: 0, stale: 0, failed: 0 };

  constructor(
    private readonly db: CompatDatabase,
    private readonly store: BundleStore,
    private readonly log: Logger,
    workers = 1,
  ) {
    if (db.file === ':memory:')
      throw new Error('predictions need the database in a file: workers read inventories through their own connection');
    this.pool = new PredictionPool(workers, { databaseFile: db.file, cacheSize: 4 }, log);
  }

  get workers(): number {
    return this.pool.size;
  }

  /** Predictions running on a worker right now. */
  get busy(): number {
    return this.running.size;
  }

  /** Predictions waiting for a worker. */
  get queued(): number {
    return this.urgent.size + this.queue.size;
  }

  /**
   * The prediction of `bundle` on `host`'s stored inventory, stored when it is still current; null
   * without an inventory. Someone is waiting for it (the Check RPC, deploy's predict step): it goes
   * before the background predictions of new bundles and inventories.
   */
  predict(bundle: StoredBundle, host: StoredHost): Promise<CheckResult | null> {
    if (host.inventoryId === null) return Promise.resolve(null);
    return this.enqueue(bundle, host, true);
  }

  async predictBundleEverywhere(bundle: StoredBundle): Promise<void> {
    if (!this.db.db.open) return;
    await Promise.all(this.db.hostsWithInventory().map((host) => this.safely(this.enqueue(bundle, host))));
  }

  async predictHost(hostName: string): Promise<void> {
    // Scheduled predictions may outlive a server that is stopping.
    if (!this.db.db.open) return;
    const host = this.db.host(hostName);
    if (host === null || host.inventoryId === null) return;
    await Promise.all(this.db.bundles().map((bundle) => this.safely(this.enqueue(bundle, host))));
  }

  /** Stops the workers; predictions queued or running fail with "prediction workers stopped". */
  async close(): Promise<void> {
    this.closed = true;
    const stopped = new Error('prediction workers stopped');
    for (const queue of [this.urgent, this.queue]) {
      for (const entry of queue.values()) for (const w of entry.waiters) w.reject(stopped);
      queue.clear();
    }
    await this.pool.close();
  }

  private async safely(prediction: Promise<unknown>): Promise<void> {
    try {
      await prediction;
    } catch (error) {
      if (!this.closed) this.log.error({ err: error }, 'prediction failed');
    }
  }

  private enqueue(bundle: StoredBundle, host: StoredHost, urgent = false): Promise<CheckResult> {
    if (this.closed) return Promise.reject(new Error('prediction workers stopped'));
    const inventoryId = host.inventoryId!;
    const key = `${host.id}:${bundle.id}`;
    return new Promise<CheckResult>((resolve, reject) => {
      const waiter = { resolve, reject };
      let queued = this.urgent.get(key);
      if (queued === undefined) {
        queued = this.queue.get(key);
        if (queued !== undefined && urgent) {
          this.queue.delete(key);
          this.urgent.set(key, queued);
        }
      }
      if (queued !== undefined) {
        if (host.inventoryVersion > queued.inventoryVersion) {
          if (queued.inventoryId !== inventoryId) this.stats.superseded += 1;
          queued.inventoryId = inventoryId;
          queued.inventoryVersion = host.inventoryVersion;
          queued.inventorySha256 = host.inventorySha256;
        }
        queued.waiters.push(waiter);
        return;
      }
      for (const entry of this.running) {
        if (entry.key === key && entry.inventoryId === inventoryId) {
          entry.waiters.push(waiter);
          return;
        }
      }
      (urgent ? this.urgent : this.queue).set(key, {
        key,
        bundle,
        hostId: host.id,
        hostName: host.name,
        inventoryId,
        inventoryVersion: host.inventoryVersion,
        inventorySha256: host.inventorySha256,
        waiters: [waiter],
      });
      this.pump();
    });
  }

  private pump(): void {
    while (!this.closed && this.pool.idle > 0 && this.queued > 0) {
      const queue = this.urgent.size > 0 ? this.urgent : this.queue;
      const entry = queue.values().next().value!;
      queue.delete(entry.key);
      this.running.add(entry);
      this.stats.started += 1;
      const started = performance.now();
      this.log.debug(
        { bundle: entry.bundle.name, digest: entry.bundle.digest.slice(0, 12), host: entry.hostName },
        'predicting',
      );
      const job = {
        bundleDir: this.store.treePath(entry.bundle.digest),
        digest: entry.bundle.digest,
        host: entry.hostName,
        inventoryId: entry.inventoryId,
        inventorySha256: entry.inventorySha256,
      };
      this.pool.run(job).then(
        (result) => this.finish(entry, result, null, started),
        (error: Error) => this.finish(entry, null, error, started),
      );
    }
  }

  private finish(entry: Entry, result: CheckResult | null, error: Error | null, started: number): void {
    this.running.delete(entry);
    try {
      if (result === null) throw error ?? new Error('prediction failed');
      if (this.closed || !this.db.db.open) throw new Error('prediction workers stopped');
      const { bundle } = entry;
      const ms = Math.round(performance.now() - started);
      if (this.db.saveCheckIfCurrent(bundle.id, entry.hostId, entry.inventoryId, result)) {
        this.stats.stored += 1;
        this.log.info(
          {
            bundle: bundle.name,
            digest: bundle.digest.slice(0, 12),
            host: entry.hostName,
            runs: result.runs,
            problems: result.problems.length,
            ms,
          },
          'predicted',
        );
      } else {
        this.stats.stale += 1;
        this.log.info(
          { bundle: bundle.name, digest: bundle.digest.slice(0, 12), host: entry.hostName, ms },
          "prediction not stored: the host's inventory changed or the host was removed meanwhile",
        );
      }
      for (const w of entry.waiters) w.resolve(result);
    } catch (failure) {
      if (!this.closed) this.stats.failed += 1;
      for (const w of entry.waiters) w.reject(failure as Error);
    }
    this.pump();
  }
}
