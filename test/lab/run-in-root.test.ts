// runInRoot: mounts stay inside the run's private namespace, whatever happens to the run,
// and the cached root stays pristine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRoot, runInRoot, skipUnlessLab } from './lab.js';
import { eventually, hostMounts, pidsRunning } from './host-probes.js';

const COLD_BUILD_TIMEOUT_MS = 20 * 60_000;
const LAB_MODULE = new URL('./lab.js', import.meta.url).href;

/**
 * A `sleep` argument no other process uses: tests find their runs' processes on the host
 * by argv, and other test runs (another engineer's `npm test` on the same machine) run
 * these same tests at the same time.
 */
function uniqueSleepSeconds(): string {
  return String(10_000_000 + Math.floor(Math.random() * 80_000_000));
}

async function bookworm(t: { skip(message?: string): void }): Promise<string | undefined> {
  if (skipUnlessLab(t, ['debootstrap'])) return undefined;
  return ensureRoot('bookworm');
}

async function scratchDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pyrelo-lab-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test(
  'a successful run mounts /proc, /dev, /tmp and the overlay inside, and leaves no mount on the host',
  { timeout: COLD_BUILD_TIMEOUT_MS },
  async (t) => {
    const root = await bookworm(t);
    if (!root) return;
    const before = await hostMounts();
    const result = await runInRoot(root, ['cat', '/proc/self/mounts']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^pyrelo-lab-overlay \/ overlay /m);
    assert.match(result.stdout, /^proc \/proc proc /m);
    assert.match(result.stdout, /^pyrelo-lab-tmp \/tmp tmpfs /m);
    assert.match(result.stdout, / \/dev /);
    assert.equal(await hostMounts(), before);
  },
);

test('a failing command reports its exit code and leaves no mount', { timeout: COLD_BUILD_TIMEOUT_MS }, async (t) => {
  const root = await bookworm(t);
  if (!root) return;
  const before = await hostMounts();
  const result = await runInRoot(root, ['sh', '-c', 'echo doomed >&2; exit 3']);
  assert.deepEqual(result, { exitCode: 3, stdout: '', stderr: 'doomed\n', timedOut: false });
  const missing = await runInRoot(root, ['/no/such/program']);
  assert.notEqual(missing.exitCode, 0);
  assert.equal(await hostMounts(), before);
});

test(
  'a run killed by its timeout ends every process it started and leaves no mount',
  { timeout: COLD_BUILD_TIMEOUT_MS },
  async (t) => {
    const root = await bookworm(t);
    if (!root) return;
    const before = await hostMounts();
    const started = Date.now();
    // A background child too: the whole PID namespace must go, not only the direct command.
    const [background, foreground] = [uniqueSleepSeconds(), uniqueSleepSeconds()];
    const result = await runInRoot(root, ['sh', '-c', `sleep ${background} & sleep ${foreground}`], {
      timeoutMs: 1000,
    });
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, 124);
    assert.ok(Date.now() - started < 10_000, 'the timeout cut the run short');
    assert.ok(
      await eventually(async () => (await pidsRunning(['sleep', background])).length === 0),
      'background sleep survived',
    );
    assert.deepEqual(await pidsRunning(['sleep', foreground]), []);
    assert.equal(await hostMounts(), before);
  },
);

for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
  test(
    `a ${signal} to the Node process running it ends the run and leaves no mount`,
    { timeout: COLD_BUILD_TIMEOUT_MS },
    async (t) => {
      const root = await bookworm(t);
      if (!root) return;
      const before = await hostMounts();
      const sleepArg = uniqueSleepSeconds();
      const script =
        `const lab = await import(${JSON.stringify(LAB_MODULE)}); await lab.runInRoot(${JSON.stringify(root)}, ` +
        `['sleep', '${sleepArg}']);`;
      const node = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      node.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      t.after(() => void node.kill('SIGKILL')); // a failed assertion must not leave the run behind
      const exited = new Promise<string | number | null>((resolve) =>
        node.once('exit', (code, sig) => resolve(sig ?? code)),
      );
      assert.ok(
        await eventually(async () => (await pidsRunning(['sleep', sleepArg])).length === 1, 30_000),
        `the run never started: ${stderr}`,
      );
      node.kill(signal);
      // Killed by the signal, or exited with the status a shell reports for it: never exit 0.
      const status = await exited;
      assert.ok(status === signal || status === 128 + constants.signals[signal], `Node exited with ${String(status)}`);
      assert.ok(
        await eventually(async () => (await pidsRunning(['sleep', sleepArg])).length === 0),
        'the run outlived its Node process',
      );
      assert.equal(await hostMounts(), before);
    },
  );
}

test(
  "mountProc: false leaves /proc empty; the default shows only the run's own processes",
  { timeout: COLD_BUILD_TIMEOUT_MS },
  async (t) => {
    const root = await bookworm(t);
    if (!root) return;
    const without = await runInRoot(root, ['sh', '-c', 'test -e /proc/self; echo $?; ls -A /proc | wc -l'], {
      mountProc: false,
    });
    assert.deepEqual([without.exitCode, without.stdout], [0, '1\n0\n'], without.stderr);
    // The shell prints its own PID, then every PID /proc lists.
    const withProc = await runInRoot(root, ['sh', '-c', 'echo $$; ls /proc | grep "^[0-9]"']);
    assert.equal(withProc.exitCode, 0, withProc.stderr);
    const [self, ...pids] = withProc.stdout.trim().split('\n').map(Number);
    // The command's sh, ls and grep at least, and PID 1 (the namespace's shell) at most besides:
    // a handful, not the host's hundreds, and never none.
    assert.ok(pids.includes(self!), `the shell's own PID ${self} is not in /proc: ${pids.join(' ')}`);
    assert.ok(pids.length >= 3 && pids.length <= 6, `saw ${pids.length} processes: ${pids.join(' ')}`);
  },
);

test(
  'a bound host folder is visible, read-only when asked, and writable otherwise',
  { timeout: COLD_BUILD_TIMEOUT_MS },
  async (t) => {
    const root = await bookworm(t);
    if (!root) return;
    const bundle = await scratchDir(t);
    const out = await scratchDir(t);
    await writeFile(join(bundle, 'hello.txt'), 'from the host\n');
    const result = await runInRoot(
      root,
      [
        'sh',
        '-c',
        'cat /opt/bundle/hello.txt; touch /opt/bundle/new 2>/dev/null || echo read-only; echo written > /out/result',
      ],
      {
        bind: [
          { hostPath: bundle, rootPath: '/opt/bundle', readOnly: true },
          { hostPath: out, rootPath: '/out' },
        ],
      },
    );
    assert.equal(result.stdout, 'from the host\nread-only\n', result.stderr);
    assert.equal(existsSync(join(bundle, 'new')), false);
    assert.equal(await readFile(join(out, 'result'), 'utf8'), 'written\n');
    assert.equal(
      existsSync(join(root, 'opt/bundle')),
      false,
      'the mount point was made in the overlay, not the cached root',
    );
  },
);

test(
  'writes and copies land in a throwaway overlay: the cached root stays pristine',
  { timeout: COLD_BUILD_TIMEOUT_MS },
  async (t) => {
    const root = await bookworm(t);
    if (!root) return;
    const host = await scratchDir(t);
    await writeFile(join(host, 'payload'), 'copied in\n');
    const first = await runInRoot(
      root,
      ['sh', '-c', 'echo dirt > /etc/pyrelo-lab-dirt && rm /usr/bin/ls && cat /etc/pyrelo-lab-dirt /srv/in/payload'],
      {
        copyIn: [{ hostPath: join(host, 'payload'), rootPath: '/srv/in/payload' }],
      },
    );
    assert.equal(first.stdout, 'dirt\ncopied in\n', first.stderr);
    assert.equal(existsSync(join(root, 'etc/pyrelo-lab-dirt')), false);
    assert.equal(existsSync(join(root, 'srv/in')), false);
    assert.equal(existsSync(join(root, 'usr/bin/ls')), true);
    const second = await runInRoot(root, [
      'sh',
      '-c',
      'test -e /etc/pyrelo-lab-dirt || echo clean; ls / >/dev/null && echo ls-back',
    ]);
    assert.equal(second.stdout, 'clean\nls-back\n');
  },
);

test(
  "environment, working directory and standard input are the ones given, not the host's",
  { timeout: COLD_BUILD_TIMEOUT_MS },
  async (t) => {
    const root = await bookworm(t);
    if (!root) return;
    process.env.PYRELO_LAB_HOST_ONLY = 'leaked';
    t.after(() => delete process.env.PYRELO_LAB_HOST_ONLY);
    const result = await runInRoot(root, ['sh', '-c', 'pwd; echo "$GREETING ${PYRELO_LAB_HOST_ONLY:-absent}"; cat'], {
      cwd: '/usr/lib',
      env: { GREETING: 'hello' },
      input: 'from stdin\n',
    });
    assert.equal(result.stdout, '/usr/lib\nhello absent\nfrom stdin\n', result.stderr);
  },
);

test('netns: the run has its own network with only lo, and lo is up', { timeout: COLD_BUILD_TIMEOUT_MS }, async (t) => {
  const root = await bookworm(t);
  if (!root) return;
  const interfaces = await runInRoot(root, ['sh', '-c', "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"], {
    netns: true,
  });
  assert.equal(interfaces.stdout, 'lo\n');
  // Nothing listens on port 1: "refused" proves lo is up ("unreachable" would mean it is down).
  const connect = await runInRoot(root, ['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/1'], { netns: true });
  assert.match(connect.stderr, /Connection refused/);
});
