// Predictions are computed once per bundle x inventory content and shared by every host with that
// inventory (issue 22, "Predictions are not repeated"; src/server/predictor.ts). Over real gRPC on
// loopback, with the server's real SQLite database and prediction workers: five hosts import one
// inventory and a sixth another; adding a bundle computes two predictions, and each of the six
// hosts gets its verdict stored under its own name, equal to what predictBundle computes for it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ControlClient } from '../../src/client/control-client.js';
import { uploadBundle } from '../../src/client/commands/bundles.js';
import { collectInventory } from '../../src/inventory/collect.js';
import type { Inventory } from '../../src/inventory/format.js';
import { decodeInventory } from '../../src/inventory/read.js';
import { predictBundle } from '../../src/compat/check-bundle.js';
import type { CheckResult } from '../../src/proto/messages.js';
import { makeBundle, startTestServer, type TestServer } from './fixtures.js';

let work: string;
let bundleArchive: string;
let inventory: Inventory;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-shared-predictions-test-'));
  bundleArchive = await makeBundle(work, 'shared-app', 'host-libc');
  inventory = collectInventory('/');
});

after(() => rmSync(work, { recursive: true, force: true }));

const comparable = (r: CheckResult | null): unknown => (r === null ? null : { ...r, checkedAt: '' });

test(
  'N hosts with one inventory: one prediction computed, every host gets the stored verdict',
  { timeout: 180_000 },
  async () => {
    const ts: TestServer = await startTestServer(join(work, 'server'));
    const control = new ControlClient(ts.server.controlAddress);
    const { predictor, db } = ts.server;
    try {
      const shared = gzipSync(JSON.stringify(inventory), { level: 1 });
      const files = Object.fromEntries(
        Object.entries(inventory.files).filter(([path]) => !/\/libc\.so\.6$/.test(path)),
      );
      const other = gzipSync(JSON.stringify({ ...inventory, files }), { level: 1 });
      const sharing = ['a', 'b', 'c', 'd', 'e'].map((x) => `same-${x}`);
      for (const name of sharing) await control.call('ImportInventory', { name, inventory: shared });
      await control.call('ImportInventory', { name: 'no-libc', inventory: other });
      assert.equal(db.inventoryCount(), 2);

      const info = await uploadBundle(control, bundleArchive); // answered once every prediction is stored
      assert.equal(predictor.stats.started, 2, 'one prediction per distinct inventory, not one per host');
      assert.equal(predictor.stats.stored, 6, 'stored for every host');

      // Every host has its verdict, as the control service reports it.
      const answer = await control.call('Compat', { bundle: info.digest });
      const verdicts = new Map(answer.hosts.map((h) => [h.host!.name, h]));
      const bundle = db.bundleByDigest(info.digest)!;
      for (const name of [...sharing, 'no-libc']) {
        const host = db.host(name)!;
        const stored = db.check(bundle, host, 'predicted');
        assert.equal(
          verdicts.get(name)?.verdict,
          name === 'no-libc' ? 'fails' : 'predicted',
          `${name}: its verdict through Compat`,
        );
        assert.deepEqual(
          comparable(verdicts.get(name)?.result ?? null),
          comparable(stored),
          `${name}: Compat gives the stored result`,
        );
        assert.equal(stored?.host, name, `${name}: stored under its own name`);
        const parsed = decodeInventory(db.inventoryBody(host.inventoryId!), 'stored inventory').inventory;
        const alone = predictBundle(parsed, join(ts.dir, 'bundles', 'trees', bundle.digest), {
          digest: bundle.digest,
          host: name,
          inventorySha256: host.inventorySha256,
        });
        assert.deepEqual(comparable(stored), comparable(alone), `${name}: what its own prediction gives`);
      }
      assert.equal(db.check(bundle, db.host('same-a')!, 'predicted')?.runs, true);
      assert.equal(db.check(bundle, db.host('no-libc')!, 'predicted')?.runs, false);

      // A host that later imports the shared inventory is predicted on its own: one more computation.
      await control.call('ImportInventory', { name: 'late', inventory: shared });
      await waitUntil(() => db.check(bundle, db.host('late')!, 'predicted') !== null);
      assert.equal(predictor.stats.started, 3);
    } finally {
      control.close();
      await ts.server.stop(500);
    }
  },
);

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(done(), 'timed out waiting');
}
