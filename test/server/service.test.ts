// The compatibility service over real gRPC on loopback with a real SQLite file: control commands,
// bundle upload and predictions, agent enrollment, mutual TLS, a verified run, refused forgeries
// and malformed input, resumable transfers, and logs without secrets.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readlinkSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ControlClient } from '../../src/client/control-client.js';
import { uploadBundle } from '../../src/client/commands/bundles.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { pyreloV1 } from '../../src/proto/load.js';
import type { AgentMessage, BundleInfo, ServerMessage } from '../../src/proto/messages.js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { AgentDaemon } from '../../src/agent/daemon.js';
import { fetchBundle } from '../../src/agent/transfer.js';
import { createLogger } from '../../src/common/log.js';
import { initPki, loadPki, signAgentKey } from '../../src/server/pki.js';
import { maxVersion } from '../../src/loader/floors.js';
import { pyreloVersion } from '../../src/common/version.js';
import { readelfVersions } from '../elf/readelf.js';
import {
  fixtureRoot,
  LogCapture,
  makeBundle,
  startTestServer,
  type TestServer,
  verifiedRun,
  waitFor,
} from './fixtures.js';

let ts: TestServer;
let control: ControlClient;
let work: string;
let hostLibc: string;
let staticBundle: string;
let inventoryJson: Buffer;
const agentLogs = new LogCapture();
const secrets: string[] = [];

/** Through the CLI's own uploader (chunks over the control socket). */
const upload = (archive: string): Promise<BundleInfo> => uploadBundle(control, archive);

async function enrolledAgent(name: string): Promise<AgentState> {
  const token = await control.call('CreateEnrollToken', { name });
  secrets.push(token.token);
  const state = new AgentState(join(work, `agent-${name}`));
  await enroll(state, ts.server.enrollAddress, token.token, readFileSync(join(ts.dir, 'pki', 'ca.crt')));
  secrets.push(readFileSync(state.keyFile, 'utf8').split('\n').slice(1, -2).join(''));
  return state;
}

function rawClient(credentials: grpc.ChannelCredentials): AgentHubClient {
  return new (pyreloV1().AgentHub)(ts.server.agentAddress, credentials);
}

/** Opens a stream, sends `messages`, and returns the status it ended with and what came back. */
function converse(
  client: AgentHubClient,
  messages: AgentMessage[],
): Promise<{ code: number; details: string; received: ServerMessage[] }> {
  return new Promise((resolve) => {
    const stream = client.Connect();
    const received: ServerMessage[] = [];
    stream.on('data', (m: ServerMessage) => received.push(m));
    stream.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, received }));
    stream.on('end', () => resolve({ code: 0, details: '', received }));
    for (const m of messages) stream.write(m);
    setTimeout(() => stream.end(), 1500);
  });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-service-test-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
  hostLibc = await makeBundle(work, 'app-host-libc', 'host-libc');
  staticBundle = await makeBundle(work, 'app-static', 'static');
  inventoryJson = Buffer.from(JSON.stringify(collectInventory('/')));
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

describe('control service', () => {
  test('hosts add, list, show, remove; unknown and bad names are refused with a clear error', async () => {
    const added = await control.call('AddHost', { name: 'web-1' });
    assert.equal(added.name, 'web-1');
    assert.equal(added.source, 'manual');
    const { hosts } = await control.call('ListHosts', {});
    assert.ok(hosts.some((h) => h.name === 'web-1'));
    await assert.rejects(control.call('ShowHost', { name: 'nope' }), /host nope: not known/);
    await assert.rejects(control.call('AddHost', { name: '../etc' }), /host name "..\/etc": use letters/);
    await control.call('RemoveHost', { name: 'web-1' });
    await assert.rejects(control.call('ShowHost', { name: 'web-1' }), /not known/);
  });

  test('an imported inventory is stored once however many hosts share it, versioned per host', async () => {
    const a = await control.call('ImportInventory', { name: 'site-a', inventory: gzipSync(inventoryJson) });
    const b = await control.call('ImportInventory', { name: 'site-b', inventory: inventoryJson });
    assert.equal(a.distroId, JSON.parse(inventoryJson.toString()).host.osRelease.id);
    assert.equal(a.inventorySha256, b.inventorySha256);
    assert.equal(a.inventoryVersion, 1);
    assert.equal(ts.server.db.inventoryCount(), 1);
    const again = await control.call('ImportInventory', { name: 'site-a', inventory: inventoryJson });
    assert.equal(again.inventoryVersion, 1, 'the same inventory again is not a new version');
  });

  test('a malformed inventory is refused naming the problem; the server goes on serving', async () => {
    await assert.rejects(
      control.call('ImportInventory', { name: 'bad', inventory: Buffer.from('{"format":"pyrelo-inventory/1"}') }),
      /host: missing or not an object/,
    );
    await assert.rejects(
      control.call('ImportInventory', { name: 'bad', inventory: Buffer.from([0x1f, 0x8b, 1, 2, 3]) }),
      /\(gzip\)/,
    );
    await assert.rejects(
      control.call('ImportInventory', { name: 'bad', inventory: Buffer.from('not json') }),
      /\(json\)/,
    );
    const { hosts } = await control.call('ListHosts', {});
    assert.ok(!hosts.some((h) => h.name === 'bad'));
  });

  test('a bundle upload is stored by digest and predicted on every host with an inventory', async () => {
    const info = await upload(hostLibc);
    assert.equal(info.name, 'app-host-libc');
    assert.match(info.digest, /^[0-9a-f]{64}$/);
    // The floor is the highest GLIBC_x.y the compiled program needs, as readelf lists them.
    const needs = readelfVersions(join(fixtureRoot(work, 'app-host-libc'), 'bin', 'python3')).needs.flatMap((n) =>
      n.aux.map((a) => a.name),
    );
    const floor = maxVersion(needs.map((name) => /^GLIBC_(\d+(?:\.\d+)+)$/.exec(name)?.[1] ?? null));
    assert.ok(floor !== null, `readelf lists no GLIBC_ version: ${needs.join(' ')}`);
    assert.equal(info.glibcFloor, floor);
    const compat = await control.call('Compat', { bundle: 'app-host-libc' });
    const siteA = compat.hosts.find((h) => h.host?.name === 'site-a');
    assert.equal(siteA?.verdict, 'predicted', "built on this host, it loads on this host's inventory");
    await assert.rejects(control.call('Compat', { bundle: 'nope' }), /bundle nope: no such bundle/);
  });

  test(
    'a deployment and its verified result are recorded in ' + 'one call and one transaction: neither without the other',
    async () => {
      await control.call('AddHost', { name: 'deploy-rec' });
      try {
        const bundle = (await control.call('ListBundles', {})).bundles.find((b) => b.name === 'app-host-libc')!;
        const deployment = {
          host: 'deploy-rec',
          bundleDigest: bundle.digest,
          bundleName: bundle.name,
          release: `app-host-libc-${bundle.digest.slice(0, 12)}`,
          prefix: '/opt/app',
          status: 'verified',
          reason: '',
          bytesSent: 1,
          startedAt: '2026-01-01T00:00:00.000Z',
          finishedAt: '2026-01-01T00:00:01.000Z',
        };
        const verified = {
          ...verifiedRun('deploy-rec', bundle.digest),
          smokeOutput: '',
          checkedAt: '2026-01-01T00:00:01.000Z',
        };
        const verdict = async () =>
          (await control.call('Compat', { bundle: bundle.digest })).hosts.find((h) => h.host?.name === 'deploy-rec')
            ?.verdict;
        // The deployment row is written first; the verified result, about a bundle not in the store,
        // cannot be stored: the call fails and takes the deployment row back with it.
        await assert.rejects(
          control.call('RecordDeployment', { deployment, verified: { ...verified, bundleDigest: 'f'.repeat(64) } }),
          /bundle f{64}: not in the store \(pyrelo bundles add\)/,
        );
        assert.deepEqual((await control.call('ListDeployments', { name: 'deploy-rec' })).deployments, []);
        // Nor a verified result without its deployment: a deployment that cannot be stored stores nothing.
        await assert.rejects(
          control.call('RecordDeployment', { deployment: { ...deployment, status: 'sideways' }, verified }),
          /deployment status "sideways": expected verified/,
        );
        assert.notEqual(await verdict(), 'runs');
        await assert.rejects(control.call('RecordDeployment', { deployment: null, verified }), /deployment: missing/);
        // Both, in one call.
        await control.call('RecordDeployment', { deployment, verified });
        assert.deepEqual((await control.call('ListDeployments', { name: 'deploy-rec' })).deployments, [deployment]);
        assert.equal(await verdict(), 'runs');
      } finally {
        await control.call('RemoveHost', { name: 'deploy-rec' });
      }
    },
  );

  test('a damaged archive is refused and nothing is stored', async () => {
    const bad = join(work, 'damaged.tar.gz');
    const bytes = readFileSync(staticBundle);
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(upload(bad), /corrupt or truncated|does not match/);
    const list = await control.call('ListBundles', {});
    assert.equal(list.bundles.length, 1);
  });
});

describe('agents', () => {
  let daemon: AgentDaemon | null = null;
  after(() => daemon?.stop());

  test('an enrolled agent connects, reports its inventory, and verifies a bundle on its host', async () => {
    const state = await enrolledAgent('this-host');
    daemon = new AgentDaemon(
      state,
      {
        server: ts.server.agentAddress,
        heartbeatSeconds: 1,
        minBackoffMs: 100,
        maxBackoffMs: 1000,
        inventoryRoot: '/',
        inventoryBytes: inventoryJson,
      },
      createLogger('agent', 'debug', agentLogs),
    );
    daemon.start();
    await waitFor(() => ts.server.hub.isConnected('this-host'));
    const host = await control.call('ShowHost', { name: 'this-host' });
    assert.equal(host.connected, true);
    assert.equal(host.inventoryVersion, 1);
    // The agent's version, as `pyrelo --version` prints it, so an outdated agent is visible.
    assert.equal(host.agentVersion, pyreloVersion());
    const listed = await execa(process.execPath, [
      fileURLToPath(new URL('../../src/client/main.js', import.meta.url)),
      'hosts',
      'list',
      '--control',
      ts.server.controlAddress,
    ]);
    const row = listed.stdout.split('\n').find((l) => l.startsWith('this-host '));
    assert.ok(
      row?.includes(` ${pyreloVersion()} `),
      `hosts list shows the agent's version ${pyreloVersion()}:\n${listed.stdout}`,
    );
    const answer = await control.call('Check', {
      bundle: 'app-host-libc',
      host: 'this-host',
      verify: true,
      timeoutMs: 60_000,
    });
    assert.equal(answer.note, '');
    assert.equal(answer.predicted?.runs, true);
    assert.equal(answer.verified?.runs, true, JSON.stringify(answer.verified));
    assert.equal(answer.verified?.smokeRan, true);
    assert.equal(answer.verified?.smokeExit, 0);
    const compat = await control.call('Compat', { bundle: 'app-host-libc' });
    const mine = compat.hosts.find((h) => h.host?.name === 'this-host');
    assert.equal(mine?.verdict, 'runs');
    assert.equal(mine?.predictionAgrees, true);
    await waitFor(() => readdirSync(state.sub('outbox')).length === 0, 5_000);
  });

  test('pyrelo deploy through the connected agent installs a release under the prefix and records it', async () => {
    const prefix = join(work, 'through-agent');
    const cli = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
    const r = await execa(
      process.execPath,
      [
        cli,
        'deploy',
        hostLibc,
        '--host',
        'this-host',
        '--prefix',
        prefix,
        '--control',
        ts.server.controlAddress,
        '--json',
      ],
      { reject: false },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const [result] = JSON.parse(r.stdout) as { status: string; release: string }[];
    assert.equal(result!.status, 'verified');
    assert.equal(readlinkSync(join(prefix, 'current')), `releases/${result!.release}`);
    assert.equal((await execa(join(prefix, 'current', 'bin', 'python3'))).stdout, '3.11.9');
    const { deployments } = await control.call('ListDeployments', { name: 'this-host' });
    assert.equal(deployments[0]?.status, 'verified');
    assert.equal(deployments[0]?.prefix, prefix);
    const relative = await control
      .call('Install', { bundle: 'app-host-libc', host: 'this-host', prefix: 'relative', force: false, timeoutMs: 0 })
      .catch((e: Error) => e);
    assert.match(String(relative), /prefix "relative": expected an absolute path/);
  });

  test('a token works once', async () => {
    const token = await control.call('CreateEnrollToken', { name: 'once' });
    secrets.push(token.token);
    const ca = readFileSync(join(ts.dir, 'pki', 'ca.crt'));
    await enroll(new AgentState(join(work, 'once-1')), ts.server.enrollAddress, token.token, ca);
    await assert.rejects(
      enroll(new AgentState(join(work, 'once-2')), ts.server.enrollAddress, token.token, ca),
      /token unknown, already used or expired/,
    );
  });

  test('no client certificate, or one from another CA: refused', async () => {
    const ca = readFileSync(join(ts.dir, 'pki', 'ca.crt'));
    const none = await converse(rawClient(grpc.credentials.createSsl(ca)), [
      {
        body: 'hello',
        hello: {
          host: 'x',
          agentVersion: '',
          inventory: Buffer.alloc(0),
          inventorySha256: '',
          inventoryCollectedAt: '',
        },
      },
    ]);
    assert.notEqual(none.code, 0);
    assert.equal(none.received.length, 0);
    const otherDir = join(work, 'other-ca');
    const other = await initPki(otherDir);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forgedCert = await signAgentKey(
      loadPki(otherDir),
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      'this-host',
    );
    const forged = await converse(
      rawClient(
        grpc.credentials.createSsl(
          ca,
          Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
          Buffer.from(forgedCert),
        ),
      ),
      [
        {
          body: 'hello',
          hello: {
            host: 'this-host',
            agentVersion: '',
            inventory: Buffer.alloc(0),
            inventorySha256: '',
            inventoryCollectedAt: '',
          },
        },
      ],
    );
    assert.notEqual(forged.code, 0);
    assert.equal(forged.received.length, 0);
    assert.ok(other.caCert.length > 0);
  });

  test('an agent may speak only for its own host; malformed messages end only that stream', async () => {
    const state = await enrolledAgent('honest');
    const id = state.identity();
    const client = rawClient(grpc.credentials.createSsl(id.ca, id.key, id.cert));
    const hello = (host: string): AgentMessage => ({
      body: 'hello',
      hello: { host, agentVersion: 't', inventory: Buffer.alloc(0), inventorySha256: '', inventoryCollectedAt: '' },
    });
    const wrongHello = await converse(client, [hello('this-host')]);
    assert.equal(wrongHello.code, grpc.status.PERMISSION_DENIED);
    assert.match(wrongHello.details, /certificate is for host honest/);
    const digest = (await control.call('ListBundles', {})).bundles[0]!.digest;
    const forgedReport = await converse(client, [
      hello('honest'),
      {
        body: 'report',
        report: {
          reportId: 'r-1',
          orderId: '',
          error: '',
          result: {
            bundleDigest: digest,
            host: 'this-host',
            kind: 'verified',
            runs: false,
            loads: false,
            problems: [],
            filesChecked: 1,
            glibcFloor: '',
            smokeRan: false,
            smokeExit: 0,
            smokeOutput: '',
            checkedAt: '',
            inventorySha256: '',
          },
        },
      },
    ]);
    assert.equal(forgedReport.code, grpc.status.PERMISSION_DENIED);
    assert.match(forgedReport.details, /report is about "this-host"/);
    assert.equal(ts.server.db.hasReport('r-1'), false);
    const badInventory = await converse(client, [
      {
        body: 'hello',
        hello: {
          host: 'honest',
          agentVersion: 't',
          inventory: Buffer.from('{"format":"nope"}'),
          inventorySha256: '',
          inventoryCollectedAt: '',
        },
      },
    ]);
    assert.equal(badInventory.code, grpc.status.INVALID_ARGUMENT);
    assert.match(badInventory.details, /format: expected "pyrelo-inventory\/1"/);
    assert.equal((await control.call('ShowHost', { name: 'honest' })).agentVersion, 't');
    // A version is shown to users: a hostile agent's control characters or size are refused, not stored.
    for (const agentVersion of ['1.0\u001b[31m', 'v'.repeat(65)]) {
      const odd = await converse(client, [
        {
          body: 'hello',
          hello: {
            host: 'honest',
            agentVersion,
            inventory: Buffer.alloc(0),
            inventorySha256: '',
            inventoryCollectedAt: '',
          },
        },
      ]);
      assert.equal(odd.code, grpc.status.INVALID_ARGUMENT, agentVersion);
      assert.match(odd.details, /agent_version malformed/);
    }
    assert.equal((await control.call('ShowHost', { name: 'honest' })).agentVersion, 't');
    const noHello = await converse(client, [{ body: 'heartbeat', heartbeat: { sequence: 1, sentAt: '' } }]);
    assert.equal(noHello.code, grpc.status.FAILED_PRECONDITION);
    client.close();
    // Everyone else is still served.
    assert.equal(ts.server.hub.isConnected('this-host'), true);
    const { hosts } = await control.call('ListHosts', {});
    assert.ok(hosts.length > 0);
  });

  test('an interrupted transfer resumes where it stopped and the bundle arrives intact', async () => {
    const state = await enrolledAgent('fetcher');
    const id = state.identity();
    const client = rawClient(grpc.credentials.createSsl(id.ca, id.key, id.cert));
    const big = await upload(staticBundle);
    const part = join(state.sub('incoming'), `${big.digest}.part`);
    // First attempt: stop after the first chunk, as a killed agent would.
    await assert.rejects(
      fetchBundle(client, big.digest, state.sub('incoming'), state.sub('archives'), (p) => p.received < 256 * 1024),
      /interrupted at/,
    );
    const kept = existsSync(part) ? statSync(part).size : 0;
    assert.ok(kept > 0 && kept < big.size, `a part of ${kept} of ${big.size} bytes is kept`);
    let resumedAt = -1;
    const archive = await fetchBundle(client, big.digest, state.sub('incoming'), state.sub('archives'), (p) => {
      resumedAt = p.resumedAt;
    });
    assert.equal(resumedAt, kept);
    assert.deepEqual(readFileSync(archive), readFileSync(staticBundle));
    // A damaged part is detected by the digest and thrown away.
    rmSync(archive);
    writeFileSync(part, Buffer.alloc(1000, 7));
    await assert.rejects(
      fetchBundle(client, big.digest, state.sub('incoming'), state.sub('archives')),
      /sha256 of the received/,
    );
    assert.equal(existsSync(part), false);
    client.close();
  });

  test('no secret (token, private key) appears in the server or agent logs', () => {
    const logs = ts.logs.text + agentLogs.text;
    assert.ok(logs.length > 1000, 'there are logs to search');
    for (const secret of secrets) {
      for (let i = 0; i + 24 <= secret.length; i += 24)
        assert.ok(!logs.includes(secret.slice(i, i + 24)), 'a secret appears in a log line');
    }
  });
});

describe('builds sharing a name', () => {
  test(
    'compat NAME answers for the newest build and lists the others of that name; a digest answers for exactly ' +
      'that build',
    async () => {
      // A second build called app-host-libc, with the other libc mode (as `--libc bundle` of the same app).
      const second = mkdtempSync(join(tmpdir(), 'pyrelo-same-name-'));
      try {
        const older = (await control.call('ListBundles', {})).bundles.find((b) => b.name === 'app-host-libc')!;
        const newer = await upload(await makeBundle(second, 'app-host-libc', 'static'));
        assert.notEqual(newer.digest, older.digest);
        const byName = await control.call('Compat', { bundle: 'app-host-libc' });
        assert.equal(byName.bundle?.digest, newer.digest, 'the newest build answers');
        assert.deepEqual(
          byName.others.map((b) => [b.digest, b.libc]),
          [[older.digest, 'host']],
        );
        const byDigest = await control.call('Compat', { bundle: older.digest });
        assert.equal(byDigest.bundle?.digest, older.digest);
        assert.deepEqual(byDigest.others, [], 'a digest names one build');
        const text = await execa(
          process.execPath,
          [
            fileURLToPath(new URL('../../src/client/main.js', import.meta.url)),
            'compat',
            'app-host-libc',
            '--control',
            ts.server.controlAddress,
          ],
          { reject: false },
        );
        assert.equal(text.exitCode, 0, text.stderr);
        assert.match(
          text.stdout,
          new RegExp(
            '1 other build named app-host-libc, older[^\\n]*\\n\\s+DIGEST\\s+LIBC[^\\n]*\\n\\s+' +
              `${older.digest.slice(0, 12)}\\s+host\\s`,
          ),
        );
      } finally {
        rmSync(second, { recursive: true, force: true });
      }
    },
  );
});
