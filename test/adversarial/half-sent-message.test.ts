// Issue 13 item 7, the half-sent message: enrolled agents say hello, then send 48 MiB of a
// message it declares as 60 MiB, and stalls with its side of the stream open (the probe held 30
// such streams, 1.5 GB, for good). The server must end each such stream once messageSeconds pass
// without a whole message, and free what it held of it: three rounds of four such streams (four
// hosts; a host's new hello replaces its older stream) must not add up in the server's memory. A declared
// length over the receive limit (inventoryMaxBytes plus 1 MiB) is refused before it is read.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  hello,
  openRawCall,
  openStream,
  rssOf,
  serverLog,
  startFleet,
  type Fleet,
  type OpenStream,
  type RawCall,
} from './fleet.js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A sleep that does not keep the test process alive. */
const giveUpAfter = (ms: number): Promise<null> => new Promise((r) => setTimeout(() => r(null), ms).unref());
const MiB = 1024 * 1024;

let work: string;
let fleet: Fleet;
let log: Record<string, unknown>[];
let bystander: OpenStream;
let bystanderClient: AgentHubClient;
let beating: NodeJS.Timeout;
let peakRss = 0;
let sequence = 0;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-half-sent-'));
  fleet = await startFleet(work, {
    ...process.env,
    PYRELO_MESSAGE_SECONDS: '3',
    PYRELO_HELLO_SECONDS: '600',
    PYRELO_INVENTORY_MAX_BYTES: String(60 * MiB),
  });
  log = serverLog(fleet);
  for (let i = 0; i < 4; i += 1) (await fleet.agent(`hostile-${i}`)).close();
  bystanderClient = await fleet.agent('bystander');
  bystander = openStream(bystanderClient, hello('bystander'));
  const deadline = Date.now() + 10_000;
  while (!bystander.received.some((m) => m.body === 'welcome') && Date.now() < deadline) await sleep(20);
  assert.ok(
    bystander.received.some((m) => m.body === 'welcome'),
    'the bystander is welcomed',
  );
  // The bystander heartbeats (more often than messageSeconds, as agents do) and the server's RSS
  // is sampled throughout.
  beating = setInterval(() => {
    bystander.stream.write({ body: 'heartbeat', heartbeat: { sequence: ++sequence, sentAt: '' } });
    if (fleet.server.exitCode === null) peakRss = Math.max(peakRss, rssOf(fleet.server.pid!));
  }, 200);
});

after(async () => {
  clearInterval(beating);
  bystander?.stream.cancel();
  bystanderClient?.close();
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Opens `count` streams that say hello, then send `sent` bytes of a `declared`-byte message and stall. */
async function stall(count: number, declared: number, sent: number): Promise<RawCall[]> {
  const calls: RawCall[] = [];
  for (let i = 0; i < count; i += 1) {
    const call = openRawCall(fleet.agentAddress, fleet.identity(`hostile-${i}`));
    await call.send(hello(`hostile-${i}`));
    await call.sendPart(declared, sent);
    calls.push(call);
  }
  return calls;
}

test(
  'streams stalled in the middle of a 60 MiB message are ended after messageSeconds, and what they held is not kept',
  { timeout: 300_000 },
  async (t) => {
    const before = rssOf(fleet.server.pid!);
    peakRss = before;
    for (let round = 1; round <= 3; round += 1) {
      const calls = await stall(4, 60 * MiB - 1, 48 * MiB);
      const ends = await Promise.race([Promise.all(calls.map((c) => c.ended)), giveUpAfter(120_000)]);
      assert.ok(ends !== null, `round ${round}: the stalled streams were ended (messageSeconds is 3)`);
      assert.equal(fleet.server.exitCode ?? fleet.server.signalCode, null, 'the server is still running');
      for (const [i, end] of ends.entries()) {
        assert.equal(end.code, grpc.status.DEADLINE_EXCEEDED, `round ${round}, stream ${i}: ${JSON.stringify(end)}`);
        assert.match(end.details, /^no whole message within 3 s of the last one \(setting messageSeconds\)/);
        assert.doesNotMatch(end.details, /\n/, 'one line');
      }
      for (const call of calls) call.close();
    }
    // Four streams' 48 MiB each is 192 MiB at once; three rounds of it kept would be 576 MiB.
    const peak = peakRss;
    t.diagnostic(
      `server RSS ${Math.round(before / MiB)} MiB before, peak ${Math.round(peak / MiB)} MiB over three rounds`,
    );
    assert.ok(
      peak - before < 450 * MiB,
      `the server's RSS grew by ${Math.round((peak - before) / MiB)} MiB over three rounds (from ` +
        `${Math.round(before / MiB)} MiB): what a cut stream held is freed and used again`,
    );
    const logged = log.filter((l) => l.deadline === 'messageSeconds' && String(l.host).startsWith('hostile-'));
    assert.equal(logged.length, 12, 'each cut is logged, with the host and the setting');
    const acked = Math.max(
      ...bystander.received.filter((m) => m.body === 'heartbeatAck').map((m) => Number(m.heartbeatAck?.sequence)),
    );
    assert.ok(acked > sequence - 10, `the bystander was answered throughout (last answer ${acked} of ${sequence})`);
  },
);

test(
  'a message declared longer than the receive limit (inventoryMaxBytes + 1 MiB) is refused before it is read',
  { timeout: 60_000 },
  async () => {
    const call = openRawCall(fleet.agentAddress, fleet.identity('hostile-0'));
    await call.send(hello('hostile-0'));
    await call.sendPart(61 * MiB + 1, 1 * MiB);
    const end = await call.ended;
    call.close();
    assert.equal(end.code, grpc.status.RESOURCE_EXHAUSTED, JSON.stringify(end));
    assert.match(end.details, /larger than max \(\d+ vs 63963136\)/);
  },
);
