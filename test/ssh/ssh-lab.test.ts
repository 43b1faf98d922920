// pyrelo's SSH side against the lab's real OpenSSH servers: strict host keys (unknown, trusted,
// changed), commands and files over one connection, a jump host from ~/.ssh/config-style
// settings, and an upload that resumes across connections cut at random byte counts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { skipUnlessLab, startSshHost, type SshHost } from '../lab/lab.js';
import { startCuttingProxy } from '../support/cutting-proxy.js';
import { sha256File } from '../../src/bundle/file-list.js';
import { fetchHostKey, SshHostKeyError, trustHostKey } from '../../src/remote/ssh/connect.js';
import { resolveSshTarget, type SshTarget } from '../../src/remote/ssh/ssh-config.js';
import { SshTransport, UPLOAD_BYTES_IN_FLIGHT } from '../../src/remote/ssh/ssh-transport.js';
import {
  RemoteConnectionError,
  UploadInterruptedError,
  type UploadProgress,
  type UploadResult,
} from '../../src/remote/transport.js';

const LAB_TIMEOUT_MS = 20 * 60_000;
/** Never a developer's ssh-agent: only the lab's own client key. */
const NO_AGENT = { agentSocket: '' } as const;

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pyrelo-ssh-lab-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function labHost(t: TestContext, suite: 'bookworm' | 'trixie' = 'bookworm'): Promise<SshHost> {
  const host = await startSshHost(suite);
  t.after(() => host.stop());
  return host;
}

/** The target for a lab host, isolated from ~/.ssh: no config file, our own known_hosts. */
function labTarget(host: SshHost, knownHosts: string, port = host.port): Promise<SshTarget> {
  return resolveSshTarget(`root@127.0.0.1:${port}`, {
    identityFile: host.privateKeyPath,
    env: { ...process.env, PYRELO_SSH_CONFIG: '/dev/null', PYRELO_KNOWN_HOSTS: knownHosts },
  });
}

/** The fingerprint `ssh-keygen -lf` prints for the host's key. */
async function keygenFingerprint(dir: string, publicKey: string): Promise<string> {
  const file = join(dir, `key-${randomBytes(4).toString('hex')}.pub`);
  await writeFile(file, `${publicKey}\n`);
  return (await execa('ssh-keygen', ['-lf', file])).stdout.split(/\s+/)[1]!;
}

test(
  'an unknown host key is refused with its ssh-keygen fingerprint and the trust hint; after trusting, commands ' +
    'and files work',
  { timeout: LAB_TIMEOUT_MS },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const host = await labHost(t);
    const dir = await scratch(t);
    const knownHosts = join(dir, 'dot-ssh', 'known_hosts'); // folder missing: trust creates it
    const target = await labTarget(host, knownHosts);
    const fingerprint = await keygenFingerprint(dir, host.hostPublicKey);

    const refused = await SshTransport.connect(target, { ...NO_AGENT, hostName: host.name }).then(
      () => assert.fail('an unknown host key was accepted'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof SshHostKeyError, String(refused));
    assert.equal(refused.status, 'unknown');
    assert.equal(refused.fingerprint, fingerprint);
    assert.match(refused.message, new RegExp(`${fingerprint.replace(/[+/]/g, '\\$&')}`));
    assert.match(refused.message, /ssh-ed25519/);
    assert.match(refused.message, new RegExp(`run: pyrelo hosts trust ${host.name}`));
    assert.match(refused.message, new RegExp(`root@127\\.0\\.0\\.1:${host.port}`));

    const fetched = await fetchHostKey(target, NO_AGENT);
    assert.deepEqual(
      [fetched.keyType, fetched.fingerprint, fetched.knownStatus],
      ['ssh-ed25519', fingerprint, 'unknown'],
    );
    assert.equal(`${fetched.keyType} ${fetched.keyBase64}`, host.hostPublicKey);
    assert.equal(await trustHostKey(target, fetched), knownHosts);
    assert.equal((await fetchHostKey(target, NO_AGENT)).knownStatus, 'known');

    const remote = await SshTransport.connect(target, NO_AGENT);
    t.after(() => remote.close());
    assert.equal(remote.description, `root@127.0.0.1:${host.port}`);

    const plain = await remote.exec('echo "$0"; id -un; exit 3');
    assert.deepEqual([plain.exitCode, plain.stdout.toString()], [3, '/bin/sh\nroot\n']);
    const bytes = await remote.exec("printf '\\000\\377it'\"'\"'s'");
    assert.deepEqual([...bytes.stdout], [0, 0xff, ...Buffer.from("it's")], 'stdout is bytes, quotes survive');
    const input = randomBytes(300_000);
    const echoed = await remote.exec('cat', { stdin: input });
    assert.ok(echoed.stdout.equals(input), 'stdin reaches the command and comes back unchanged');
    const errors: string[] = [];
    const withStderr = await remote.exec('echo one >&2; echo two >&2; echo out', {
      onStderr: (chunk) => errors.push(chunk),
    });
    assert.equal(withStderr.stderr, 'one\ntwo\n');
    assert.equal(errors.join(''), 'one\ntwo\n');
    assert.equal(withStderr.stdout.toString(), 'out\n');
    assert.equal((await remote.exec('kill -9 $$')).exitCode, 255, 'killed by a signal');

    // the link's own size, as lstat says
    const linkSize = Number((await remote.exec('stat -c %s /etc/os-release')).stdout.toString());
    assert.deepEqual(await remote.stat('/etc/os-release'), {
      size: linkSize,
      isDirectory: false,
      isSymbolicLink: true,
    });
    assert.equal((await remote.stat('/etc'))?.isDirectory, true);
    assert.equal(await remote.stat('/no/such/file'), null);
    assert.match((await remote.readFile('/usr/lib/os-release')).toString(), /^VERSION_CODENAME=bookworm$/m);
    await assert.rejects(remote.readFile('/no/such/file'), /\/no\/such\/file/);

    // Small uploads: a complete file is not sent again; a larger remote file is rewritten from 0.
    const small = join(dir, 'small.bin');
    await writeFile(small, randomBytes(100_000));
    assert.deepEqual(await remote.upload(small, '/tmp/small.bin'), { bytesSent: 100_000, resumedFrom: 0 });
    assert.deepEqual(await remote.upload(small, '/tmp/small.bin'), { bytesSent: 0, resumedFrom: 100_000 });
    await writeFile(small, randomBytes(5_000));
    assert.deepEqual(await remote.upload(small, '/tmp/small.bin'), { bytesSent: 5_000, resumedFrom: 0 });
    const sum = await remote.exec('sha256sum /tmp/small.bin');
    assert.equal(sum.stdout.toString().split(' ')[0], sha256File(small));
  },
);

test(
  'a changed host key is refused, naming the known_hosts line and both fingerprints',
  { timeout: LAB_TIMEOUT_MS },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const host = await labHost(t);
    const dir = await scratch(t);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'impostor')]);
    const impostor = (await execa('cat', [join(dir, 'impostor.pub')])).stdout.split(' ').slice(0, 2).join(' ');
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `# lab\n[127.0.0.1]:${host.port} ${impostor}\n`);
    const target = await labTarget(host, knownHosts);

    const refused = await SshTransport.connect(target, NO_AGENT).then(
      () => assert.fail('a changed key was accepted'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof SshHostKeyError, String(refused));
    assert.equal(refused.status, 'changed');
    assert.match(refused.message, new RegExp(`${knownHosts}:2`));
    assert.ok(refused.message.includes(await keygenFingerprint(dir, host.hostPublicKey)), 'names the presented key');
    assert.ok(refused.message.includes(await keygenFingerprint(dir, impostor)), 'names the known key');
    assert.equal((await fetchHostKey(target, NO_AGENT)).knownStatus, 'changed');

    await writeFile(knownHosts, `${host.knownHostsLine}\n@revoked * ${host.hostPublicKey}\n`);
    const revoked = await SshTransport.connect(target, NO_AGENT).then(
      () => assert.fail('a revoked key was accepted'),
      (error: unknown) => error,
    );
    assert.ok(revoked instanceof SshHostKeyError && revoked.status === 'revoked', String(revoked));
  },
);

test(
  'a jump host from an ssh config file: trixie carries the connection to bookworm',
  { timeout: LAB_TIMEOUT_MS },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const [jump, site] = await Promise.all([labHost(t, 'trixie'), labHost(t, 'bookworm')]);
    const dir = await scratch(t);
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${jump.knownHostsLine}\n${site.knownHostsLine}\n`);
    const config = join(dir, 'config');
    await writeFile(
      config,
      [
        'Host gateway',
        '  HostName 127.0.0.1',
        `  Port ${jump.port}`,
        '  User root',
        `  IdentityFile ${jump.privateKeyPath}`,
        'Host site',
        '  HostName 127.0.0.1',
        `  Port ${site.port}`,
        '  User root',
        `  IdentityFile ${site.privateKeyPath}`,
        '  ProxyJump gateway',
        '',
      ].join('\n'),
    );
    const target = await resolveSshTarget('site', {
      env: { ...process.env, PYRELO_SSH_CONFIG: config, PYRELO_KNOWN_HOSTS: knownHosts },
    });
    assert.equal(target.port, site.port);
    assert.deepEqual(target.identityFiles, [site.privateKeyPath]);
    assert.equal(target.via?.port, jump.port);
    assert.deepEqual(target.via?.identityFiles, [jump.privateKeyPath]);

    const remote = await SshTransport.connect(target, NO_AGENT);
    t.after(() => remote.close());
    assert.match((await remote.exec('cat /etc/os-release')).stdout.toString(), /^VERSION_CODENAME=bookworm$/m);
    assert.equal((await remote.stat('/etc/os-release'))?.isSymbolicLink, true);
    const fetched = await fetchHostKey(target, NO_AGENT);
    assert.equal(
      `${fetched.keyType} ${fetched.keyBase64}`,
      site.hostPublicKey,
      "the key fetched through the jump is the site's",
    );
    assert.equal(fetched.knownStatus, 'known');

    // The jump's own key is checked too: without it on file, nothing gets through.
    await writeFile(knownHosts, `${site.knownHostsLine}\n`);
    const refused = await SshTransport.connect(target, NO_AGENT).then(
      () => assert.fail('unknown jump key accepted'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof SshHostKeyError && refused.status === 'unknown', String(refused));
    assert.match(refused.message, new RegExp(`:${jump.port}`));
  },
);

test(
  'an upload cut at random byte counts resumes where the host has it and ends with the same sha256',
  { timeout: LAB_TIMEOUT_MS },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const host = await labHost(t);
    const dir = await scratch(t);
    const proxy = await startCuttingProxy(host.port);
    t.after(() => proxy.close());
    const knownHosts = join(dir, 'known_hosts');
    // The proxy's port is another [127.0.0.1]:port name for the same host key.
    await writeFile(knownHosts, `${host.knownHostsLine}\n[127.0.0.1]:${proxy.port} ${host.hostPublicKey}\n`);
    const throughProxy = await labTarget(host, knownHosts, proxy.port);
    const direct = await labTarget(host, knownHosts);

    const size = 30 * 1024 * 1024;
    const local = join(dir, 'payload.bin');
    await writeFile(local, randomBytes(size));
    const remotePath = '/tmp/pyrelo-upload/payload.bin';
    const setup = await SshTransport.connect(direct, NO_AGENT);
    t.after(() => setup.close());
    assert.equal((await setup.exec(`mkdir -p ${dirname(remotePath)} && rm -f ${remotePath}`)).exitCode, 0);

    // Four cuts of 2–6 MiB each fall inside the 30 MiB upload; the fifth attempt finishes.
    const CUTS = 4;
    const interruptions: UploadInterruptedError[] = [];
    /** Where each attempt started: its first progress report is the resume offset. */
    const resumedFrom: number[] = [];
    let finished: UploadResult | undefined;
    for (let attempt = 0; attempt <= CUTS && !finished; attempt++) {
      if (attempt < CUTS) proxy.cutAfter(randomInt(2 * 1024 * 1024, 6 * 1024 * 1024));
      const remote = await SshTransport.connect(throughProxy, NO_AGENT);
      const progress: UploadProgress[] = [];
      try {
        finished = await remote.upload(local, remotePath, (p) => progress.push(p));
        assert.equal(finished.resumedFrom, progress[0]?.acknowledged);
        await remote.close();
      } catch (error) {
        assert.ok(error instanceof UploadInterruptedError, `attempt ${attempt}: ${String(error)}`);
        assert.equal(error.remotePath, remotePath);
        assert.equal(error.total, size);
        assert.equal(error.acknowledged, progress.at(-1)?.acknowledged, 'the error reports what progress last said');
        interruptions.push(error);
      }
      assert.ok(progress.length > 0, `attempt ${attempt} reported its start`);
      resumedFrom.push(progress[0]!.acknowledged);
      for (let i = 1; i < progress.length; i++)
        assert.ok(progress[i]!.acknowledged >= progress[i - 1]!.acknowledged, 'progress never goes back');
    }
    assert.ok(finished, 'the upload finished within the attempts');
    assert.equal(interruptions.length, CUTS, 'every cut interrupted an attempt');
    assert.equal(proxy.cuts, CUTS);
    assert.equal(finished.resumedFrom + finished.bytesSent, size);
    assert.equal(resumedFrom[0], 0);
    interruptions.forEach((interrupted, k) => {
      assert.ok(interrupted.acknowledged >= resumedFrom[k]!, `attempt ${k} acknowledged less than it started with`);
      assert.ok(
        resumedFrom[k + 1]! >= interrupted.acknowledged,
        `attempt ${k + 1} resumed at ${resumedFrom[k + 1]}, before the ${interrupted.acknowledged} bytes ` +
          `attempt ${k} had acknowledged`,
      );
    });
    t.diagnostic(
      `resumed at ${resumedFrom.join(', ')}; acknowledged at the cuts ` +
        `${interruptions.map((e) => e.acknowledged).join(', ')}; ${proxy.bytesUp} bytes up for ${size}`,
    );

    const sum = await setup.exec(`sha256sum ${remotePath}`);
    assert.equal(sum.stdout.toString().split(' ')[0], sha256File(local), 'the host has the same bytes');
    // Resuming does not start over: besides SSH framing (a few %), a cut wastes at most the
    // writes in flight (the kernel drops what sshd had not read yet when the link is reset).
    const bound = size * 1.03 + CUTS * UPLOAD_BYTES_IN_FLIGHT;
    assert.ok(
      proxy.bytesUp < bound,
      `sent ${proxy.bytesUp} bytes through the proxy for a ${size}-byte file (bound ${bound})`,
    );
  },
);

test(
  'authentication: ssh-agent first, an encrypted key is skipped with a note, a refused key is named',
  { timeout: LAB_TIMEOUT_MS },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const host = await labHost(t);
    const dir = await scratch(t);
    const target = await labTarget(host, host.knownHostsPath);
    const keygen = (name: string, passphrase: string) =>
      execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', join(dir, name)]);
    await Promise.all([keygen('stranger', ''), keygen('locked', 'secret passphrase')]);
    const stranger = join(dir, 'stranger');
    const locked = join(dir, 'locked');

    const refused = await SshTransport.connect({ ...target, identityFiles: [stranger] }, NO_AGENT).then(
      () => assert.fail('a stranger key was accepted'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof RemoteConnectionError && !(refused instanceof SshHostKeyError), String(refused));
    assert.match(refused.message, new RegExp(`authentication as root refused; tried ${stranger}`));

    const notes: string[] = [];
    const viaFiles = await SshTransport.connect(
      { ...target, identityFiles: [locked, stranger, host.privateKeyPath] },
      { ...NO_AGENT, onNote: (note) => notes.push(note) },
    );
    assert.equal((await viaFiles.exec('true')).exitCode, 0);
    await viaFiles.close();
    assert.deepEqual(notes, [
      `identity file ${locked} skipped: it is encrypted and no passphrase can be asked for (add it to ssh-agent)`,
    ]);

    // A real ssh-agent holding the lab key: used first, so no identity file is needed at all.
    const socket = join(dir, 'agent.sock');
    const agent = execa('ssh-agent', ['-D', '-a', socket], { reject: false, stdio: 'ignore' });
    t.after(async () => {
      agent.kill();
      await agent;
    });
    for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(50);
    await execa('ssh-add', ['-q', host.privateKeyPath], { env: { SSH_AUTH_SOCK: socket } });
    const viaAgent = await SshTransport.connect({ ...target, identityFiles: [stranger] }, { agentSocket: socket });
    assert.equal((await viaAgent.exec('id -un')).stdout.toString(), 'root\n');
    await viaAgent.close();
  },
);

test(
  'a connection dropped or gone dead under a running command rejects with RemoteConnectionError',
  { timeout: LAB_TIMEOUT_MS },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const host = await labHost(t);
    const proxy = await startCuttingProxy(host.port);
    t.after(() => proxy.close());
    const dir = await scratch(t);
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `[127.0.0.1]:${proxy.port} ${host.hostPublicKey}\n`);
    const target = await labTarget(host, knownHosts, proxy.port);

    const cut = await SshTransport.connect(target, NO_AGENT);
    const running = cut.exec('sleep 30');
    setTimeout(() => proxy.cutNow(), 300);
    await assert.rejects(
      running,
      (error: unknown) =>
        error instanceof RemoteConnectionError &&
        !(error instanceof UploadInterruptedError) &&
        error.target === `root@127.0.0.1:${proxy.port}`,
    );
    await assert.rejects(cut.exec('true'), RemoteConnectionError, 'later calls reject at once');
    await assert.rejects(cut.stat('/etc'), RemoteConnectionError);

    // Nothing comes back any more, nothing is closed either: keepalives notice.
    const dead = await SshTransport.connect(target, { ...NO_AGENT, keepaliveIntervalMs: 200 });
    const waiting = dead.exec('sleep 30');
    setTimeout(() => proxy.stall(), 300);
    await assert.rejects(waiting, RemoteConnectionError);
  },
);
