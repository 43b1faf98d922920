// The loader check on the lab's Debian roots: for every ELF under /usr/lib and /usr/bin of each
// root, pyrelo check --root ROOT must agree with the root's own loader run inside it (chroot); the
// inventory taken from outside equals the one taken inside; and a program copied from bookworm into
// bullseye fails there exactly as pyrelo predicted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { ensureRoot, runInRoot, skipUnlessLab, startSshHost } from '../lab/lab.js';
import { describeGroundTruth, groundTruth } from '../support/ground-truth.js';
import type { CommandRunner } from '../support/real-loader.js';
import { pyreloInRoot } from '../support/pyrelo-in-root.js';

const DEBIAN_ROOTS = ['bullseye', 'bookworm', 'trixie'] as const;
const BUILD_TIMEOUT = 40 * 60_000;

function chrootRunner(root: string): CommandRunner {
  return async (argv, env) => {
    const r = await runInRoot(root, argv, { env });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
}

for (const name of DEBIAN_ROOTS) {
  test(
    `ground truth in the ${name} root: pyrelo check --root agrees with its own ld.so`,
    { timeout: BUILD_TIMEOUT },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const result = await groundTruth(root, ['/usr/lib', '/usr/bin'], chrootRunner(root));
      t.diagnostic(describeGroundTruth(result, 0));
      assert.ok(result.files > 100, `only ${result.files} ELF files in ${name}`);
      // Files without DT_NEEDED (the root's ld.so, Perl's Fcntl.so) are traced and compared in full.
      assert.ok(result.noNeeded > 0, `no file without DT_NEEDED traced in ${name}`);
      assert.equal(result.disagreements.length, 0, describeGroundTruth(result));
    },
  );
}

test(
  'inventory of a root taken from outside equals the one taken inside (chroot)',
  { timeout: BUILD_TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const root = await ensureRoot('bookworm');
    const outside = collectInventory(root);
    // Inside: the same code runs as a process in the chroot with the root mounted as `/`. Node is not
    // in the root, so bind this machine's node and pyrelo in and let node use its own loader.
    const { argv, bind } = pyreloInRoot(['inventory', '--json']);
    const r = await runInRoot(root, argv, { bind });
    assert.equal(r.exitCode, 0, r.stderr);
    const inside = JSON.parse(r.stdout) as ReturnType<typeof collectInventory>;
    assert.deepEqual(inside.host.osRelease, outside.host.osRelease);
    assert.deepEqual(inside.host.libc, outside.host.libc);
    assert.deepEqual(inside.loader.systemDirs, outside.loader.systemDirs);
    assert.deepEqual(inside.loader.cache, outside.loader.cache);
    assert.deepEqual(Object.keys(inside.files).sort(), Object.keys(outside.files).sort());
    assert.deepEqual(inside.objects.length, outside.objects.length);
  },
);

/**
 * A self-contained pyrelo runtime for a host that has no Node: this machine's node, every library
 * the loader check says it loads (glibc's loader included), the compiled CLI and its one runtime
 * dependency, as a tar stream. Node is started through the shipped loader with --library-path.
 */
async function pyreloRuntimeTar(dir: string): Promise<string> {
  const view = new RootHostView('/', loaderConfigForRoot('/'));
  const report = checkFile(view, process.execPath, { cwd: '/' });
  assert.ok(report.loads, "this machine's node does not load?");
  const stage = join(dir, 'runtime');
  const project = fileURLToPath(new URL('../../../', import.meta.url));
  const copies: [string, string][] = [[process.execPath, 'node']];
  for (const object of report.objects.slice(1)) copies.push([object.path!, `lib/${object.path!.split('/').pop()}`]);
  copies.push(
    [join(project, 'dist'), 'pyrelo/dist'],
    [join(project, 'data'), 'pyrelo/data'],
    [join(project, 'package.json'), 'pyrelo/package.json'],
  );
  // The runtime dependencies, as npm resolves them (no dev tools).
  const production = await execa('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: project, reject: false });
  for (const path of production.stdout.split('\n').filter((p) => p.startsWith(join(project, 'node_modules')))) {
    copies.push([path, `pyrelo/${path.slice(project.length)}`]);
  }
  for (const [from, to] of copies) cpSync(from, join(stage, to), { recursive: true, dereference: true });
  const tarball = join(dir, 'runtime.tar');
  await execa('tar', ['-C', stage, '-cf', tarball, '.']);
  return tarball;
}

test(
  'inventory of a root through its own sshd equals the one taken from outside',
  { timeout: BUILD_TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'ssh'])) return;
    const root = await ensureRoot('trixie');
    const outside = collectInventory(root);
    const dir = mkdtempSync(join(tmpdir(), 'pyrelo-ssh-inventory-'));
    const host = await startSshHost('trixie');
    try {
      const tarball = await pyreloRuntimeTar(dir);
      const ssh = (command: string, input?: string) =>
        execa('ssh', [...host.sshOptions, host.host, command], {
          reject: false,
          ...(input === undefined ? {} : { inputFile: input }),
        });
      const unpack = await ssh('mkdir -p /tmp/pyrelo && tar -C /tmp/pyrelo -xf -', tarball);
      assert.equal(unpack.exitCode, 0, unpack.stderr);
      const r = await ssh(
        '/tmp/pyrelo/lib/ld-linux-x86-64.so.2 --library-path /tmp/pyrelo/lib /tmp/pyrelo/node ' +
          '/tmp/pyrelo/pyrelo/dist/src/client/main.js inventory --json',
      );
      assert.equal(r.exitCode, 0, r.stderr);
      const inside = JSON.parse(r.stdout) as ReturnType<typeof collectInventory>;
      assert.deepEqual(inside.host.osRelease, outside.host.osRelease);
      assert.deepEqual(inside.host.libc, outside.host.libc);
      assert.deepEqual(inside.loader.cache, outside.loader.cache);
      assert.deepEqual(Object.keys(inside.files).sort(), Object.keys(outside.files).sort());
      t.diagnostic(
        `over ssh to ${host.name}: ${inside.host.osRelease?.prettyName}, glibc ${inside.host.libc.version}, ` +
          `${Object.keys(inside.files).length} library paths, same as from outside`,
      );
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a program from bookworm fails in bullseye exactly as pyrelo check --root predicted',
  { timeout: BUILD_TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const bookworm = await ensureRoot('bookworm');
    const bullseye = await ensureRoot('bullseye');
    const work = mkdtempSync(join(tmpdir(), 'pyrelo-cross-'));
    try {
      // /usr/bin/ls of bookworm needs GLIBC_2.34 (bullseye has 2.31).
      const program = join(bookworm, 'usr/bin/ls');
      const config = loaderConfigForRoot(bullseye);
      const view = new OverlayHostView(new RootHostView(bullseye, config), new RootHostView('/', config), [bookworm]);
      const report = checkFile(view, program, { cwd: '/' });
      const predicted = report.problems
        .filter((p) => p.kind === 'missing-version')
        .map((p) => p.version!)
        .sort();
      assert.ok(predicted.length > 0, 'pyrelo predicted no missing version');
      assert.equal(report.loads, false);

      writeFileSync(join(work, 'keep'), '');
      const run = await runInRoot(bullseye, ['/opt/cross/ls', '/'], {
        bind: [{ hostPath: program, rootPath: '/opt/cross/ls', readOnly: true }],
      });
      assert.notEqual(run.exitCode, 0);
      const real = [...run.stderr.matchAll(/version `([^']+)' not found/g)].map((m) => m[1]!).sort();
      t.diagnostic(`predicted ${predicted.join(', ')}; running it printed ${real.join(', ')}`);
      assert.deepEqual(predicted, real);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
