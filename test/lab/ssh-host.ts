// A Debian root reachable over real SSH: the root's own sshd, run in the root (private
// mount and PID namespaces, throwaway overlay) on a free 127.0.0.1 port, with a host key
// and a client key generated per lab instance into a private state folder.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { ensureRoot, type EnsureOptions } from './ensure-root.js';
import { trackScratchFolder } from './live-processes.js';
import type { DebianRootName } from './recipes.js';
import { spawnInRoot, type RunResult } from './run-in-root.js';

export interface SshHost {
  /** site-<suite>, the name later tests use for the host. */
  name: string;
  host: '127.0.0.1';
  port: number;
  user: 'root';
  privateKeyPath: string;
  /** "ssh-ed25519 AAAA…", the host key sshd presents. */
  hostPublicKey: string;
  /** "[127.0.0.1]:PORT ssh-ed25519 AAAA…", for a known_hosts file. */
  knownHostsLine: string;
  /** A known_hosts file holding exactly knownHostsLine. */
  knownHostsPath: string;
  /** ssh options that reach this host and trust only its key: `ssh ...sshOptions host cmd`. */
  sshOptions: string[];
  stop(): Promise<void>;
}

/** Where the state folder is bound inside the root; read-only there. */
const STATE_IN_ROOT = '/run/pyrelo-lab-ssh';
const READY_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 3;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** True once something on the port answers with an SSH banner. */
function answersSsh(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('data', (data) => finish(data.toString('latin1').startsWith('SSH-2.0-')));
  });
}

function sshdConfig(port: number): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${STATE_IN_ROOT}/host_ed25519`,
    `AuthorizedKeysFile ${STATE_IN_ROOT}/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PidFile none',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

async function generateKeys(state: string, name: string): Promise<{ hostPublicKey: string; privateKeyPath: string }> {
  const keygen = (file: string, comment: string) =>
    execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(state, file)]);
  await Promise.all([
    keygen('host_ed25519', `pyrelo-lab-host-${name}`),
    keygen('client_ed25519', `pyrelo-lab-client-${name}`),
  ]);
  await writeFile(join(state, 'authorized_keys'), await readFile(join(state, 'client_ed25519.pub'), 'utf8'), {
    mode: 0o600,
  });
  const [type, key] = (await readFile(join(state, 'host_ed25519.pub'), 'utf8')).trim().split(/\s+/);
  return { hostPublicKey: `${type} ${key}`, privateKeyPath: join(state, 'client_ed25519') };
}

export async function startSshHost(suite: DebianRootName, opts: EnsureOptions = {}): Promise<SshHost> {
  const root = await ensureRoot(suite, opts);
  const name = `site-${suite}`;
  const state = await mkdtemp(join(tmpdir(), `pyrelo-lab-${name}-`)); // mode 0700, as sshd's StrictModes wants
  const untrackState = trackScratchFolder(state);
  try {
    const { hostPublicKey, privateKeyPath } = await generateKeys(state, name);
    let lastFailure = '';
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const port = await freePort();
      await writeFile(join(state, 'sshd_config'), sshdConfig(port));
      const sshd = await spawnInRoot(
        root,
        // /run/sshd is sshd's privilege-separation folder; systemd would make it on a real host.
        [
          '/bin/sh',
          '-c',
          `mkdir -p -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f ${STATE_IN_ROOT}/sshd_config -h ` +
            `${STATE_IN_ROOT}/host_ed25519`,
        ],
        { bind: [{ hostPath: state, rootPath: STATE_IN_ROOT, readOnly: true }] },
      );
      let exited: RunResult | undefined;
      void sshd.done.then((result) => (exited = result));
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (!exited && Date.now() < deadline && !(await answersSsh(port))) await sleep(100);
      if (!exited && Date.now() < deadline) {
        const knownHostsLine = `[127.0.0.1]:${port} ${hostPublicKey}`;
        const knownHostsPath = join(state, 'known_hosts');
        await writeFile(knownHostsPath, `${knownHostsLine}\n`);
        let stopped = false;
        return {
          name,
          host: '127.0.0.1',
          port,
          user: 'root',
          privateKeyPath,
          hostPublicKey,
          knownHostsLine,
          knownHostsPath,
          sshOptions: [
            '-F',
            '/dev/null',
            '-i',
            privateKeyPath,
            '-o',
            'IdentitiesOnly=yes',
            '-o',
            'BatchMode=yes',
            '-o',
            `UserKnownHostsFile=${knownHostsPath}`,
            '-o',
            'GlobalKnownHostsFile=/dev/null',
            '-o',
            'StrictHostKeyChecking=yes',
            '-p',
            String(port),
            '-l',
            'root',
          ],
          async stop() {
            if (stopped) return;
            stopped = true;
            sshd.kill();
            await sshd.done;
            await rm(state, { recursive: true, force: true });
            untrackState();
          },
        };
      }
      sshd.kill();
      const result = await sshd.done;
      lastFailure = exited
        ? `sshd exited ${result.exitCode}: ${result.stderr.trim()}`
        : `no SSH banner on port ${port} within ${READY_TIMEOUT_MS} ms: ${result.stderr.trim()}`;
    }
    throw new Error(`could not start sshd in ${suite}: ${lastFailure}`);
  } catch (error) {
    await rm(state, { recursive: true, force: true });
    untrackState();
    throw error;
  }
}
