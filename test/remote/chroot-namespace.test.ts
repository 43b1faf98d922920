// Commands on a --chroot host see what a real host has (/proc, /dev), in their own mount and PID
// namespace, and nothing of it is ever mounted on this machine, even when the process that started
// them is killed with kill -9 (README "Deploy over SSH").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ChrootTransport } from '../../src/remote/chroot-transport.js';
import { ensureRoot, skipUnlessLab } from '../lab/lab.js';

const TRANSPORT = fileURLToPath(new URL('../../src/remote/chroot-transport.js', import.meta.url));

/** Mount points of this machine (this test's own mount namespace is the machine's) under `dir`. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Host pids whose command line contains `marker`. */
async function processesWith(marker: string): Promise<string[]> {
  const r = await execa('pgrep', ['-f', marker], { reject: false });
  return r.stdout.split('\n').filter((pid) => pid !== '');
}

async function copyOfBusybox(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-chroot-ns-'));
  cpSync(await ensureRoot('busybox'), join(dir, 'root'), { recursive: true, verbatimSymlinks: true });
  return dir;
}

test('a --chroot host has /proc and /dev, and this machine has no mount of them', { timeout: 120_000 }, async (t) => {
  if (skipUnlessLab(t, ['busybox'])) return;
  const dir = await copyOfBusybox();
  const root = join(dir, 'root');
  try {
    rmSync(join(root, 'proc'), { recursive: true, force: true }); // a root without the folders still gets them
    const transport = new ChrootTransport(root);
    const r = await transport.exec(
      'readlink /proc/self/exe && test -c /dev/null && echo dev-ok && ls /proc/1/ >/dev/null && echo proc-ok',
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.toString(), '/bin/busybox\ndev-ok\nproc-ok');
    assert.deepEqual(mountsUnder(root), []);
    const status = await transport.exec('exit 7');
    assert.equal(status.exitCode, 7, "the command's own exit status comes back");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'killing the deploying process with kill -9 ends the chroot command and leaves no mount',
  { timeout: 120_000 },
  async (t) => {
    if (skipUnlessLab(t, ['busybox'])) return;
    const dir = await copyOfBusybox();
    const root = join(dir, 'root');
    const marker = `${4000 + (process.pid % 1000)}`; // busybox sleep takes whole seconds; unique enough per run
    const script = join(dir, 'deployer.mjs');
    writeFileSync(
      script,
      `import { ChrootTransport } from ${JSON.stringify(TRANSPORT)};\n` +
        (`await new ChrootTransport(${JSON.stringify(root)}).exec('echo started >&2; sleep ${marker}', { ` +
          "onStderr: () => console.log('running') });\n"),
    );
    const deployer = execa(process.execPath, [script], { reject: false, buffer: false });
    try {
      await new Promise<void>((resolve, reject) => {
        deployer.stdout?.once('data', () => resolve());
        void deployer.then((r) => reject(new Error(`the deployer ended early: ${String(r.exitCode)}`)));
      });
      assert.ok((await processesWith(`sleep ${marker}`)).length > 0, 'the command runs');
      assert.deepEqual(mountsUnder(root), [], 'its /proc and /dev are not mounted on this machine while it runs');
      deployer.kill('SIGKILL');
      await deployer;
      let left = await processesWith(`sleep ${marker}`);
      for (let i = 0; i < 50 && left.length > 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = await processesWith(`sleep ${marker}`);
      }
      assert.deepEqual(left, [], 'the chroot command died with its deployer');
      assert.deepEqual(mountsUnder(root), []);
    } finally {
      deployer.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
