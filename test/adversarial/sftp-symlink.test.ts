// Issue 13 item 3: the SFTP upload must never write through a symlink. On a lab host reached over
// real SSH (its own sshd), the real user `nobody` plants a symlink where the deploy uploads its
// archive (a folder nobody owns), pointing at a root-owned 0600 file; the unfixed upload lstat'd
// the link, took its length for a partial upload and opened it `r+`, writing bundle bytes into
// the root file. Now the upload is refused naming the path, and the root file is unchanged. A
// regular partial file is still resumed, and a larger one is replaced by a fresh file.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessLab, startSshHost } from '../lab/lab.js';
import { resolveSshTarget } from '../../src/remote/ssh/ssh-config.js';
import { SshTransport } from '../../src/remote/ssh/ssh-transport.js';

const LAB_TIMEOUT_MS = 20 * 60_000;

async function connected(t: TestContext): Promise<SshTransport> {
  const host = await startSshHost('bookworm');
  t.after(() => host.stop());
  const target = await resolveSshTarget(`root@127.0.0.1:${host.port}`, {
    identityFile: host.privateKeyPath,
    env: { ...process.env, PYRELO_SSH_CONFIG: '/dev/null', PYRELO_KNOWN_HOSTS: host.knownHostsPath },
  });
  const remote = await SshTransport.connect(target, { agentSocket: '' });
  t.after(() => remote.close());
  return remote;
}

async function sh(remote: SshTransport, script: string): Promise<string> {
  const result = await remote.exec(script);
  assert.equal(result.exitCode, 0, `${script}: ${result.stderr}`);
  return result.stdout.toString();
}

test(
  'an SFTP upload onto a symlink planted by nobody is refused and the root file it points to is unchanged',
  { timeout: LAB_TIMEOUT_MS },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const remote = await connected(t);
    const dir = await mkdtemp(join(tmpdir(), 'pyrelo-adversarial-sftp-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const local = join(dir, 'bundle.tar.gz');
    await writeFile(local, randomBytes(256 * 1024));

    await sh(
      remote,
      'umask 077 && printf "root secret\\n" > /root/victim && mkdir -m 0755 /srv/drop && chown nobody /srv/drop',
    );
    // The attacker, as the real user nobody, in the folder they own.
    await sh(remote, 'runuser -u nobody -- ln -s /root/victim /srv/drop/app.tar.gz');

    await assert.rejects(remote.upload(local, '/srv/drop/app.tar.gz'), (error: Error) => {
      assert.match(error.message, /: \/srv\/drop\/app\.tar\.gz is a symlink; refusing to write through it$/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
    assert.equal(await sh(remote, 'cat /root/victim'), 'root secret\n', 'the root file is unchanged');
    assert.equal(await sh(remote, 'stat -c %a:%U /root/victim'), '600:root\n');

    // What is not an attack still works: a regular partial file resumes; a larger one is replaced.
    const partial = join(dir, 'partial.bin');
    const bytes = randomBytes(5000);
    await writeFile(partial, bytes);
    await writeFile(join(dir, 'first.bin'), bytes.subarray(0, 1000));
    assert.deepEqual(await remote.upload(join(dir, 'first.bin'), '/srv/drop/partial.bin'), {
      bytesSent: 1000,
      resumedFrom: 0,
    });
    assert.deepEqual(await remote.upload(partial, '/srv/drop/partial.bin'), { bytesSent: 4000, resumedFrom: 1000 });
    assert.deepEqual(await remote.readFile('/srv/drop/partial.bin'), bytes);
    await writeFile(join(dir, 'small.bin'), bytes.subarray(0, 10));
    assert.deepEqual(await remote.upload(join(dir, 'small.bin'), '/srv/drop/partial.bin'), {
      bytesSent: 10,
      resumedFrom: 0,
    });
    assert.deepEqual(await remote.readFile('/srv/drop/partial.bin'), bytes.subarray(0, 10));
  },
);
