// Issue 13 item 7, the silent stream: the probe opened 5,000 agent streams that never said hello,
// and the server kept every one. A stream that sends no hello within helloSeconds (2 here) must be
// ended with DEADLINE_EXCEEDED in one line, and logged (pino JSON), while a well-behaved agent on
// another stream is answered before, during and after.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';
import { hello, openStream, serverLog, startFleet, type Fleet, type OpenStream } from './fleet.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const giveUpAfter = (ms: number): Promise<null> => new Promise((r) => setTimeout(() => r(null), ms).unref());

let work: string;
let fleet: Fleet;
let log: Record<string, unknown>[];
let silent: AgentHubClient;
let polite: AgentHubClient;
let bystander: OpenStream;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-hello-'));
  fleet = await startFleet(work, { ...process.env, PYRELO_HELLO_SECONDS: '2' });
  log = serverLog(fleet);
  silent = await fleet.agent('silent');
  polite = await fleet.agent('polite');
  bystander = openStream(polite, hello('polite'));
  const deadline = Date.now() + 10_000;
  while (!bystander.received.some((m) => m.body === 'welcome') && Date.now() < deadline) await sleep(20);
  assert.ok(
    bystander.received.some((m) => m.body === 'welcome'),
    'the well-behaved agent is welcomed',
  );
});

after(async () => {
  bystander?.stream.cancel();
  silent?.close();
  polite?.close();
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

test(
  'a stream that never says hello is ended after helloSeconds, and the well-behaved agent is still answered',
  { timeout: 120_000 },
  async () => {
    const quiet = silent.Connect();
    const ended = new Promise<{ code: number; details: string }>((resolve) => {
      quiet.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
      quiet.on('end', () => resolve({ code: 0, details: '' }));
    });
    quiet.on('data', () => {});
    // Heartbeats from the well-behaved agent until the silent stream ends, each answered.
    let sequence = 0;
    let done = false;
    void ended.then(() => {
      done = true;
    });
    const started = Date.now();
    while (!done && Date.now() - started < 60_000) {
      const seq = ++sequence;
      bystander.stream.write({ body: 'heartbeat', heartbeat: { sequence: seq, sentAt: '' } });
      await sleep(200);
    }
    const end = await Promise.race([ended, giveUpAfter(1)]);
    assert.ok(end !== null, 'the silent stream was ended (helloSeconds is 2)');
    assert.equal(end.code, grpc.status.DEADLINE_EXCEEDED, JSON.stringify(end));
    assert.equal(end.details, 'no hello within 2 s (setting helloSeconds)');
    const line = log.find((l) => l.host === 'silent' && l.deadline === 'helloSeconds');
    assert.ok(line !== undefined, `the cut is logged: ${JSON.stringify(log)}`);
    assert.equal(line.level, 40);
    assert.equal(line.code, 'DEADLINE_EXCEEDED');
    assert.match(String(line.msg), /^agent call ended: no hello within 2 s/);
    // The well-behaved agent still is: one more heartbeat after the cut is answered.
    const last = ++sequence;
    bystander.stream.write({ body: 'heartbeat', heartbeat: { sequence: last, sentAt: '' } });
    const deadline = Date.now() + 10_000;
    while (
      !bystander.received.some((m) => m.body === 'heartbeatAck' && Number(m.heartbeatAck?.sequence) === last) &&
      Date.now() < deadline
    )
      await sleep(20);
    const acked = bystander.received
      .filter((m) => m.body === 'heartbeatAck')
      .map((m) => Number(m.heartbeatAck?.sequence));
    assert.deepEqual(
      acked,
      Array.from({ length: last }, (_, i) => i + 1),
      'every heartbeat of the well-behaved agent was answered',
    );
  },
);
