// Predictions from stored inventories: every bundle on a host whose inventory changed, and a new
// bundle on every host that has an inventory. A host never deployed to gets its verdict this way.

import type { Logger } from 'pino';
import { predictBundle } from '../compat/check-bundle.js';
import type { CompatDatabase, StoredBundle, StoredHost } from './db/database.js';
import type { BundleStore } from './bundle-store.js';
import { InventoryCache } from './inventory-intake.js';
import type { CheckResult } from '../proto/types.js';

export class Predictor {
  private readonly inventories: InventoryCache;

  constructor(private readonly db: CompatDatabase, private readonly store: BundleStore, private readonly log: Logger) {
    this.inventories = new InventoryCache(db);
  }

  predict(bundle: StoredBundle, host: StoredHost): CheckResult | null {
    if (host.inventoryId === null) return null;
    const started = performance.now();
    const result = predictBundle(this.inventories.get(host.inventoryId), this.store.treePath(bundle.digest), {
      digest: bundle.digest, host: host.name, inventorySha256: host.inventorySha256,
    });
    this.db.saveCheck(bundle.id, host.id, result, host.inventoryId);
    this.log.info({ bundle: bundle.name, digest: bundle.digest.slice(0, 12), host: host.name, runs: result.runs, problems: result.problems.length, ms: Math.round(performance.now() - started) }, 'predicted');
    return result;
  }

  predictBundleEverywhere(bundle: StoredBundle): void {
    for (const host of this.db.hostsWithInventory()) this.safely(() => this.predict(bundle, host));
  }

  predictHost(hostName: string): void {
    this.safely(() => {
      const host = this.db.host(hostName);
      if (host === null) return;
      for (const bundle of this.db.bundles()) this.safely(() => this.predict(bundle, host));
    });
  }

  private safely(work: () => unknown): void {
    // Scheduled predictions may outlive a server that is stopping.
    if (!this.db.db.open) return;
    try {
      work();
    } catch (error) {
      this.log.error({ err: error }, 'prediction failed');
    }
  }
}
