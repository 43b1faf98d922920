// Issue 13 item 7, too many streams: one enrolled certificate opened thousands of agent streams and
// the server kept them all. With streamsPerCertificate 4 (the default), a fifth stream of the same
// certificate is refused with RESOURCE_EXHAUSTED and one line before any of it is read; once one
// of the four is closed, a new one is accepted (it says hello and is welcomed). Another host's
// streams do not count against it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { AgentMessage, ServerMessage } from '../../src/proto/messages.js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';
import { hello, openStream, serverLog, startFleet, type Fleet, type OpenStream } from './fleet.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let work: string;
let fleet: Fleet;
let log: Record<string, unknown>[];
let greedy: AgentHubClient;
let other: AgentHubClient;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-streams-'));
  // helloSeconds long: here only the cap may end a stream.
  fleet = await startFleet(work, { ...process.env, PYRELO_HELLO_SECONDS: '600' });
  log = serverLog(fleet);
  greedy = await fleet.agent('greedy');
  other = await fleet.agent('other');
});

after(async () => {
  greedy?.close();
  other?.close();
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A Connect stream that sends nothing, and how it ended once it does. */
function silentStream(client: AgentHubClient): {
  stream: grpc.ClientDuplexStream<AgentMessage, ServerMessage>;
  ended: Promise<{ code: number; details: string }>;
} {
  const stream = client.Connect();
  stream.on('data', () => {});
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    stream.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
    stream.on('end', () => resolve({ code: 0, details: '' }));
  });
  return { stream, ended };
}

async function welcomed(open: OpenStream): Promise<boolean> {
  const outcome = await Promise.race([
    open.ended.then(() => false),
    (async () => {
      while (!open.received.some((m) => m.body === 'welcome')) await sleep(20);
      return true;
    })(),
  ]);
  return outcome;
}

test('the fifth stream of one certificate is refused; closing one frees its place', { timeout: 120_000 }, async () => {
  // Four streams: the first says hello and is welcomed, three are silent. One channel, so the
  // server sees them in this order.
  const first = openStream(greedy, hello('greedy'));
  assert.ok(await welcomed(first), 'the first stream is welcomed');
  const quiet = [silentStream(greedy), silentStream(greedy), silentStream(greedy)];
  const fifth = openStream(greedy, hello('greedy'));
  const refused = await fifth.ended;
  assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED, JSON.stringify(refused));
  assert.equal(
    refused.details,
    'host greedy has 4 agent streams open already, the most one certificate may (setting streamsPerCertificate)',
  );
  assert.ok(!fifth.received.some((m) => m.body === 'welcome'), 'the fifth was not welcomed');
  assert.ok(
    log.some((l) => l.host === 'greedy' && l.code === 'RESOURCE_EXHAUSTED' && l.level === 40),
    'the refusal is logged',
  );

  // Another host is not held back by greedy's streams.
  const others = openStream(other, hello('other'));
  assert.ok(await welcomed(others), "another host's stream is welcomed");
  others.stream.cancel();

  // Closing one frees its place: a new stream (after the server has seen the close) is welcomed.
  quiet[0]!.stream.cancel();
  let again: OpenStream | null = null;
  for (let attempt = 0; attempt < 50 && again === null; attempt += 1) {
    const candidate = openStream(greedy, hello('greedy'));
    if (await welcomed(candidate)) again = candidate;
    else await sleep(100);
  }
  assert.ok(again !== null, 'after one stream closed, a new one is accepted and welcomed');
  // The silent ones are still open: the cap, not a deadline, did all of the above.
  for (const q of quiet.slice(1))
    assert.equal(await Promise.race([q.ended.then(() => 'ended'), sleep(50).then(() => 'open')]), 'open');
  for (const q of quiet.slice(1)) q.stream.cancel();
  again.stream.cancel();
  first.stream.cancel();
});
