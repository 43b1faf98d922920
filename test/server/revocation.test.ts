// `pyrelo hosts remove` revokes the host's agent certificates, over real gRPC on loopback with
// real certificates: the connected agent's stream is closed, a reconnect and a bundle fetch with
// the old certificate are refused (UNAUTHENTICATED, logged without secrets), and a host added again
// enrolls with a new token and is served while the old certificate stays refused. A certificate the
// server never recorded (issued before certificates were recorded) keeps working.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ControlClient } from '../../src/client/control-client.js';
import { AgentDaemon } from '../../src/agent/daemon.js';
import { createLogger } from '../../src/common/log.js';
import { uploadBundle } from '../../src/client/commands/bundles.js';
import { pyreloV1 } from '../../src/proto/load.js';
import type { AgentMessage, BundleChunk, BundleInfo, ServerMessage } from '../../src/proto/messages.js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { hostsRemove } from '../../src/client/commands/hosts.js';
import { certificateIdentity, loadPki, signAgentKey } from '../../src/server/pki.js';
import { LogCapture, makeBundle, startTestServer, type TestServer, waitFor } from './fixtures.js';
import { quietly } from '../support/quietly.js';

let ts: TestServer;
let control: ControlClient;
let work: string;
let bundle: BundleInfo;
const secrets: string[] = [];

/** Through the CLI's own uploader (chunks over the control socket). */
const upload = (archive: string): Promise<BundleInfo> => uploadBundle(control, archive);

async function enrolled(name: string, dir: string): Promise<AgentState> {
  const token = await control.call('CreateEnrollToken', { name });
  secrets.push(token.token);
  const state = new AgentState(join(work, dir));
  await enroll(state, ts.server.enrollAddress, token.token, readFileSync(join(ts.dir, 'pki', 'ca.crt')));
  secrets.push(readFileSync(state.keyFile, 'utf8').split('\n').slice(1, -2).join(''));
  return state;
}

function client(state: { ca: Buffer; key: Buffer; cert: Buffer }): AgentHubClient {
  return new (pyreloV1().AgentHub)(ts.server.agentAddress, grpc.credentials.createSsl(state.ca, state.key, state.cert));
}

const hello = (host: string): AgentMessage => ({
  body: 'hello',
  hello: { host, agentVersion: 't', inventory: Buffer.alloc(0), inventorySha256: '', inventoryCollectedAt: '' },
});

/** An agent's stream kept open: what it received and how it ended (null while open). */
function openStream(
  c: AgentHubClient,
  host: string,
): {
  received: ServerMessage[];
  ended: Promise<{ code: number; details: string }>;
  stream: ReturnType<AgentHubClient['Connect']>;
} {
  const stream = c.Connect();
  const received: ServerMessage[] = [];
  stream.on('data', (m: ServerMessage) => received.push(m));
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    stream.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
    stream.on('end', () => resolve({ code: 0, details: '' }));
  });
  stream.write(hello(host));
  return { received, ended, stream };
}

/** Opens a stream, says hello, and returns how it ended (ended by us after `ms` when still open). */
async function connectOnce(
  c: AgentHubClient,
  host: string,
  ms = 1500,
): Promise<{ code: number; details: string; received: ServerMessage[] }> {
  const s = openStream(c, host);
  const timer = setTimeout(() => s.stream.end(), ms);
  const status = await s.ended;
  clearTimeout(timer);
  return { ...status, received: s.received };
}

/** Fetches a whole bundle; resolves with the bytes received or the error status. */
function fetchAll(c: AgentHubClient, digest: string): Promise<{ code: number; details: string; bytes: number }> {
  return new Promise((resolve) => {
    const call = c.FetchBundle({ digest, offset: 0, chunkSize: 0 });
    let bytes = 0;
    call.on('data', (chunk: BundleChunk) => {
      bytes += chunk.data.length;
    });
    call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, bytes }));
    call.on('end', () => resolve({ code: 0, details: '', bytes }));
  });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-revocation-test-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
  bundle = await upload(await makeBundle(work, 'app-static', 'static'));
  secrets.push(
    readFileSync(join(ts.dir, 'pki', 'ca.key'), 'utf8')
      .split('\n')
      .slice(1, -2)
      .join(''),
  );
});

after(async () => {
  control?.close();
  await ts?.server.stop(500);
  rmSync(work, { recursive: true, force: true });
});

test(
  'hosts remove revokes the agent certificate: stream closed, reconnect and fetch refused; a new enrollment is served',
  { timeout: 60_000 },
  async () => {
    const old = await enrolled('gone', 'agent-old');
    const oldId = old.identity();
    const oldSha = certificateIdentity(oldId.cert.toString()).sha256;
    assert.equal(ts.server.db.certificate(oldSha)?.host, 'gone', 'the certificate was recorded at enrollment');
    assert.equal(ts.server.db.certificate(oldSha)?.revokedAt, null);

    // Connected and served before the removal: welcome, heartbeat acknowledged, a whole fetch.
    const oldClient = client(oldId);
    const live = openStream(oldClient, 'gone');
    await waitFor(() => ts.server.hub.isConnected('gone'));
    live.stream.write({ body: 'heartbeat', heartbeat: { sequence: 1, sentAt: '' } });
    await waitFor(() => live.received.some((m) => m.body === 'heartbeatAck'));
    assert.equal(live.received[0]?.body, 'welcome');
    assert.deepEqual(await fetchAll(oldClient, bundle.digest), { code: 0, details: '', bytes: bundle.size });
    // A token made before the removal and never used must not outlive the host.
    const stale = await control.call('CreateEnrollToken', { name: 'gone' });
    secrets.push(stale.token);

    // pyrelo hosts remove gone, as the CLI runs it.
    await quietly(async () =>
      assert.equal(await hostsRemove('gone', { control: ts.server.controlAddress, json: true }), 0),
    );
    const closed = await live.ended;
    assert.equal(closed.code, grpc.status.UNAUTHENTICATED, JSON.stringify(closed));
    assert.match(closed.details, /host gone was removed: its client certificate is revoked/);
    assert.equal(ts.server.hub.isConnected('gone'), false);
    const row = ts.server.db.certificate(oldSha);
    assert.equal(row?.host, 'gone', 'the certificate row outlives the host row');
    assert.ok(row?.revokedAt, 'and is marked revoked');
    assert.equal(ts.server.db.host('gone'), null);

    // The old certificate: reconnect and fetch refused, and nothing about the host is re-created.
    const again = await connectOnce(oldClient, 'gone');
    assert.equal(again.code, grpc.status.UNAUTHENTICATED);
    assert.match(
      again.details,
      /client certificate for host gone was revoked at .* \(the host was removed\); enroll again with a new token/,
    );
    assert.equal(again.received.length, 0, 'no welcome');
    const fetched = await fetchAll(oldClient, bundle.digest);
    assert.equal(fetched.code, grpc.status.UNAUTHENTICATED);
    assert.match(fetched.details, /revoked/);
    assert.equal(fetched.bytes, 0);
    assert.equal(ts.server.db.host('gone'), null, 'a refused hello does not add the host back');
    await assert.rejects(
      enroll(
        new AgentState(join(work, 'agent-stale')),
        ts.server.enrollAddress,
        stale.token,
        readFileSync(join(ts.dir, 'pki', 'ca.crt')),
      ),
      /token unknown, already used or expired/,
      'an unused token of the removed host is gone',
    );

    // Added again: a new token, a new certificate that is served; the old one stays refused.
    const renewed = await enrolled('gone', 'agent-new');
    const newClient = client(renewed.identity());
    const welcomed = await connectOnce(newClient, 'gone', 500);
    assert.equal(welcomed.code, 0, JSON.stringify(welcomed));
    assert.equal(welcomed.received[0]?.body, 'welcome');
    assert.deepEqual(await fetchAll(newClient, bundle.digest), { code: 0, details: '', bytes: bundle.size });
    assert.equal((await connectOnce(oldClient, 'gone', 500)).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await fetchAll(oldClient, bundle.digest)).code, grpc.status.UNAUTHENTICATED);
    oldClient.close();
    newClient.close();

    // Refusals are logged, naming the host and the certificate's fingerprint, never a secret.
    const refusals = ts.logs.text.split('\n').filter((line) => line.includes('agent call refused'));
    assert.ok(
      refusals.some((line) => line.includes('"rpc":"Connect"') && line.includes(oldSha)),
      'Connect refusal logged',
    );
    assert.ok(
      refusals.some((line) => line.includes('"rpc":"FetchBundle"') && line.includes(oldSha)),
      'FetchBundle refusal logged',
    );
    for (const secret of secrets) {
      for (let i = 0; i + 24 <= secret.length; i += 24)
        assert.ok(!ts.logs.text.includes(secret.slice(i, i + 24)), 'a secret appears in a log line');
    }
  },
);

test(
  'a certificate the server never recorded (issued before certificates were recorded) keeps working',
  { timeout: 30_000 },
  async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = await signAgentKey(
      loadPki(ts.dir),
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      'legacy',
    );
    assert.equal(ts.server.db.certificate(certificateIdentity(cert).sha256), null);
    const c = client({
      ca: readFileSync(join(ts.dir, 'pki', 'ca.crt')),
      key: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      cert: Buffer.from(cert),
    });
    const answer = await connectOnce(c, 'legacy', 500);
    assert.equal(answer.code, 0, JSON.stringify(answer));
    assert.equal(answer.received[0]?.body, 'welcome');
    assert.equal((await fetchAll(c, bundle.digest)).bytes, bundle.size);
    c.close();
  },
);

test(
  'a real agent daemon whose host is removed stops instead of reconnecting forever',
  { timeout: 30_000 },
  async () => {
    const state = await enrolled('doomed', 'agent-doomed');
    const daemon = new AgentDaemon(
      state,
      { server: ts.server.agentAddress, heartbeatSeconds: 1, minBackoffMs: 50, maxBackoffMs: 200, inventoryRoot: '/' },
      createLogger('agent', 'silent', new LogCapture()),
    );
    const events: string[] = [];
    daemon.listeners.add((event) => events.push(event));
    daemon.start();
    try {
      await waitFor(() => ts.server.hub.isConnected('doomed'));
      await control.call('RemoveHost', { name: 'doomed' });
      await waitFor(() => events.includes('revoked'));
      await new Promise((resolve) => setTimeout(resolve, 600)); // three backoff periods at most
      assert.equal(events.at(-1), 'revoked', `no attempt after the revocation: ${events.join(' ')}`);
      assert.equal(events.filter((e) => e === 'connected').length, 1);
      assert.equal(ts.server.hub.isConnected('doomed'), false);
    } finally {
      daemon.stop();
    }
  },
);
