// An agent daemon killed with SIGKILL in the middle of a bundle transfer: the bytes it had received
// stay in incoming/DIGEST.part, and after a restart the next transfer asks the server for the rest
// (from the size of that file, not from zero); the archive that arrives has the bundle's sha256 and
// the verified check runs. The agent is a real `pyrelo agent` process on this host; it reaches the
// server through a TCP proxy in this test that throttles the server's bytes so the kill lands
// mid-transfer.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ControlClient } from '../../src/client/control-client.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { listBundleFiles } from '../../src/bundle/file-list.js';
import { writeManifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import { bundlesAdd } from '../../src/client/commands/bundles.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';
import { readelfAbiTag, readelfVersions } from '../elf/readelf.js';
import { maxVersion } from '../../src/loader/floors.js';
import { quietly } from '../support/quietly.js';

const MAIN = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const PAYLOAD = 32 * 1024 * 1024; // random, so the .tar.gz stays ~32 MB
const RATE = 8 * 1024 * 1024; // bytes per second from the server to the agent
const HOST = 'site-kill';

let work: string;
let ts: TestServer;
let control: ControlClient;
let proxy: Server;
const sockets = new Set<Socket>();
let agent: ChildProcess | null = null;

/** A TCP proxy to `target` that forwards the upstream's bytes at no more than RATE bytes/s. */
async function throttlingProxy(target: string): Promise<string> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  proxy = createServer((client) => {
    const upstream = connect(port, host);
    sockets.add(client);
    sockets.add(upstream);
    // When the bytes forwarded so far may all have been sent at RATE (no credit for idle time).
    let due = Date.now();
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      client.write(data);
      due = Math.max(due, Date.now()) + (data.length / RATE) * 1000;
      const ahead = due - Date.now();
      if (ahead > 5) {
        upstream.pause();
        setTimeout(() => upstream.resume(), ahead);
      }
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    upstream.on('end', close).on('error', close);
    client.on('end', close).on('error', close);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

/** A bundle whose program runs here, with PAYLOAD random bytes beside it. */
async function bigBundle(): Promise<string> {
  const root = join(work, 'big');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'share'), { recursive: true });
  writeFileSync(join(work, 'big.c'), '#include <stdio.h>\nint main(void) { puts("3.11.9"); return 0; }\n');
  await execa('gcc', ['-O1', '-o', join(root, 'bin', 'python3'), join(work, 'big.c')]);
  writeFileSync(join(root, 'share', 'payload.bin'), randomBytes(PAYLOAD));
  // The manifest states what the compiled program really needs, as readelf reads it here.
  const needs = readelfVersions(join(root, 'bin', 'python3')).needs;
  const versions = Object.fromEntries(needs.map((n) => [n.file, n.aux.map((a) => a.name)]));
  const glibcFloor = maxVersion(
    needs.flatMap((n) => n.aux.map((a) => /^GLIBC_(\d+(?:\.\d+)+)$/.exec(a.name)?.[1] ?? null)),
  );
  writeManifest(root, {
    format: 'pyrelo-bundle/1',
    name: 'big',
    python: { version: '3.11.9', executable: 'bin/python3', packages: [] },
    libc: 'host',
    glibcFloor,
    kernelFloor: readelfAbiTag(join(root, 'bin', 'python3'))?.replace(/^Linux /, '') ?? null,
    entryPoints: {},
    smoke: ['bin/python3'],
    steps: [],
    slimmed: [],
    grafted: [],
    elf: [{ path: 'bin/python3', needed: needs.map((n) => n.file), versions, runpath: null }],
    files: listBundleFiles(root),
  });
  const archive = join(work, 'big.tar.gz');
  await packBundle(root, archive);
  return archive;
}

function startAgent(stateDir: string, server: string): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    [MAIN, 'agent', 'run', '--server', server, '--dir', stateDir, '--heartbeat', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  agent = child;
  return { child, output: () => output };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function transferOffsets(digest: string): number[] {
  return ts.logs.text
    .split('\n')
    .filter((l) => l.includes('"bundle transfer"') && l.includes(digest.slice(0, 12)))
    .map((l) => (JSON.parse(l) as { offset: number }).offset);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-kill-transfer-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
});

after(async () => {
  if (agent !== null && agent.exitCode === null && agent.signalCode === null) {
    agent.kill('SIGTERM');
    await new Promise((r) => agent!.once('exit', r));
  }
  for (const s of sockets) s.destroy();
  await new Promise((r) => proxy?.close(r) ?? r(undefined));
  control?.close();
  await ts?.server.stop(500);
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  'kill -9 of an agent mid-transfer: after a restart the transfer resumes from the partial file and the bundle ' +
    'arrives intact',
  { timeout: 180_000 },
  async (t) => {
    const archive = await bigBundle();
    const digest = createHash('sha256').update(readFileSync(archive)).digest('hex');
    const total = statSync(archive).size;
    await quietly(() => bundlesAdd(archive, { control: control.address }));
    const { bundles } = await control.call('ListBundles', {});
    assert.deepEqual(
      bundles.map((b) => b.digest),
      [digest],
    );

    const token = await control.call('CreateEnrollToken', { name: HOST });
    const state = new AgentState(join(work, 'agent'));
    await enroll(state, ts.server.enrollAddress, token.token, readFileSync(join(ts.dir, 'pki', 'ca.crt')));
    const server = await throttlingProxy(ts.server.agentAddress);
    const part = join(state.sub('incoming'), `${digest}.part`);
    const arrived = join(state.sub('archives'), digest);
    const partSize = (): number => (existsSync(part) ? statSync(part).size : 0);

    // First run: order a verified check, kill -9 the agent once a quarter of the bundle has arrived.
    const first = startAgent(state.dir, server);
    await waitFor('the agent to connect', () => ts.server.hub.isConnected(HOST), 60_000, 100);
    const started = Date.now();
    const firstCheck = control.call('Check', { bundle: digest, host: HOST, verify: true, timeoutMs: 120_000 });
    await waitFor('a quarter of the bundle', () => partSize() >= total / 4, 60_000, 5);
    process.kill(first.child.pid!, 'SIGKILL');
    const exit = await new Promise<NodeJS.Signals | null>((r) =>
      first.child.once('exit', (_code, signal) => r(signal)),
    );
    assert.equal(exit, 'SIGKILL');
    const killedAt = partSize();
    t.diagnostic(
      `killed after ${((Date.now() - started) / 1000).toFixed(1)} s with ${killedAt} of ${total} bytes in ${part}`,
    );
    assert.ok(killedAt > 0 && killedAt < total, `the kill landed mid-transfer (${killedAt} of ${total})`);
    assert.equal(existsSync(arrived), false);
    const answer = await firstCheck;
    assert.equal(answer.verified, null, 'the killed agent answered nothing');
    assert.match(answer.note, /disconnected|not connected|UNAVAILABLE/i, answer.note);

    // Second run: the same state folder; the next order resumes the transfer where the file ends.
    const second = startAgent(state.dir, server);
    await waitFor('the agent to reconnect', () => ts.server.hub.isConnected(HOST), 60_000, 100);
    const resumed = Date.now();
    const check = await control.call('Check', { bundle: digest, host: HOST, verify: true, timeoutMs: 120_000 });
    t.diagnostic(`resumed transfer and check took ${((Date.now() - resumed) / 1000).toFixed(1)} s`);
    assert.equal(check.note, '', second.output());
    assert.ok(check.verified !== null && check.verified.runs, JSON.stringify(check.verified));
    assert.equal(check.verified.smokeRan, true);
    assert.equal(check.verified.smokeExit, 0);

    const offsets = transferOffsets(digest);
    assert.equal(offsets.length, 2, `two transfers: ${JSON.stringify(offsets)}`);
    assert.equal(offsets[0], 0, 'the first transfer started at 0');
    assert.equal(offsets[1], killedAt, 'the second one started at the size of the partial file');
    assert.equal(existsSync(part), false, 'the part became the archive');
    assert.equal(
      createHash('sha256').update(readFileSync(arrived)).digest('hex'),
      digest,
      'the archive that arrived is the bundle, byte for byte',
    );
    assert.equal(statSync(arrived).size, total);
  },
);
