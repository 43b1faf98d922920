// Issue 13 item 4: inventories grew without bound. `collectedAt` was inside the hashed JSON, so two
// collections of an unchanged host never deduplicated: every agent restart uploaded and stored
// another body (4.5 MB for a Debian host), and no row was ever pruned. Against a real server
// process over real gRPC: the real agent daemon, collecting a real root (the lab's bookworm) and
// restarted 10 times, stores one inventory body and one version, uploading it once. A host whose
// inventory really changes keeps its last `inventoriesPerHost` versions (3 here), and bodies no
// longer named are deleted. An agent from before the content hash, which announces the sha256 of
// the JSON as sent, is still accepted and its inventory stored under the content hash.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { AgentDaemon } from '../../src/agent/daemon.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { inventoryContentSha256 } from '../../src/inventory/content-hash.js';
import { createLogger } from '../../src/common/log.js';
import type { HostInfo, ServerMessage } from '../../src/proto/messages.js';
import { ensureRoot, labSkipReason } from '../lab/lab.js';
import { LogCapture } from '../server/fixtures.js';
import { hello, openStream, startFleet, type Fleet } from './fleet.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const skip = labSkipReason();

let work: string;
let fleet: Fleet;
let root: string;

before(async () => {
  if (skip !== undefined) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-dedup-'));
  root = await ensureRoot('bookworm');
  fleet = await startFleet(work, { ...process.env, PYRELO_INVENTORIES_PER_HOST: '3' });
});

after(async () => {
  await fleet?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Reads the running server's database (WAL: a reader sees every committed write). */
function counted(host: string): { bodies: number; versions: number; version: number } {
  const db = new Database(join(fleet.dir, 'server', 'compat.sqlite'), { readonly: true });
  try {
    const bodies = (db.prepare('SELECT count(*) AS n FROM inventories').get() as { n: number }).n;
    const versions = (
      db
        .prepare('SELECT count(*) AS n FROM host_inventories h JOIN hosts ON hosts.id = h.host_id WHERE hosts.name = ?')
        .get(host) as { n: number }
    ).n;
    const version =
      (db.prepare('SELECT inventory_version AS v FROM hosts WHERE name = ?').get(host) as { v: number } | undefined)
        ?.v ?? 0;
    return { bodies, versions, version };
  } finally {
    db.close();
  }
}

async function hostInfo(name: string): Promise<HostInfo | undefined> {
  return (await fleet.control.call('ListHosts', {})).hosts.find((h) => h.name === name);
}

test(
  'the same agent restarting 10 times stores one inventory body and one version',
  { skip, timeout: 300_000 },
  async () => {
    const token = await fleet.control.call('CreateEnrollToken', { name: 'restarts' });
    const state = new AgentState(join(work, 'agent-restarts'));
    await enroll(state, fleet.enrollAddress, token.token, readFileSync(join(fleet.dir, 'server', 'pki', 'ca.crt')));
    const logs = new LogCapture();
    let lastSeen = '';
    for (let run = 1; run <= 10; run++) {
      const daemon = new AgentDaemon(
        state,
        { server: fleet.agentAddress, heartbeatSeconds: 1, minBackoffMs: 100, maxBackoffMs: 1000, inventoryRoot: root },
        createLogger('agent', 'info', logs),
      );
      daemon.start();
      const deadline = Date.now() + 60_000;
      let info = await hostInfo('restarts');
      // This run's hello is taken: connected, an inventory, and seen again since the last run.
      while (!(info?.connected && info.inventoryVersion > 0 && info.lastSeen !== lastSeen) && Date.now() < deadline) {
        await sleep(50);
        info = await hostInfo('restarts');
      }
      assert.ok(info?.connected && info.inventoryVersion > 0, `run ${run}: the hello was taken`);
      lastSeen = info.lastSeen;
      daemon.stop();
      while ((await hostInfo('restarts'))?.connected && Date.now() < deadline) await sleep(50);
      const now = counted('restarts');
      assert.deepEqual(now, { bodies: 1, versions: 1, version: 1 }, `after run ${run}`);
    }
  },
);

test(
  'a changing host keeps its last inventoriesPerHost versions; bodies nothing names are deleted',
  { skip, timeout: 120_000 },
  async () => {
    const base = collectInventory(root);
    const before = counted('changing').bodies; // every host's, so far
    for (let i = 1; i <= 6; i++) {
      const file = join(work, `changing-${i}.json.gz`);
      writeFileSync(
        file,
        gzipSync(JSON.stringify({ ...base, host: { ...base.host, kernelRelease: `6.1.0-${i}-amd64` } })),
      );
      const run = spawnSync(
        process.execPath,
        [MAIN, 'hosts', 'import', file, '--name', 'changing', '--control', fleet.control.address, '--json'],
        { encoding: 'utf8' },
      );
      assert.equal(run.status, 0, run.stderr);
      const now = counted('changing');
      assert.equal(now.version, i);
      assert.equal(now.versions, Math.min(i, 3), `after import ${i}: the last 3 versions`);
      assert.equal(now.bodies, before + Math.min(i, 3), `after import ${i}: one body per kept version`);
    }
  },
);

test(
  'an agent from before the content hash (sha256 of the JSON as sent) is accepted, stored by content',
  { skip, timeout: 60_000 },
  async () => {
    const inventory = { ...collectInventory(root), source: 'old-agent' };
    const json = Buffer.from(JSON.stringify(inventory));
    const sentSha256 = createHash('sha256').update(json).digest('hex');
    const client = await fleet.agent('old-agent');
    const stream = openStream(client, hello('old-agent', Buffer.alloc(0), sentSha256));
    const asked = (): ServerMessage | undefined => stream.received.find((m) => m.body === 'welcome');
    while (asked() === undefined) await sleep(20);
    stream.stream.write(hello('old-agent', gzipSync(json), sentSha256));
    const deadline = Date.now() + 20_000;
    while (
      (await hostInfo('old-agent'))?.inventorySha256 !== inventoryContentSha256(inventory) &&
      Date.now() < deadline
    )
      await sleep(50);
    assert.equal((await hostInfo('old-agent'))?.inventorySha256, inventoryContentSha256(inventory));
    stream.stream.end();
    client.close();
  },
);
