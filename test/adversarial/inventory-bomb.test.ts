// Issue 13 item 1: one small inventory from an enrolled agent must neither kill nor freeze the
// server. Replays the two payloads found: a 204 KB gzip of nested `[[[…]]]` (210 MB expanded; it
// took the server to 8.6 GB and out of memory) and a 254 KB gzip of `[[],[],…]` (87 million empty
// arrays; it froze the event loop for 164 s). Each is sent in a hello by an enrolled agent over real
// gRPC to a real server process while a second agent keeps sending heartbeats: the hostile stream
// is refused with one line naming the limit, the bystander's heartbeats are answered throughout,
// the server stays up (heap capped at 1.5 GiB here, so the unfixed server dies instead of eating
// the machine) and stores nothing of the bomb.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';
import { gzipSegments, hello, openStream, rssOf, startFleet, type Fleet, type OpenStream } from './fleet.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let work: string;
let fleet: Fleet;
let hostile: AgentHubClient;
let bystander: OpenStream;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-inventory-'));
  fleet = await startFleet(work, { ...process.env, NODE_OPTIONS: '--max-old-space-size=1536' });
  hostile = await fleet.agent('hostile');
  bystander = openStream(await fleet.agent('bystander'), hello('bystander'));
  const deadline = Date.now() + 10_000;
  while (!bystander.received.some((m) => m.body === 'welcome') && Date.now() < deadline) await sleep(20);
  assert.ok(
    bystander.received.some((m) => m.body === 'welcome'),
    'the bystander is welcomed',
  );
});

after(async () => {
  bystander?.stream.end();
  hostile?.close();
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

/**
 * Sends the bomb in a hello and, until that stream ends, a heartbeat from the bystander every
 * 100 ms, each waited for at most `patienceMs`. Returns how the hostile stream ended and the
 * slowest heartbeat answer.
 */
async function replay(
  bomb: Buffer,
  patienceMs: number,
): Promise<{ code: number; details: string; slowestMs: number; peakRss: number }> {
  const attack = openStream(hostile, hello('hostile', bomb));
  let ended: { code: number; details: string } | null = null;
  void attack.ended.then((e) => {
    ended = e;
  });
  let slowestMs = 0;
  let peakRss = 0;
  let sequence = 0;
  const started = Date.now();
  while (ended === null && Date.now() - started < 120_000) {
    assert.equal(fleet.server.exitCode ?? fleet.server.signalCode, null, 'the server is still running');
    peakRss = Math.max(peakRss, rssOf(fleet.server.pid!));
    const seq = ++sequence;
    const sentAt = performance.now();
    bystander.stream.write({ body: 'heartbeat', heartbeat: { sequence: seq, sentAt: '' } });
    while (!bystander.received.some((m) => m.body === 'heartbeatAck' && Number(m.heartbeatAck?.sequence) === seq)) {
      if (performance.now() - sentAt > patienceMs)
        assert.fail(
          `the bystander's heartbeat ${seq} was not answered within ${patienceMs} ms while the bomb was handled`,
        );
      if (fleet.server.exitCode !== null || fleet.server.signalCode !== null)
        assert.fail(`the server died (${fleet.server.exitCode ?? fleet.server.signalCode}) while handling the bomb`);
      await sleep(5);
    }
    slowestMs = Math.max(slowestMs, performance.now() - sentAt);
    await sleep(100);
  }
  assert.ok(ended !== null, 'the hostile stream was answered within 120 s');
  return { ...(ended as { code: number; details: string }), slowestMs, peakRss };
}

async function assertUpAndClean(): Promise<void> {
  assert.equal(fleet.server.exitCode ?? fleet.server.signalCode, null, 'the server is still running');
  const hosts = (await fleet.control.call('ListHosts', {})).hosts;
  const stored = hosts.find((h) => h.name === 'hostile');
  assert.ok(stored === undefined || stored.inventorySha256 === '', 'nothing of the bomb is stored as an inventory');
}

test(
  'a 204 KB gzip of nested [[[…]]] is refused for its depth; the server stays up and answers the bystander',
  { timeout: 180_000 },
  async () => {
    const bomb = await gzipSegments([
      { text: '[', bytes: 105_000_000 },
      { text: ']', bytes: 105_000_000 },
    ]);
    assert.ok(bomb.length < 256 * 1024, `the bomb is small (${bomb.length} bytes)`);
    const outcome = await replay(bomb, 2000);
    assert.equal(outcome.code, grpc.status.INVALID_ARGUMENT, outcome.details);
    assert.match(outcome.details, /^inventory from agent hostile: \(json\): nested deeper than 64 levels/);
    assert.doesNotMatch(outcome.details, /\n/, 'one line');
    assert.ok(
      outcome.peakRss < 1024 ** 3,
      `server RSS stayed below 1 GiB (peak ${Math.round(outcome.peakRss / 2 ** 20)} MiB)`,
    );
    await assertUpAndClean();
  },
);

test(
  'a 254 KB gzip of [[],[],…] is refused for its value count without freezing the event loop',
  { timeout: 180_000 },
  async () => {
    const bomb = await gzipSegments([
      { text: '[', bytes: 1 },
      { text: '[],', bytes: 261_000_000 },
      { text: '[]]', bytes: 3 },
    ]);
    assert.ok(bomb.length < 256 * 1024, `the bomb is small (${bomb.length} bytes)`);
    const outcome = await replay(bomb, 2000);
    assert.equal(outcome.code, grpc.status.INVALID_ARGUMENT, outcome.details);
    assert.match(outcome.details, /^inventory from agent hostile: \(json\): more than 16000000 values/);
    assert.ok(
      outcome.peakRss < 1024 ** 3,
      `server RSS stayed below 1 GiB (peak ${Math.round(outcome.peakRss / 2 ** 20)} MiB)`,
    );
    await assertUpAndClean();
  },
);

test(
  'an inventory that expands past inventoryMaxJsonBytes is refused while gunzipping',
  { timeout: 180_000 },
  async () => {
    const bomb = await gzipSegments([{ text: ' ', bytes: 300_000_000 }]);
    const outcome = await replay(bomb, 2000);
    assert.equal(outcome.code, grpc.status.INVALID_ARGUMENT, outcome.details);
    assert.match(outcome.details, /^inventory from agent hostile: \(gzip\): expands to more than 268435456 bytes/);
    await assertUpAndClean();
  },
);
