// `pyrelo agent pack`: the pack is made once (as the CLI makes it, a .tar.gz) and unpacked; its
// launcher then prints the inventory of this host, and of every lab root it is bound into (the
// busybox root has no libc at all, the musl root no glibc), with and without /proc.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { collectInventory } from '../../src/inventory/collect.js';
import { AGENT_LAUNCHER, AGENT_PACK_MANIFEST, AGENT_SCRIPT } from '../../src/builder/agent-pack.js';
import {
  ensureRoot,
  runInRoot,
  spawnInRoot,
  skipUnlessLab,
  EXPECTED_GLIBC,
  LAB_ROOT_NAMES,
  type LabNeed,
  type LabRootName,
} from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { makeBundle, startTestServer } from '../server/fixtures.js';
import { ControlClient } from '../../src/client/control-client.js';
import { bundlesAdd } from '../../src/client/commands/bundles.js';
import { quietly } from '../support/quietly.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const TIMEOUT = 40 * 60_000;
const MOUNT = '/opt/pyrelo-agent';

interface PackManifest {
  readonly format: string;
  readonly node: string;
  readonly libraries: readonly string[];
  readonly glibc: readonly string[];
  readonly files: ReadonlyArray<{ path: string; type: string; mode: number; size?: number; sha256?: string }>;
}

type Inventory = ReturnType<typeof collectInventory>;

let work = '';
let unpacked = '';
let archive = '';
let packLine = '';
let packSeconds = 0;

async function pack(output: string): Promise<string> {
  const r = await execa(process.execPath, [PYRELO, 'agent', 'pack', '-o', output], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stderr;
}

before(async () => {
  work = await makeTempDir('pyrelo-agent-pack-');
  archive = join(work, 'pyrelo-agent.tar.gz');
  const started = performance.now();
  packLine = await pack(archive);
  packSeconds = (performance.now() - started) / 1000;
  unpacked = join(work, 'unpacked');
  await execa('mkdir', ['-p', unpacked]);
  await execa('tar', ['-xzf', archive, '-C', unpacked]);
});

after(async () => {
  if (work !== '') await removeDir(work);
});

test('agent pack: layout, manifest, size', (t) => {
  t.diagnostic(`${packLine.trim().replace(/\n/g, '; ')} (${packSeconds.toFixed(1)} s with the CLI's start)`);
  const manifest = JSON.parse(readFileSync(join(unpacked, AGENT_PACK_MANIFEST), 'utf8')) as PackManifest;
  assert.equal(manifest.format, 'pyrelo-agent-pack/1');
  assert.equal(manifest.node, process.version);
  const paths = manifest.files.map((f) => f.path);
  for (const needed of [
    AGENT_LAUNCHER,
    AGENT_SCRIPT,
    'libexec/node',
    'lib/pyrelo-glibc/ld-linux-x86-64.so.2',
    'lib/pyrelo-glibc/libc.so.6',
    'lib/libstdc++.so.6',
    'data/loader-defaults.json',
    'proto/pyrelo/v1/control.proto',
    'proto/pyrelo/v1/agent_hub.proto',
  ])
    assert.ok(paths.includes(needed), `${needed} missing: ${paths.join(' ')}`);
  assert.ok(!paths.some((p) => /sqlite|node_modules|\.node$/.test(p)), paths.join(' '));
  assert.ok(!paths.includes('bin/node'), 'only the launcher in bin/');
  for (const file of manifest.files) {
    const absolute = join(unpacked, file.path);
    assert.equal(statSync(absolute).mode & 0o7777, file.mode, file.path);
    assert.equal(createHash('sha256').update(readFileSync(absolute)).digest('hex'), file.sha256, file.path);
  }
  const script = readFileSync(join(unpacked, AGENT_SCRIPT), 'utf8');
  assert.ok(!script.includes('better-sqlite3'), 'agent.mjs must not import better-sqlite3');
  const launcher = readFileSync(join(unpacked, AGENT_LAUNCHER), 'utf8');
  assert.match(
    launcher,
    /--library-path "\$top\/lib\/pyrelo-glibc:\$top\/lib" --argv0 "\$0" "\$top\/libexec\/node" "\$top\/agent\.mjs" agent "\$@"/,
  );
  assert.doesNotMatch(launcher, /^\s*export\b|LD_LIBRARY_PATH=/m);
  const installed = manifest.files.reduce((sum, f) => sum + (f.size ?? 0), 0);
  const node = statSync(join(unpacked, 'libexec/node')).size;
  t.diagnostic(
    `installed ${(installed / 1e6).toFixed(1)} MB (node ${(node / 1e6).toFixed(1)} MB, agent.mjs ` +
      `${(script.length / 1e3).toFixed(0)} kB), .tar.gz ${(statSync(archive).size / 1e6).toFixed(1)} MB`,
  );
  // Nothing but the runtime: node is most of it, everything else stays under 10 MB.
  assert.ok(installed - node < 10e6, `${installed - node} bytes besides node`);
});

test('agent pack into a folder twice: the same files, byte for byte', async () => {
  const a = join(work, 'a');
  const b = join(work, 'b');
  await pack(a);
  await pack(b);
  assert.equal(readFileSync(join(a, AGENT_PACK_MANIFEST), 'utf8'), readFileSync(join(b, AGENT_PACK_MANIFEST), 'utf8'));
  const again = await execa(process.execPath, [PYRELO, 'agent', 'pack', '-o', a], { reject: false });
  assert.equal(again.exitCode, 2, 'a non-empty OUTPUT is refused without --clear');
  assert.match(again.stderr, /exists \(--clear replaces it\)/);
});

test('the unpacked agent runs here from a folder with a space, with nothing of the environment', async () => {
  const moved = join(work, 'with space');
  await execa('cp', ['-a', unpacked, moved]);
  const r = await execa(join(moved, AGENT_LAUNCHER), ['inventory', '--json'], {
    env: {},
    extendEnv: false,
    reject: false,
    maxBuffer: 1 << 30,
  });
  assert.equal(r.exitCode, 0, r.stderr);
  const inside = JSON.parse(r.stdout) as Inventory;
  assert.deepEqual(inside.host.libc, collectInventory('/').host.libc);
  const help = await execa(join(moved, AGENT_LAUNCHER), ['--help'], { reject: false });
  assert.match(help.stdout, /inventory/);
  assert.doesNotMatch(help.stdout, /^\s+(pack|server|hosts)\b/m, 'the packed agent has only the agent commands');
});

const NEEDS: Record<LabRootName, LabNeed[]> = {
  bullseye: ['debootstrap'],
  bookworm: ['debootstrap'],
  trixie: ['debootstrap'],
  busybox: ['busybox'],
  musl: ['musl'],
};

function expectedLibc(name: LabRootName): { kind: string; version?: string } {
  if (name === 'busybox') return { kind: 'none' };
  if (name === 'musl') return { kind: 'musl' };
  return { kind: 'glibc', version: EXPECTED_GLIBC[name] };
}

const runs: Array<{ name: LabRootName; mountProc: boolean }> = [
  ...LAB_ROOT_NAMES.map((name) => ({ name, mountProc: true })),
  { name: 'busybox', mountProc: false },
];

for (const { name, mountProc } of runs) {
  test(
    `the packed agent prints the ${name} root's inventory${mountProc ? '' : ' without /proc'}`,
    { timeout: TIMEOUT },
    async (t) => {
      if (skipUnlessLab(t, NEEDS[name])) return;
      const root = await ensureRoot(name);
      const r = await runInRoot(root, [`${MOUNT}/${AGENT_LAUNCHER}`, 'inventory', '--json'], {
        bind: [{ hostPath: unpacked, rootPath: MOUNT, readOnly: true }],
        mountProc,
        timeoutMs: 120_000,
      });
      assert.equal(r.exitCode, 0, `exit ${r.exitCode}: ${r.stderr}`);
      const inside = JSON.parse(r.stdout) as Inventory;
      const outside = collectInventory(root);
      const expected = expectedLibc(name);
      assert.equal(inside.host.libc.kind, expected.kind);
      if (expected.version !== undefined) assert.equal(inside.host.libc.version, expected.version);
      if (name === 'busybox') assert.equal(inside.host.libc.version, null);
      assert.deepEqual(inside.host.libc, outside.host.libc);
      assert.equal(inside.loader.procMounted, mountProc, 'the agent records whether /proc is mounted');
      assert.deepEqual(inside.host.osRelease, outside.host.osRelease);
      if (outside.host.osRelease !== null) assert.ok(inside.host.osRelease?.id, 'os-release ID');
      assert.deepEqual(Object.keys(inside.files).sort(), Object.keys(outside.files).sort());
      t.diagnostic(
        `${name}: libc ${inside.host.libc.kind} ${inside.host.libc.version ?? ''}, os-release ` +
          `${inside.host.osRelease?.id ?? '(none)'}, ${Object.keys(inside.files).length} library paths`,
      );
    },
  );
}

test(
  'the packed agent in the busybox root enrolls, connects over mutual TLS, its inventory is stored ' +
    'and it carries out a verified check order',
  { timeout: TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['busybox'])) return;
    const root = await ensureRoot('busybox');
    const ts = await startTestServer(join(work, 'server'));
    const control = new ControlClient(ts.server.controlAddress);
    const state = join(work, 'agent-state');
    mkdirSync(state, { recursive: true });
    const bind = [
      { hostPath: unpacked, rootPath: MOUNT, readOnly: true },
      { hostPath: join(ts.dir, 'pki', 'ca.crt'), rootPath: '/etc/pyrelo-ca.crt', readOnly: true },
      { hostPath: state, rootPath: '/var/lib/pyrelo-agent' },
    ];
    const launcher = `${MOUNT}/${AGENT_LAUNCHER}`;
    let daemon: Awaited<ReturnType<typeof spawnInRoot>> | null = null;
    try {
      const token = await control.call('CreateEnrollToken', { name: 'packed-busybox' });
      const enrolled = await runInRoot(
        root,
        [
          launcher,
          'enroll',
          '--server',
          ts.server.enrollAddress,
          '--token',
          token.token,
          '--ca',
          '/etc/pyrelo-ca.crt',
          '--dir',
          '/var/lib/pyrelo-agent',
        ],
        { bind, timeoutMs: 60_000 },
      );
      assert.equal(enrolled.exitCode, 0, enrolled.stderr);
      assert.match(enrolled.stdout, /enrolled as host packed-busybox/);
      daemon = await spawnInRoot(
        root,
        [launcher, '--server', ts.server.agentAddress, '--dir', '/var/lib/pyrelo-agent', '--heartbeat', '1'],
        { bind, timeoutMs: 120_000 },
      );
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { hosts } = await control.call('ListHosts', {});
        if (
          ts.server.hub.isConnected('packed-busybox') &&
          hosts.some((h) => h.name === 'packed-busybox' && h.inventorySha256 !== '')
        )
          break;
        assert.ok(Date.now() < deadline, 'the packed agent did not connect and send its inventory within a minute');
        await new Promise((r) => setTimeout(r, 200));
      }
      // A verified check order: the packed agent carries it out in a worker thread that runs
      // agent.mjs itself (src/agent/order-worker.ts), and reports the smoke run.
      const archive = await makeBundle(join(work, 'order'), 'hello-order', 'static');
      await quietly(() => bundlesAdd(archive, { control: control.address }));
      const { bundles } = await control.call('ListBundles', {});
      const answer = await control.call('Check', {
        bundle: bundles[0]!.digest,
        host: 'packed-busybox',
        verify: true,
        timeoutMs: 120_000,
      });
      assert.equal(answer.note, '');
      assert.ok(answer.verified !== null, JSON.stringify(answer));
      assert.equal(answer.verified.smokeExit, 0, answer.verified.smokeOutput);
      assert.equal(answer.verified.runs, true, JSON.stringify(answer.verified));
      assert.match(answer.verified.smokeOutput, /3\.11\.9/);
    } finally {
      daemon?.kill();
      await daemon?.done.catch(() => undefined);
      control.close();
      await ts.server.stop(500);
    }
  },
);

test(
  'the packed agent in the busybox root installs a bundle and runs its smoke command as a child process',
  { timeout: TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['busybox'])) return;
    const root = await ensureRoot('busybox');
    const bundles = join(work, 'bundles');
    mkdirSync(bundles, { recursive: true });
    const archive = await makeBundle(bundles, 'hello-static', 'static');
    const r = await runInRoot(
      root,
      [`${MOUNT}/${AGENT_LAUNCHER}`, 'install', '/tmp/hello-static.tar.gz', '--dir', '/tmp/agent', '--json'],
      {
        bind: [
          { hostPath: unpacked, rootPath: MOUNT, readOnly: true },
          { hostPath: archive, rootPath: '/tmp/hello-static.tar.gz', readOnly: true },
        ],
        timeoutMs: 120_000,
      },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { runs: boolean; smokeRan: boolean; smokeExit: number; smokeOutput: string };
    assert.equal(result.runs, true, r.stdout);
    assert.equal(result.smokeRan, true);
    assert.equal(result.smokeExit, 0);
    assert.match(result.smokeOutput, /3\.11\.9/);
  },
);
