// Predictions from stored inventories: every bundle on a host whose inventory changed, and a new
// bundle on every host that has an inventory. A host never deployed to gets its verdict this way.
//
// The loader check is CPU-heavy and synchronous, so it runs in a small pool of worker threads
// (prediction-pool.ts, predict-worker.ts) while the event loop goes on serving heartbeats and
// reports; the main thread only queues, and stores what comes back.
//
// A prediction depends on the bundle and the inventory's content only, never on the host's name
// (issue 22, "Predictions are not repeated"): one queue entry per bundle x inventory, computed
// once, and stored for every host that has that inventory (its targets). Per host:
//   - asking again for the same inventory joins the entry queued or running (idempotent);
//   - a newer inventory of the host moves the host (and its waiters, who get the newer result) out
//     of a queued entry for its older one, into the entry for the newer one;
//   - a prediction someone waits for (predict(): the Check RPC) goes before background ones;
//   - a result is stored only if the host still has the inventory it was computed for (checked
//     in the same transaction as the write), so a late result for an older inventory, or for a
//     host removed meanwhile, is dropped and never overwrites a newer one.
// Background entries wait grouped by inventory (prediction-queue.ts), so a worker predicts every
// bundle waiting for an inventory while that inventory is in its cache.

import type { Logger } from 'pino';
import type { CompatDatabase, StoredBundle, StoredHost } from './db/database.js';
import type { BundleStore } from './bundle-store.js';
import { PredictionPool } from './prediction-pool.js';
import { PredictionQueue } from './prediction-queue.js';
import type { CheckResult } from '../proto/messages.js';
import { localWrites, type DatabaseWrites } from './writer-thread.js';

interface Waiter {
  resolve(result: CheckResult): void;
  reject(error: Error): void;
}

/** A host the prediction is stored for, and who waits for its answer. */
interface Target {
  readonly hostId: number;
  readonly hostName: string;
  readonly inventoryVersion: number;
  readonly waiters: Waiter[];
}

interface Entry {
  /** bundle id : inventory id */
  readonly key: string;
  readonly bundle: StoredBundle;
  readonly inventoryId: number;
  readonly inventorySha256: string;
  /** By host id. */
  readonly targets: Map<number, Target>;
  urgent: boolean;
}

export interface PredictorStats {
  /** Jobs handed to a worker: predictions computed, one per bundle x inventory. */
  started: number;
  /** Results stored, one per host. */
  stored: number;
  /** Hosts moved out of a queued entry because a newer inventory of theirs replaced its inventory. */
  superseded: number;
  /** Results dropped, one per host: the host's inventory changed (or the host went) while they ran. */
  stale: number;
  failed: number;
}

export class Predictor {
  private readonly pool: PredictionPool;
  /** Waiting for a worker: asked for by a caller waiting (Check), in order, then background work. */
  private readonly urgent = new PredictionQueue<Entry>();
  private readonly queue = new PredictionQueue<Entry>();
  /** The queued entry each host x bundle is a target of, by `hostId:bundleId`. */
  private readonly queuedFor = new Map<string, Entry>();
  /** Running on a worker (at most one per worker). */
  private readonly running = new Set<Entry>();
  private closed = false;
  readonly stats: PredictorStats = { started: 0, stored: 0, superseded: 0, stale: 0, failed: 0 };

  constructor(
    private readonly db: CompatDatabase,
    private readonly store: BundleStore,
    private readonly log: Logger,
    workers = 1,
    /** Where predictions are stored: the server's writer thread; by default `db`'s connection. */
    private readonly writes: DatabaseWrites = localWrites(db),
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

  /** Predictions (bundle x inventory) waiting for a worker. */
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
      for (const entry of queue.values())
        for (const t of entry.targets.values()) for (const w of t.waiters) w.reject(stopped);
      queue.clear();
    }
    this.queuedFor.clear();
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
    return new Promise<CheckResult>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      const hostKey = `${host.id}:${bundle.id}`;
      const queued = this.queuedFor.get(hostKey);
      let waiters = [waiter];
      if (queued !== undefined) {
        const target = queued.targets.get(host.id)!;
        if (queued.inventoryId === inventoryId || host.inventoryVersion <= target.inventoryVersion) {
          // The same inventory (or an older one, asked late): join.
          target.waiters.push(waiter);
          if (urgent) this.makeUrgent(queued);
          return;
        }
        // A newer inventory: the host leaves the entry for its older one, with its waiters.
        this.stats.superseded += 1;
        queued.targets.delete(host.id);
        this.queuedFor.delete(hostKey);
        if (queued.targets.size === 0) (queued.urgent ? this.urgent : this.queue).delete(queued);
        waiters = [...target.waiters, waiter];
        urgent ||= queued.urgent;
      }
      const key = `${bundle.id}:${inventoryId}`;
      for (const entry of this.running) {
        if (entry.key !== key) continue;
        // Already being computed for this inventory: the host is one more target of it.
        const target = entry.targets.get(host.id);
        if (target !== undefined) target.waiters.push(...waiters);
        else this.addTarget(entry, host, waiters);
        return;
      }
      let entry = this.urgent.get(inventoryId, key) ?? this.queue.get(inventoryId, key);
      if (entry === undefined) {
        entry = { key, bundle, inventoryId, inventorySha256: host.inventorySha256, targets: new Map(), urgent };
        (urgent ? this.urgent : this.queue).add(entry);
      } else if (urgent) {
        this.makeUrgent(entry);
      }
      const target = entry.targets.get(host.id);
      if (target !== undefined) target.waiters.push(...waiters);
      else this.addTarget(entry, host, waiters);
      this.queuedFor.set(hostKey, entry);
      this.pump();
    });
  }

  private addTarget(entry: Entry, host: StoredHost, waiters: Waiter[]): void {
    entry.targets.set(host.id, {
      hostId: host.id,
      hostName: host.name,
      inventoryVersion: host.inventoryVersion,
      waiters,
    });
  }

  private makeUrgent(entry: Entry): void {
    if (entry.urgent) return;
    this.queue.delete(entry);
    entry.urgent = true;
    this.urgent.add(entry);
  }

  private pump(): void {
    while (!this.closed && this.pool.idle > 0 && this.queued > 0) {
      const entry = (this.urgent.take() ?? this.queue.take())!;
      for (const hostId of entry.targets.keys()) this.queuedFor.delete(`${hostId}:${entry.bundle.id}`);
      this.running.add(entry);
      this.stats.started += 1;
      const started = performance.now();
      const first = entry.targets.values().next().value!;
      this.log.debug(
        {
          bundle: entry.bundle.name,
          digest: entry.bundle.digest.slice(0, 12),
          inventory: entry.inventorySha256.slice(0, 12),
          hosts: entry.targets.size,
        },
        'predicting',
      );
      const job = {
        bundleDir: this.store.treePath(entry.bundle.digest),
        digest: entry.bundle.digest,
        host: first.hostName,
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
    const targets = [...entry.targets.values()];
    const { bundle } = entry;
    const ms = Math.round(performance.now() - started);
    // The same verdict for every host with this inventory, under each host's own name.
    const results =
      result === null ? [] : targets.map((t) => ({ hostId: t.hostId, result: { ...result, host: t.hostName } }));
    // Stored on the writer thread when the server has one (writer-thread.ts): the loop never waits for the lock.
    const saving =
      result === null
        ? Promise.reject(error ?? new Error('prediction failed'))
        : this.closed || !this.db.db.open
          ? Promise.reject(new Error('prediction workers stopped'))
          : this.writes.run({
              op: 'saveChecksIfCurrent',
              bundleId: bundle.id,
              inventoryId: entry.inventoryId,
              results,
            });
    saving.then(
      (saved) => {
        const storedFor = targets.filter((_, i) => saved[i]).map((t) => t.hostName);
        const staleFor = targets.filter((_, i) => !saved[i]).map((t) => t.hostName);
        this.stats.stored += storedFor.length;
        this.stats.stale += staleFor.length;
        const what = {
          bundle: bundle.name,
          digest: bundle.digest.slice(0, 12),
          inventory: entry.inventorySha256.slice(0, 12),
          ms,
        };
        if (storedFor.length > 0)
          this.log.info(
            {
              ...what,
              hosts: storedFor.length,
              host: storedFor[0],
              runs: result!.runs,
              problems: result!.problems.length,
            },
            'predicted',
          );
        if (staleFor.length > 0)
          this.log.info(
            { ...what, hosts: staleFor.length, host: staleFor[0] },
            "prediction not stored: the host's inventory changed or the host was removed meanwhile",
          );
        targets.forEach((t, i) => {
          for (const w of t.waiters) w.resolve(results[i]!.result);
        });
      },
      (failure: Error) => {
        if (!this.closed) this.stats.failed += 1;
        for (const t of targets) for (const w of t.waiters) w.reject(failure);
      },
    );
    this.pump();
  }
}
