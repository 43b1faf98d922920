// Inventories stored pre-indexed (src/inventory/inventory-index.ts): the predictions the server's
// workers compute from the index and the objects stored once by hash equal the old path's
// (predictBundle on the whole stored inventory, parsed), for this machine's inventory, a variant
// without libc, and the lab roots' inventories (bullseye, bookworm, trixie) when the lab is here;
// and identical objects of different inventories are stored once.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectInventory } from '../../src/inventory/collect.js';
import type { Inventory } from '../../src/inventory/format.js';
import { decodeInventory } from '../../src/inventory/read.js';
import { predictBundle } from '../../src/compat/check-bundle.js';
import { indexInventory } from '../../src/inventory/inventory-index.js';
import { CompatDatabase, type StoredBundle } from '../../src/server/db/database.js';
import { BundleStore } from '../../src/server/bundle-store.js';
import { takeInventory } from '../../src/server/inventory-worker.js';
import { DEFAULT_INVENTORY_LIMITS } from '../../src/server/settings.js';
import { Predictor } from '../../src/server/predictor.js';
import { createLogger } from '../../src/common/log.js';
import type { CheckResult } from '../../src/proto/messages.js';
import { labSkipReason } from '../lab/prerequisites.js';
import { ensureRoot } from '../lab/ensure-root.js';
import { makeBundle } from './fixtures.js';

let work: string;
const archives: string[] = [];
/** name -> inventory */
const inventories = new Map<string, Inventory>();

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-indexed-inventory-test-'));
  archives.push(await makeBundle(work, 'app-host-libc', 'host-libc'), await makeBundle(work, 'app-static', 'static'));
  const here = collectInventory('/');
  inventories.set('here', here);
  inventories.set('here-again', { ...here, source: '/again' });
  const files = Object.fromEntries(Object.entries(here.files).filter(([path]) => !/\/libc\.so\.6$/.test(path)));
  inventories.set('no-libc', { ...here, files });
  if (labSkipReason(['root', 'debootstrap']) === undefined) {
    for (const name of ['bullseye', 'bookworm', 'trixie'] as const)
      inventories.set(name, collectInventory(await ensureRoot(name)));
  }
});

after(() => rmSync(work, { recursive: true, force: true }));

const comparable = (r: CheckResult | null): unknown => (r === null ? null : { ...r, checkedAt: '' });

test('predictions from the indexed store equal the old path on every inventory', { timeout: 600_000 }, async (t) => {
  t.diagnostic(`inventories: ${[...inventories.keys()].join(', ')}`);
  const db = new CompatDatabase(join(work, 'compat.sqlite'));
  const store = new BundleStore(join(work, 'bundles'));
  const predictor = new Predictor(db, store, createLogger('test', 'silent'), 1);
  try {
    for (const [name, inventory] of inventories) {
      const taken = takeInventory({
        bytes: Buffer.from(JSON.stringify(inventory)),
        source: name,
        limits: DEFAULT_INVENTORY_LIMITS,
      });
      const id = db.storeInventory(taken.sha256, taken.gzipped, taken.size, taken.indexed);
      db.setHostInventory(name, taken.facts, id, 'import', false);
    }
    const indexed = db.db.prepare('SELECT count(*) AS n FROM inventories WHERE index_json IS NOT NULL').get() as {
      n: number;
    };
    assert.equal(indexed.n, inventories.size, 'every inventory stored with its index');
    const here = inventories.get('here')!;
    const distinctHere = new Set(
      takeInventory({
        bytes: Buffer.from(JSON.stringify(here)),
        source: 'here',
        limits: DEFAULT_INVENTORY_LIMITS,
      }).indexed.objects.map((o) => o.sha256),
    ).size;
    if (inventories.size === 3)
      assert.equal(db.inventoryObjectCount(), distinctHere, "the variants' objects are this machine's, stored once");
    else assert.ok(db.inventoryObjectCount() < distinctHere * 4, 'identical objects stored once');

    const bundles: StoredBundle[] = [];
    for (const archive of archives) {
      const incoming = store.incoming();
      incoming.write(0, readFileSync(archive));
      const stored = await incoming.commit('', archive);
      const m = stored.manifest;
      const bundle = db.addBundle({
        digest: stored.digest,
        name: m.name,
        size: stored.size,
        libc: m.libc,
        glibcFloor: m.glibcFloor,
        kernelFloor: m.kernelFloor,
        pythonVersion: m.python.version,
        archiveName: 'x',
        manifest: stored.manifestText,
        elf: [],
      });
      bundles.push(bundle);
      await predictor.predictBundleEverywhere(bundle);
    }
    assert.equal(predictor.stats.failed, 0);
    let loads = 0;
    for (const name of inventories.keys()) {
      const host = db.host(name)!;
      const parsed = decodeInventory(db.inventoryBody(host.inventoryId!), 'stored inventory').inventory;
      for (const bundle of bundles) {
        const stored = db.check(bundle, host, 'predicted');
        const old = predictBundle(parsed, join(store.dir, 'trees', bundle.digest), {
          digest: bundle.digest,
          host: name,
          inventorySha256: host.inventorySha256,
        });
        assert.deepEqual(comparable(stored), comparable(old), `${name} x ${bundle.name}`);
        if (old.loads) loads += 1;
      }
    }
    assert.ok(loads > 0 && loads < inventories.size * bundles.length, 'some predictions load, some do not');
  } finally {
    await predictor.close();
    db.close();
  }
});

test('the index keeps the host NSS facts, which the bundled-glibc warnings need', () => {
  for (const [name, inventory] of inventories) {
    assert.deepEqual(indexInventory(inventory).index.nss, inventory.nss, name);
  }
  assert.notEqual(inventories.get('here')!.nss, undefined, 'this machine has NSS facts');
});
