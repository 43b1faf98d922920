// bench/deploy: pyrelo deploy against scp, in one run, to a lab host over real SSH (bookworm's own
// sshd on loopback, one run's keys):
//   1. throughput: the same bundle archive sent by `scp` and by pyrelo's SFTP upload (the transfer
//      step of a deploy), RUNS times each, alternating; median MB/s and the ratio (aim: ≥ 0.8);
//      plus the time of a whole first deploy (agent there already) for context;
//   2. redeploy after changing one package: the bytes a second deploy sends, against the bundle's
//      size (aim: ≤ 10 %).
// The bundle is the build tests' yamlsmoke app (cryptography, cffi, a grafted libyaml) with
// --libc bundle, built here from this machine's CPython. Needs root (the lab).
//
//   npm run bench:deploy [-- RUNS]

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { build } from '../src/builder/build.js';
import { Progress } from '../src/builder/progress.js';
import { listBundleFiles } from '../src/bundle/file-list.js';
import { readManifest, writeManifest } from '../src/bundle/manifest.js';
import { packBundle } from '../src/bundle/pack.js';
import { ControlClient } from '../src/client/control-client.js';
import { uploadBundle } from '../src/client/commands/bundles.js';
import { agentArchive } from '../src/client/deploy/agent-archive.js';
import { deployToHost } from '../src/client/deploy/deploy-host.js';
import { localBundle, type LocalBundle } from '../src/client/deploy/local-bundle.js';
import { HostProgress } from '../src/client/deploy/progress.js';
import { connectHost } from '../src/client/deploy/reach.js';
import { BASE_PYTHON, ensureWheelhouse } from '../test/builder/wheelhouse.js';
import { labSkipReason, startSshHost } from '../test/lab/lab.js';
import { startTestServer } from '../test/server/fixtures.js';

const RUNS = Number(process.argv[2] ?? 5);
const MB = 1e6;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function seconds(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const skip = labSkipReason(['debootstrap']);
if (skip) {
  process.stderr.write(`bench/deploy: ${skip}\n`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'pyrelo-bench-deploy-'));
const ts = await startTestServer(join(work, 'server'));
const control = new ControlClient(ts.server.controlAddress);
const ssh = await startSshHost('bookworm');
try {
  process.env.PYRELO_KNOWN_HOSTS = ssh.knownHostsPath;
  process.env.PYRELO_SSH_CONFIG = '/dev/null';
  process.stderr.write('bench/deploy: building the bundle (yamlsmoke, --libc bundle)\n');
  const tree = join(work, 'bundle');
  await build(
    {
      project: 'yamlsmoke',
      python: BASE_PYTHON,
      pythonSource: null,
      requirements: null,
      wheelhouse: await ensureWheelhouse(),
      libc: 'bundle',
      minGlibc: '2.17',
      entries: ['smoke=yamlsmoke.smoke:main'],
      slim: true,
      clear: false,
      prompt: 'benchapp',
      withPip: true,
      output: tree,
      smoke: ['bin/smoke'],
    },
    new Progress(() => {}),
  );
  const v1Archive = join(work, 'benchapp-v1.tar.gz');
  await packBundle(tree, v1Archive);
  const v1 = await localBundle(v1Archive);

  await control.call('AddHost', {
    name: 'bench',
    access: {
      ssh: `root@127.0.0.1:${ssh.port}`,
      key: ssh.privateKeyPath,
      jump: '',
      chroot: '',
      groups: [],
      prefix: '',
    },
  });
  const host = () => control.call('ShowHost', { name: 'bench' });
  const agent = await agentArchive((line) => process.stderr.write(`bench/deploy: ${line}\n`));
  const quiet = { inPlace: false, line: () => {}, redraw: () => {} };
  const deploy = async (bundle: LocalBundle, prefix: string) =>
    deployToHost(await host(), bundle, {
      prefix,
      force: false,
      inventoryMaxAgeMs: 3_600_000,
      agent,
      control,
      connect: connectHost,
      progress: new HostProgress('bench', quiet),
    });
  await uploadBundle(control, v1.archive);
  // Bring the agent over and take the inventory once, outside the timings.
  const warm = await deploy(v1, '/opt/bench-warm');
  if (warm.status !== 'verified') throw new Error(`warm-up deploy: ${warm.status}: ${warm.reason}`);

  // 1. Throughput: scp and pyrelo, alternating, each a fresh connection and a fresh file, like a
  // deploy. A 1-byte file measures each one's fixed cost (process start, handshake), which is
  // subtracted for the transfer rate.
  const tiny = join(work, 'tiny');
  writeFileSync(tiny, 'x');
  const scp = (file: string, i: number) =>
    execa('scp', [
      '-q',
      '-F',
      '/dev/null',
      '-i',
      ssh.privateKeyPath,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${ssh.knownHostsPath}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-P',
      String(ssh.port),
      file,
      `root@127.0.0.1:/root/scp-${i}`,
    ]);
  const pyrelo = async (file: string, i: number) => {
    const transport = await connectHost(await host());
    try {
      await transport.upload(file, `/root/pyrelo-${i}`);
    } finally {
      await transport.close();
    }
  };
  const times = { scp: [] as number[], pyrelo: [] as number[], scpSetup: [] as number[], pyreloSetup: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    times.scpSetup.push(await seconds(() => scp(tiny, i)));
    times.pyreloSetup.push(await seconds(() => pyrelo(tiny, i)));
    times.scp.push(await seconds(() => scp(v1.archive, i)));
    times.pyrelo.push(await seconds(() => pyrelo(v1.archive, i)));
    const cleanup = await connectHost(await host());
    await cleanup.exec('rm -f /root/scp-* /root/pyrelo-*');
    await cleanup.close();
  }
  const firstDeploy = await seconds(async () => {
    const r = await deploy(v1, '/opt/bench-first');
    if (r.status !== 'verified') throw new Error(`first deploy: ${r.status}: ${r.reason}`);
  });

  // 2. Redeploy after changing one package (yamlsmoke: every one of its files touched).
  const changed = readManifest(tree).files.filter(
    (f) => f.type === 'file' && /site-packages\/yamlsmoke\/[^/]+\.py$/.test(f.path),
  );
  for (const f of changed) appendFileSync(join(tree, f.path), '\n# v2\n');
  writeManifest(tree, { ...readManifest(tree), files: listBundleFiles(tree) });
  const v2Archive = join(work, 'benchapp-v2.tar.gz');
  await packBundle(tree, v2Archive);
  const v2 = await localBundle(v2Archive);
  await uploadBundle(control, v2.archive);
  const redeploy = await deploy(v2, '/opt/bench-first');
  if (redeploy.status !== 'verified') throw new Error(`redeploy: ${redeploy.status}: ${redeploy.reason}`);

  const size = v1.size / MB;
  const rate = (all: number[], setup: number[]) => size / Math.max(median(all) - median(setup), 1e-3);
  const scpRate = rate(times.scp, times.scpSetup);
  const pyreloRate = rate(times.pyrelo, times.pyreloSetup);
  const lines = [
    `bench/deploy: ${v1.manifest.name}, ${size.toFixed(1)} MB archive, ${v1.manifest.files.length} files, to ` +
      `bookworm's sshd on loopback, ${RUNS} runs each (median)`,
    '',
    '| | scp | pyrelo (connect + SFTP upload) | ratio |',
    '| --- | --- | --- | --- |',
    `| the archive, connection included | ${median(times.scp).toFixed(2)} s | ` +
      `${median(times.pyrelo).toFixed(2)} s | ${(median(times.scp) / median(times.pyrelo)).toFixed(2)}× scp's speed |`,
    `| a 1-byte file (fixed cost) | ${median(times.scpSetup).toFixed(2)} s | ` +
      `${median(times.pyreloSetup).toFixed(2)} s | |`,
    `| throughput (fixed cost subtracted) | ${scpRate.toFixed(0)} MB/s | ${pyreloRate.toFixed(0)} MB/s | ` +
      `${(pyreloRate / scpRate).toFixed(2)}× scp's (aim ≥ 0.8) |`,
    '',
    `whole first deploy (agent there, prediction, transfer, install, check and smoke run): ${firstDeploy.toFixed(1)} s`,
    `redeploy after changing one package (${changed.length} files of yamlsmoke): ${redeploy.bytesSent} bytes ` +
      `sent, ${redeploy.transferredFiles ?? '?'} files, ` +
      `${((redeploy.bytesSent / v1.size) * 100).toFixed(2)} % of the bundle (aim ≤ 10 %)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(join(tmpdir(), 'pyrelo-bench-deploy.txt'), `${lines.join('\n')}\n`);
} finally {
  await ssh.stop();
  control.close();
  await ts.server.stop(500);
  rmSync(work, { recursive: true, force: true });
}
