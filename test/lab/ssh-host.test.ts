// Each Debian root is reachable over real SSH, trusting only its own generated host key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { DEBIAN_ROOT_NAMES, skipUnlessLab, startSshHost, type SshHost } from './lab.js';
import { hostMounts } from './host-probes.js';

const COLD_BUILD_TIMEOUT_MS = 20 * 60_000;

function ssh(args: string[]) {
  return execa('ssh', args, { reject: false, timeout: 30_000, stdin: 'ignore' });
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

for (const suite of DEBIAN_ROOT_NAMES) {
  test(
    `site-${suite}: its own sshd answers over SSH with the known host key, and stop leaves nothing`,
    { timeout: COLD_BUILD_TIMEOUT_MS },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
      const before = await hostMounts();
      let host: SshHost | undefined;
      try {
        host = await startSshHost(suite);
        assert.equal(host.name, `site-${suite}`);
        const knownHosts = join(await mkdtemp(join(tmpdir(), 'pyrelo-lab-kh-')), 'known_hosts');
        await writeFile(knownHosts, `${host.knownHostsLine}\n`);
        const common = [
          '-F',
          '/dev/null',
          '-i',
          host.privateKeyPath,
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'BatchMode=yes',
          '-o',
          'GlobalKnownHostsFile=/dev/null',
          '-o',
          'StrictHostKeyChecking=yes',
          '-p',
          String(host.port),
        ];

        const reached = await ssh([
          ...common,
          '-o',
          `UserKnownHostsFile=${knownHosts}`,
          `root@${host.host}`,
          'cat /etc/os-release',
        ]);
        assert.equal(reached.exitCode, 0, reached.stderr);
        assert.match(reached.stdout, new RegExp(`^VERSION_CODENAME=${suite}$`, 'm'));

        const viaOptions = await ssh([...host.sshOptions, host.host, 'echo $(id -un)']);
        assert.equal(viaOptions.stdout, 'root', viaOptions.stderr);

        await writeFile(knownHosts, '');
        const unknown = await ssh([...common, '-o', `UserKnownHostsFile=${knownHosts}`, `root@${host.host}`, 'true']);
        assert.notEqual(unknown.exitCode, 0);
        assert.match(unknown.stderr, /Host key verification failed/);
        await rm(join(knownHosts, '..'), { recursive: true, force: true });

        const port = host.port;
        const state = join(host.privateKeyPath, '..');
        await host.stop();
        assert.ok(await refusesConnections(port), 'sshd still listening after stop');
        assert.equal(existsSync(state), false, 'state folder with the keys removed');
        assert.equal(await hostMounts(), before);
      } finally {
        await host?.stop();
      }
    },
  );
}

test('a client key the host does not know is refused', { timeout: COLD_BUILD_TIMEOUT_MS }, async (t) => {
  if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
  const host = await startSshHost('bookworm');
  t.after(() => host.stop());
  const dir = await mkdtemp(join(tmpdir(), 'pyrelo-lab-key-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
  const options = host.sshOptions.map((o) => (o === host.privateKeyPath ? join(dir, 'stranger') : o));
  const result = await ssh([...options, host.host, 'true']);
  assert.notEqual(result.exitCode, 0);
  assert.match(result.stderr, /Permission denied \(publickey\)/);
});
