// Predictions run on worker threads, off the server's event loop.
//   - Over real gRPC on loopback: while the workers predict a new bundle on hosts with large
//     inventories (this machine's), a connected agent's heartbeats and reports are acknowledged
//     before the prediction running at that moment finishes; the predictions stored equal what the
//     synchronous path (predictBundle on the parsed inventory, as the server used to) computes.
//   - Order and idempotence, with one worker: a newer inventory supersedes queued predictions for
//     the older one, asking twice joins the queued prediction, one asked for (Check) goes first, a
//     result computed for an inventory the host no longer has is not stored, close() stops the workers.
//   - SIGTERM while a prediction runs: the server process stops cleanly.
// No wall-clock thresholds: "during" is observed through the predictor's own counters.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ControlClient } from '../../src/client/control-client.js';
import { uploadBundle } from '../../src/client/commands/bundles.js';
import { collectInventory } from '../../src/inventory/collect.js';
import type { Inventory } from '../../src/inventory/format.js';
import { pyreloV1 } from '../../src/proto/load.js';
import type { CheckResult, ServerMessage } from '../../src/proto/messages.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { predictBundle } from '../../src/compat/check-bundle.js';
import { CompatDatabase, type StoredBundle, type StoredHost } from '../../src/server/db/database.js';
import { BundleStore } from '../../src/server/bundle-store.js';
import { factsOf, takeInventory } from '../../src/server/inventory-worker.js';
import { decodeInventory } from '../../src/inventory/read.js';
import { DEFAULT_INVENTORY_LIMITS } from '../../src/server/settings.js';
import { Predictor } from '../../src/server/predictor.js';
import { createLogger } from '../../src/common/log.js';
import { initPki } from '../../src/server/pki.js';
import { LogCapture, makeBundle, startTestServer, type TestServer, verifiedRun } from './fixtures.js';

let work: string;
let hostLibc: string;
let staticBundle: string;
/**
 * This machine's inventory, and variants: another collection time (a distinct inventory to parse),
 * and one without libc.
 */
let inventory: Inventory;
// Inventories are told apart by content, not by collectedAt (src/inventory/content-hash.ts).
const variant = (n: number): Buffer =>
  Buffer.from(JSON.stringify({ ...inventory, source: `/variant-${n}`, collectedAt: `2026-01-0${n}T00:00:00.000Z` }));
let withoutLibc: Buffer;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-predictions-test-'));
  hostLibc = await makeBundle(work, 'app-host-libc', 'host-libc');
  staticBundle = await makeBundle(work, 'app-static', 'static');
  inventory = collectInventory('/');
  const files = Object.fromEntries(Object.entries(inventory.files).filter(([path]) => !/\/libc\.so\.6$/.test(path)));
  withoutLibc = Buffer.from(JSON.stringify({ ...inventory, files, collectedAt: '2026-02-01T00:00:00.000Z' }));
});

after(() => rmSync(work, { recursive: true, force: true }));

/** What the server computed synchronously before: predictBundle on the parsed stored inventory. */
function synchronousPrediction(
  db: CompatDatabase,
  storeDir: string,
  bundle: StoredBundle,
  host: StoredHost,
): CheckResult {
  const parsed = decodeInventory(db.inventoryBody(host.inventoryId!), 'stored inventory').inventory;
  return predictBundle(parsed, join(storeDir, 'trees', bundle.digest), {
    digest: bundle.digest,
    host: host.name,
    inventorySha256: host.inventorySha256,
  });
}

const comparable = (r: CheckResult | null): unknown => (r === null ? null : { ...r, checkedAt: '' });

test(
  'over gRPC: heartbeats and reports are acknowledged while a prediction runs; stored predictions equal the ' +
    'synchronous ones',
  { timeout: 180_000 },
  async (t) => {
    const ts: TestServer = await startTestServer(join(work, 'server'));
    const control = new ControlClient(ts.server.controlAddress);
    const { predictor, db } = ts.server;
    try {
      // Three hosts with distinct large inventories, before any bundle exists: nothing to predict yet.
      const names = ['big-1', 'big-2', 'no-libc'];
      const bodies = [variant(1), variant(2), withoutLibc];
      for (const [i, name] of names.entries())
        await control.call('ImportInventory', { name, inventory: gzipSync(bodies[i]!, { level: 1 }) });
      assert.equal(predictor.stats.started, 0);

      // An agent, connected, playing ping-pong with heartbeats from now on.
      const token = await control.call('CreateEnrollToken', { name: 'pinger' });
      const state = new AgentState(join(work, 'agent'));
      await enroll(state, ts.server.enrollAddress, token.token, readFileSync(join(ts.dir, 'pki', 'ca.crt')));
      const id = state.identity();
      const client = new (pyreloV1().AgentHub)(
        ts.server.agentAddress,
        grpc.credentials.createSsl(id.ca, id.key, id.cert),
      );
      const stream = client.Connect();
      stream.write({
        body: 'hello',
        hello: { host: 'pinger', agentVersion: 't', inventory: Buffer.alloc(0), inventorySha256: '' },
      });
      const digest = createHash('sha256').update(readFileSync(hostLibc)).digest('hex');
      /** Heartbeats (and reports) answered while the prediction that was running when they were sent still ran. */
      let duringPrediction = 0;
      let reportsDuringPrediction = 0;
      let acks = 0;
      let sequence = 0;
      let sentWhile: number | null = null;
      let stopped = false;
      let reportSent = false;
      // Which prediction is running, as an identity: jobs started so far, when one is running.
      const runningJob = (): number | null => (predictor.busy > 0 ? predictor.stats.started : null);
      const ping = (): void => {
        if (stopped) return;
        sentWhile = runningJob();
        // Once during a prediction, a report about the bundle being predicted (stored before its predictions start).
        if (sentWhile !== null && !reportSent && db.bundleByDigest(digest) !== null) {
          reportSent = true;
          const result: CheckResult = { ...verifiedRun('pinger', digest), checkedAt: '' };
          stream.write({ body: 'report', report: { reportId: 'during-1', orderId: '', error: '', result } });
          return;
        }
        stream.write({ body: 'heartbeat', heartbeat: { sequence: ++sequence, sentAt: '' } });
      };
      stream.on('data', (m: ServerMessage) => {
        if (m.body === 'welcome') {
          ping();
          return;
        }
        if (m.body !== 'heartbeatAck' && m.body !== 'ack') return;
        acks += 1;
        if (sentWhile !== null && runningJob() === sentWhile) {
          if (m.body === 'ack') reportsDuringPrediction += 1;
          else duringPrediction += 1;
        }
        setImmediate(ping);
      });
      stream.on('error', () => {});

      const upload = uploadBundle(control, hostLibc);
      const acksBefore = acks;
      const bundleInfo = await upload; // answered once every host's prediction is stored
      stopped = true;
      stream.end();
      client.close();

      t.diagnostic(
        `${acks - acksBefore} heartbeats and reports answered while the bundle was added and predicted; ` +
          `${duringPrediction} heartbeats and ${reportsDuringPrediction} report sent and answered within one ` +
          'running prediction',
      );
      assert.equal(predictor.stats.started, 3, 'one prediction per host with an inventory');
      assert.equal(predictor.stats.stored, 3);
      assert.ok(acks > acksBefore, 'the agent was answered while the bundle was added');
      assert.ok(
        duringPrediction >= 1,
        'a heartbeat sent while a prediction ran was acknowledged before that prediction finished (' +
          `${duringPrediction} of ${acks - acksBefore})`,
      );
      assert.equal(
        reportsDuringPrediction,
        1,
        'a report sent while a prediction ran was stored and acknowledged before it finished',
      );
      assert.equal(db.hasReport('during-1'), true);

      // The stored predictions are the synchronous path's, problems included.
      const bundle = db.bundleByDigest(bundleInfo.digest)!;
      for (const name of names) {
        const host = db.host(name)!;
        const stored = db.check(bundle, host, 'predicted');
        assert.deepEqual(
          comparable(stored),
          comparable(synchronousPrediction(db, join(ts.dir, 'bundles'), bundle, host)),
          name,
        );
      }
      assert.equal(db.check(bundle, db.host('big-1')!, 'predicted')?.runs, true);
      const broken = db.check(bundle, db.host('no-libc')!, 'predicted')!;
      assert.equal(broken.runs, false);
      assert.match(broken.problems[0]?.message ?? '', /libc\.so\.6: cannot open shared object file/);

      // The Check RPC awaits its worker and answers the same.
      const answer = await control.call('Check', { bundle: bundle.digest, host: 'no-libc', verify: false });
      assert.deepEqual(comparable(answer.predicted), comparable(broken));
    } finally {
      control.close();
      await ts.server.stop(500);
    }
  },
);

test(
  'one worker: a newer inventory supersedes queued predictions, asking twice joins, a stale result is not stored',
  { timeout: 120_000 },
  async () => {
    const dir = join(work, 'order');
    const db = new CompatDatabase(join(dir, 'compat.sqlite'));
    const store = new BundleStore(join(dir, 'bundles'));
    const logs = new LogCapture();
    const predictor = new Predictor(db, store, createLogger('test', 'debug', logs), 1);
    try {
      const bundles: StoredBundle[] = [];
      for (const archive of [hostLibc, staticBundle]) {
        const incoming = store.incoming();
        incoming.write(0, readFileSync(archive));
        const stored = await incoming.commit('', archive);
        const m = stored.manifest;
        bundles.push(
          db.addBundle({
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
          }),
        );
      }
      const store3 = (body: Buffer): number => {
        const parsed = takeInventory({ bytes: body, source: 'test', limits: DEFAULT_INVENTORY_LIMITS });
        return db.storeInventory(parsed.sha256, parsed.gzipped, parsed.size);
      };
      const facts = factsOf(inventory);
      const [a, b, c] = [store3(variant(1)), store3(withoutLibc), store3(variant(3))];
      db.setHostInventory('x', facts, a, 'import', false);
      db.setHostInventory('y', facts, c, 'import', false);

      // All of this happens in one turn of the event loop: no result can come back in between.
      const y1 = predictor.predictHost('y'); // (y, bundle 1) starts on the only worker, (y, bundle 2) queued
      assert.equal(predictor.busy, 1);
      assert.equal(predictor.queued, 1);
      const xOld = predictor.predict(bundles[0]!, db.host('x')!); // (x, bundle 1) on inventory a, queued
      const xOldAll = predictor.predictHost('x'); // joins it, queues (x, bundle 2) on a
      assert.equal(predictor.queued, 3, 'asking again for the same inventory joins the queued prediction');
      db.setHostInventory('x', facts, b, 'import', false);
      const xNew = predictor.predictHost('x'); // a newer inventory: both queued x predictions now use b
      assert.equal(predictor.queued, 3);
      assert.equal(predictor.stats.superseded, 2);
      db.setHostInventory('y', facts, a, 'import', false);
      // (y, bundle 1) is running on c: a new one queued on a; (y, bundle 2) superseded
      const y2 = predictor.predictHost('y');
      assert.equal(predictor.queued, 4);
      assert.equal(predictor.stats.superseded, 3);

      const firstX = await xOld;
      assert.equal(
        db.check(bundles[1]!, db.host('y')!, 'predicted'),
        null,
        'a prediction someone waits for goes before the background ones queued earlier',
      );
      await Promise.all([xOldAll, xNew, y1, y2]);
      assert.equal(
        firstX?.inventorySha256,
        db.host('x')!.inventorySha256,
        'a waiter of a superseded prediction gets the newer one',
      );
      assert.equal(firstX?.runs, false, 'inventory b has no libc');
      assert.equal(predictor.stats.started, 5, '(y,1) on c, then (y,2), (x,1), (x,2), (y,1) on the newer inventories');
      assert.equal(predictor.stats.stale, 1, '(y, bundle 1) computed on c, which y no longer has: not stored');
      assert.equal(predictor.stats.stored, 4);
      for (const name of ['x', 'y']) {
        const host = db.host(name)!;
        for (const bundle of bundles) {
          const stored = db.check(bundle, host, 'predicted');
          assert.equal(
            stored?.inventorySha256,
            host.inventorySha256,
            `${name} x ${bundle.name}: predicted on the host's current inventory`,
          );
          assert.deepEqual(
            comparable(stored),
            comparable(synchronousPrediction(db, store.dir, bundle, host)),
            `${name} x ${bundle.name}`,
          );
        }
      }
      assert.match(logs.text, /prediction not stored: the host's inventory changed/);

      // Stopping: what is queued or running fails with a clear error; nothing runs afterwards.
      db.setHostInventory('x', facts, c, 'import', false);
      const cut = predictor.predictHost('x');
      const pending = assert.rejects(predictor.predict(bundles[0]!, db.host('x')!), /prediction workers stopped/);
      assert.equal(predictor.busy, 1);
      await predictor.close();
      await cut; // predictHost logs, never rejects
      await pending;
      await assert.rejects(predictor.predict(bundles[0]!, db.host('x')!), /prediction workers stopped/);
      assert.equal(predictor.busy, 0);
    } finally {
      await predictor.close();
      db.close();
    }
  },
);

test(
  'SIGTERM while predictions run: the server stops cleanly and terminates its workers',
  { timeout: 120_000 },
  async (t) => {
    const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');
    const data = join(work, 'sigterm');
    await initPki(data);
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'server',
        '--data',
        data,
        '--listen',
        '127.0.0.1:0',
        '--enroll-listen',
        '127.0.0.1:0',
        '--log-level',
        'debug',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const tick = setInterval(() => {
          if (out.includes('"control"')) {
            clearInterval(tick);
            resolve();
          }
        }, 20);
        void exited.then(() => {
          clearInterval(tick);
          reject(new Error(`server exited: ${out}`));
        });
      });
      const control = new ControlClient(`unix:${join(data, 'control.sock')}`);
      await control.call('ImportInventory', { name: 'big', inventory: gzipSync(variant(5), { level: 1 }) });
      const upload = new Promise<void>((resolve) => {
        const call = control.client.AddBundle(() => resolve());
        call.write({ digest: '', offset: 0, totalSize: 0, data: readFileSync(hostLibc), name: 'x.tar.gz' });
        call.end();
      });
      // The prediction starts once the bundle is stored; stop the server as soon as a worker has it.
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          if (out.includes('"msg":"predicting"')) {
            clearInterval(tick);
            resolve();
          }
        }, 1);
      });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out.slice(-2000));
      await upload;
      control.close();
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; time: number; busy?: boolean });
      const at = (msg: string) => lines.findIndex((l) => l.msg === msg);
      // The prediction was running when the signal came: started before it, not finished before it.
      // The upload that asked for it is a call in progress, which the stop lets finish within its
      // grace (docs: server.ts), so it may end after the signal; then the worker that ran it is
      // terminated, and only then does the server say it stopped.
      assert.ok(at('predicting') >= 0 && at('predicting') < at('stopping'), out.slice(-2000));
      assert.ok(
        at('predicted') === -1 || at('predicted') > at('stopping'),
        `the prediction finished before the signal:\n${out.slice(-2000)}`,
      );
      const terminated = lines.flatMap((l, i) => (l.msg === 'prediction worker terminated' ? [i] : []));
      assert.ok(terminated.length >= 1, `no prediction worker was terminated:\n${out.slice(-2000)}`);
      assert.ok(
        terminated.every((i) => i > at('stopping') && i > at('predicted') && i < at('server stopped')),
        out.slice(-2000),
      );
      const finished =
        at('predicted') === -1
          ? 'never finished'
          : `finished ${lines[at('predicted')]!.time - lines[at('stopping')]!.time} ms after it`;
      t.diagnostic(
        `signal ${lines[at('stopping')]!.time - lines[at('predicting')]!.time} ms after the prediction ` +
          `started; the prediction ${finished}`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  },
);
