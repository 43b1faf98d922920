// Deploys over a real SSH connection (bookworm's own sshd) that a TCP proxy cuts at random points,
// at least 20 times: at random byte counts (the handshake, the agent's calls, the upload) and at
// random moments after the remote install started. After every cut:
//   - PREFIX/current names the old or the new release, never anything else, and that release
//     verifies file by file against its manifest (checked over a second, uncut connection);
//   - the next deploy resumes the upload at no less than what the host had acknowledged, and the
//     bytes the proxy really forwarded while it uploaded exceed what was left to send by no more
//     than one window of writes in flight, so what arrived is not sent again;
// and one more deploy always finishes the job, after which a redeploy sends nothing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { labSkipReason, startSshHost, type SshHost } from '../lab/lab.js';
import { listBundleFiles } from '../../src/bundle/file-list.js';
import { writeManifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import { ControlClient } from '../../src/client/control-client.js';
import { uploadBundle } from '../../src/client/commands/bundles.js';
import { agentArchive, type AgentArchive } from '../../src/client/deploy/agent-archive.js';
import { deployToHost, type HostDeployResult } from '../../src/client/deploy/deploy-host.js';
import { localBundle, type LocalBundle } from '../../src/client/deploy/local-bundle.js';
import { HostProgress } from '../../src/client/deploy/progress.js';
import { connectHost } from '../../src/client/deploy/reach.js';
import { createHash } from 'node:crypto';
import type { HostInfo } from '../../src/proto/messages.js';
import { UPLOAD_BYTES_IN_FLIGHT } from '../../src/remote/ssh/ssh-transport.js';
import { startCuttingProxy, type CuttingProxy } from '../support/cutting-proxy.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';

const skip = labSkipReason(['debootstrap', 'ssh']);
const PREFIX = '/opt/pyrelo/faultapp';
const CUTS_WANTED = 22;
const BLOB_BYTES = 8 * 1024 * 1024;
/**
 * Writes in flight that a cut may lose: the SFTP window (UPLOAD_BYTES_IN_FLIGHT, 16 × 128 KiB) and
 * as much again of slack.
 */
const IN_FLIGHT = 2 * UPLOAD_BYTES_IN_FLIGHT;
/** SSH and SFTP framing of the upload's bytes (as in ssh/ssh-lab.test.ts). */
const FRAMING = 1.03;
/** What the transfer step sends besides the archive: `release list`, `mkdir`, SFTP stat, open, fsync, close. */
const TRANSFER_CALLS_BYTES = 64 * 1024;

let work: string;
let ts: TestServer;
let control: ControlClient;
let ssh: SshHost;
let proxy: CuttingProxy;
let agent: AgentArchive;
let program: string;
const log: string[] = [];

/** Version n of a small bundle: a static program as its "python", and a random blob of its own. */
async function version(n: number): Promise<LocalBundle> {
  const root = join(work, `v${n}`);
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'share'), { recursive: true });
  copyFileSync(program, join(root, 'bin', 'python3'));
  let seed = createHash('sha256').update(`blob ${n}`).digest();
  const blob = Buffer.alloc(BLOB_BYTES);
  for (let offset = 0; offset < BLOB_BYTES; offset += 32) {
    seed = createHash('sha256').update(seed).digest();
    seed.copy(blob, offset);
  }
  writeFileSync(join(root, 'share', `blob-${n}`), blob);
  writeManifest(root, {
    format: 'pyrelo-bundle/1',
    name: 'faultapp',
    python: { version: '3.11.9', executable: 'bin/python3', packages: [] },
    libc: 'bundle',
    glibcFloor: null,
    kernelFloor: '3.2.0',
    entryPoints: {},
    steps: [],
    slimmed: [],
    grafted: [],
    elf: [{ path: 'bin/python3', needed: [], versions: {}, runpath: null }],
    files: listBundleFiles(root),
  });
  const archive = join(work, `faultapp-v${n}.tar.gz`);
  await packBundle(root, archive);
  return localBundle(archive);
}

/** current's target and whether that release verifies, over an uncut connection. */
async function hostState(): Promise<{ current: string; ok: boolean; detail: string }> {
  const script =
    `readlink ${PREFIX}/current || echo none; $(ls -d /root/.pyrelo/agent/*/bin/pyrelo-agent | head -1) release ` +
    `verify --prefix ${PREFIX} --json`;
  const r = await execa('ssh', [...ssh.sshOptions, ssh.host, script], { reject: false });
  const [current, ...rest] = r.stdout.split('\n');
  const json = rest.join('\n');
  const ok = json.trim().startsWith('{') && (JSON.parse(json) as { ok: boolean }).ok;
  return { current: current!.replace(/^releases\//, ''), ok, detail: `${r.stdout}\n${r.stderr}` };
}

let lastStep = '';

async function deploy(bundle: LocalBundle, host: HostInfo, onStep?: (step: string) => void): Promise<HostDeployResult> {
  lastStep = '';
  return deployToHost(host, bundle, {
    force: false,
    inventoryMaxAgeMs: 3_600_000,
    agent,
    control,
    connect: connectHost,
    onStep: (step) => {
      if (step !== 'record') lastStep = step;
      onStep?.(step);
    },
    progress: new HostProgress(host.name, { inPlace: false, line: (t) => log.push(t), redraw: () => {} }),
  });
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-ssh-faults-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
  ssh = await startSshHost('bookworm');
  proxy = await startCuttingProxy(ssh.port);
  process.env.PYRELO_KNOWN_HOSTS = join(work, 'known_hosts');
  process.env.PYRELO_SSH_CONFIG = '/dev/null';
  writeFileSync(process.env.PYRELO_KNOWN_HOSTS, `[127.0.0.1]:${proxy.port} ${ssh.hostPublicKey}\n`);
  await control.call('AddHost', {
    name: 'site-faults',
    access: {
      ssh: `root@127.0.0.1:${proxy.port}`,
      key: ssh.privateKeyPath,
      jump: '',
      chroot: '',
      groups: [],
      prefix: PREFIX,
    },
  });
  program = join(work, 'hello');
  writeFileSync(`${program}.c`, '#include <stdio.h>\nint main(void) { puts("3.11.9"); return 0; }\n');
  await execa('gcc', ['-O1', '-static', '-o', program, `${program}.c`]);
  agent = await agentArchive();
});

after(async () => {
  if (skip) return;
  delete process.env.PYRELO_KNOWN_HOSTS;
  delete process.env.PYRELO_SSH_CONFIG;
  await proxy?.close();
  await ssh?.stop();
  control?.close();
  await ts?.server.stop(500);
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  `deploy survives ${CUTS_WANTED} cuts of its SSH connection: current is always old or new, and nothing that ` +
    'arrived is sent again',
  { skip, timeout: 900_000 },
  async (t) => {
    const cutDuring = new Map<string, number>();
    const host = async () => control.call('ShowHost', { name: 'site-faults' });
    const first = await version(1);
    await uploadBundle(control, first.archive);
    const v1 = await deploy(first, await host());
    assert.equal(v1.status, 'verified', log.join('\n'));
    let old = v1.release;

    let random = 0x2545f491;
    const rand = (n: number) => {
      random = (random * 1103515245 + 12345) >>> 0; // deterministic: a failing run can be replayed
      return random % n;
    };
    const interrupted: HostDeployResult[] = [];
    /** Most bytes forwarded beyond what an attempt had left to send, for the diagnostic. */
    let worstExcess = 0;
    for (let n = 2; proxy.cuts < CUTS_WANTED && n < 30; n++) {
      const next = await version(n);
      await uploadBundle(control, next.archive);
      let previousAcknowledged = 0;
      /** Bytes the proxy forwarded to the host during the transfer steps of this version's attempts. */
      let forwardedThisVersion = 0;
      let interruptions = 0;
      for (let attempt = 0; ; attempt++) {
        assert.ok(attempt < 30, `version ${n} did not finish after 30 attempts:\n${log.slice(-40).join('\n')}`);
        const cutsBefore = proxy.cuts;
        const wantCut = proxy.cuts < CUTS_WANTED && attempt < 6;
        let timer: NodeJS.Timeout | undefined;
        // A third of the cuts early (handshake, agent calls: the first 60 kB), a third anywhere in the
        // upload, a third in the first 300 ms after the remote install began (it takes about 0.3 s here).
        const mode = wantCut ? rand(3) : -1;
        if (mode === 0) proxy.cutAfter(1 + rand(60_000));
        if (mode === 1) proxy.cutAfter(1 + rand(BLOB_BYTES + 400_000));
        // The proxy's count of bytes up when the transfer step began and when the install began:
        // what really left for the host while the archive was sent, whatever the client reports.
        let upAtTransfer: number | undefined;
        let upAtInstall: number | undefined;
        const onStep = (step: string) => {
          if (step === 'transfer') upAtTransfer = proxy.bytesUp;
          if (step === 'install') upAtInstall ??= proxy.bytesUp;
          if (mode === 2 && step === 'install' && timer === undefined)
            timer = setTimeout(() => proxy.cutNow(), rand(300));
        };
        const result = await deploy(next, await host(), onStep);
        clearTimeout(timer);
        proxy.cutAfter(Number.MAX_SAFE_INTEGER); // disarm
        const forwarded = upAtTransfer === undefined ? 0 : (upAtInstall ?? proxy.bytesUp) - upAtTransfer;
        forwardedThisVersion += forwarded;
        // What the host had when this attempt began (the size it reported, from which the upload
        // resumed) and had acknowledged when it ended: only the bytes between, plus the writes a cut
        // caught in flight, may cross the link. An upload that started over below the resume offset
        // sends them again, and the proxy counts them.
        const startedAt = result.resumedFrom ?? result.acknowledged;
        const leftToSend = Math.max(0, result.acknowledged - startedAt);
        const inFlightAllowed = result.status === 'interrupted' ? IN_FLIGHT : 0;
        assert.ok(
          forwarded <= leftToSend * FRAMING + inFlightAllowed + TRANSFER_CALLS_BYTES,
          `v${n} attempt ${attempt} (${result.status}): the proxy forwarded ${forwarded} bytes while uploading ` +
            `from ${startedAt} to ${result.acknowledged} of ${next.size}:\n${log.slice(-20).join('\n')}`,
        );
        worstExcess = Math.max(worstExcess, forwarded - leftToSend);

        const state = await hostState();
        assert.ok(
          [old, result.release].includes(state.current),
          `after attempt ${attempt} of v${n}: current is ${state.current}, neither ${old} nor ${result.release}`,
        );
        assert.ok(
          state.ok,
          `after attempt ${attempt} of v${n}: current ${state.current} does not verify:\n${state.detail}`,
        );

        if (result.resumedFrom !== null) {
          assert.ok(
            result.resumedFrom >= previousAcknowledged,
            `v${n} attempt ${attempt}: upload started at ${result.resumedFrom}, but the host had acknowledged ` +
              `${previousAcknowledged}`,
          );
        }
        if (result.status === 'interrupted') {
          assert.ok(proxy.cuts > cutsBefore, `interrupted without a cut: ${result.reason}`);
          interrupted.push(result);
          interruptions++;
          cutDuring.set(lastStep, (cutDuring.get(lastStep) ?? 0) + 1);
          // The host keeps what it acknowledged: the next attempt must start at or after it.
          previousAcknowledged = Math.max(previousAcknowledged, result.acknowledged);
          continue;
        }
        assert.equal(
          result.status,
          'verified',
          `v${n} attempt ${attempt}: ${result.reason}\n${log.slice(-30).join('\n')}`,
        );
        assert.equal(state.current, result.release);
        break;
      }
      // Resuming means the whole version cost about one archive (here the delta is no smaller than
      // the bundle: the change is the whole blob), not one per attempt: counted at the proxy.
      const attempts = interruptions + 1;
      assert.ok(
        forwardedThisVersion <= next.size * FRAMING + IN_FLIGHT * interruptions + TRANSFER_CALLS_BYTES * attempts,
        `v${n}: the proxy forwarded ${forwardedThisVersion} bytes while uploading a ${next.size}-byte archive ` +
          `in ${attempts} attempts:\n${log.slice(-40).join('\n')}`,
      );
      assert.ok(
        forwardedThisVersion >= next.size,
        `v${n}: only ${forwardedThisVersion} bytes crossed the proxy for a ${next.size}-byte archive: the ` +
          'count misses the upload',
      );
      const again = await deploy(next, await host());
      assert.equal(again.status, 'verified');
      assert.equal(again.bytesSent, 0, 'a redeploy of what is there sends nothing');
      old = again.release;
      await sleep(10);
    }
    t.diagnostic(
      `at most ${worstExcess} bytes forwarded beyond what an attempt had left to send (allowed: ${IN_FLIGHT} ` +
        'after a cut)',
    );
    t.diagnostic(
      `${proxy.cuts} cuts; deploys interrupted during: ` +
        `${[...cutDuring].map(([step, count]) => `${step} ${count}`).join(', ')}`,
    );
    assert.ok(proxy.cuts >= CUTS_WANTED, `only ${proxy.cuts} cuts happened`);
    assert.ok(interrupted.length >= CUTS_WANTED / 2, `only ${interrupted.length} deploys were interrupted`);
  },
);
