// The compatibility service on the lab: a server on loopback with its SQLite file, and a real
// agent daemon (this machine's node bound in) inside each of the bullseye, bookworm and trixie
// roots. Two bundles are installed and smoke-run on every host by order of the server:
//   host-libc (built here against glibc 2.36, needs GLIBC_2.34): runs on bookworm and trixie, not
//     on bullseye, where the loader's own words name the missing version and the file;
//   static (its libc inside): runs on all three.
// For every host, the prediction from its stored inventory equals the verdict of the run and
// equals `pyrelo check --root` on the root from outside.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRoot, labSkipReason, spawnInRoot } from '../lab/lab.js';
import type { RunningInRoot } from '../lab/run-in-root.js';
import { ControlClient } from '../../src/client/control-client.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { checkBundleOnView, sameVerdict } from '../../src/compat/check-bundle.js';
import { bundlesAdd } from '../../src/client/commands/bundles.js';
import type { BundleInfo, CheckResponse, CompatResponse, EnrollToken } from '../../src/proto/types.js';
import { makeBundle, startTestServer, type TestServer } from '../server/fixtures.js';
import { pyreloInRoot } from '../support/pyrelo-in-root.js';

const ROOTS = ['bullseye', 'bookworm', 'trixie'] as const;
const TIMEOUT = 15 * 60_000;
const skip = labSkipReason(['debootstrap']);


let work: string;
let ts: TestServer;
let control: ControlClient;
const agents: { name: string; run: RunningInRoot; output: () => string }[] = [];
const roots = new Map<string, string>();

async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await body();
  } finally {
    process.stdout.write = write;
  }
}

async function startAgentInRoot(name: (typeof ROOTS)[number]): Promise<void> {
  const root = await ensureRoot(name);
  roots.set(name, root);
  const host = `site-${name}`;
  const token = await control.call<EnrollToken>('CreateEnrollToken', { name: host });
  const state = new AgentState(join(work, `agent-${name}`));
  await enroll(state, ts.server.enrollAddress, token.token, readFileSync(join(ts.dir, 'pki', 'ca.crt')));
  const { argv, bind } = pyreloInRoot(['agent', '--server', ts.server.agentAddress, '--dir', '/var/lib/pyrelo-agent', '--heartbeat', '1']);
  const run = await spawnInRoot(root, argv, {
    bind: [...bind, { hostPath: state.dir, rootPath: '/var/lib/pyrelo-agent' }],
    timeoutMs: TIMEOUT,
  });
  let output = '';
  run.done.then((r) => { output = r.stdout + r.stderr; }, () => {});
  agents.push({ name, run, output: () => output });
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-lab-agents-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
  const hostLibc = await makeBundle(work, 'app-host-libc', 'host-libc');
  const bundled = await makeBundle(work, 'app-static', 'static');
  await quietly(() => bundlesAdd(hostLibc, { control: control.address }));
  await quietly(() => bundlesAdd(bundled, { control: control.address }));
  for (const name of ROOTS) await startAgentInRoot(name);
});

after(async () => {
  if (skip) return;
  for (const agent of agents) agent.run.kill();
  await Promise.allSettled(agents.map((a) => a.run.done));
  control?.close();
  await ts?.server.stop(500);
  if (work) rmSync(work, { recursive: true, force: true });
});

test('agents in the bullseye, bookworm and trixie roots verify two bundles; compat and predictions agree with the runs', { timeout: TIMEOUT }, async (t) => {
  if (skip) {
    t.skip(skip);
    return;
  }
  const deadline = Date.now() + 120_000;
  while (!ROOTS.every((n) => ts.server.hub.isConnected(`site-${n}`))) {
    const dead = agents.find((a) => a.output() !== '');
    assert.ok(dead === undefined, `agent in ${dead?.name} ended: ${dead?.output()}`);
    assert.ok(Date.now() < deadline, 'agents did not connect within 2 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
  const { bundles } = await control.call<{ bundles: BundleInfo[] }>('ListBundles', {});
  for (const bundle of bundles) {
    for (const name of ROOTS) {
      const answer = await control.call<CheckResponse>('Check', { bundle: bundle.digest, host: `site-${name}`, verify: true, timeoutMs: 120_000 });
      assert.equal(answer.note, '', `${bundle.name} on ${name}`);
      assert.ok(answer.predicted !== null && answer.verified !== null);
      // The prediction from the stored inventory equals the run on the host...
      assert.ok(sameVerdict(answer.predicted, answer.verified), `${bundle.name} on ${name}: predicted ${JSON.stringify(answer.predicted.problems)} but the run gave ${JSON.stringify(answer.verified.problems)}`);
      // ...and `pyrelo check --root` from outside.
      const root = roots.get(name)!;
      const tree = join(ts.dir, 'bundles', 'trees', bundle.digest);
      const config = loaderConfigForRoot(root);
      const fromRoot = checkBundleOnView(new OverlayHostView(new RootHostView(root, config), new RootHostView('/', config), [tree]), tree, { digest: bundle.digest, host: name, kind: 'predicted' });
      assert.ok(sameVerdict(answer.predicted, fromRoot), `${bundle.name} on ${name}: inventory and --root disagree`);
      // Every "runs" is backed by a smoke run on that host; every "will not run" by a failed one.
      assert.equal(answer.verified.smokeRan, true);
      assert.equal(answer.verified.runs, answer.verified.smokeExit === 0, `${bundle.name} on ${name}: ${answer.verified.smokeOutput}`);
    }
  }

  const host = await control.call<CompatResponse>('Compat', { bundle: 'app-host-libc' });
  const verdicts = Object.fromEntries(host.hosts.map((h) => [h.host.name, h.verdict]));
  assert.deepEqual(verdicts, { 'site-bookworm': 'runs', 'site-bullseye': 'fails', 'site-trixie': 'runs' });
  const bullseye = host.distros.find((d) => d.distro === 'debian:11');
  assert.ok(bullseye !== undefined && bullseye.fails === 1);
  assert.ok(bullseye.reasons.some((r) => /version `GLIBC_2\.34' not found \(required by bin\/python3\)/.test(r)), bullseye.reasons.join('\n'));
  const bullseyeRun = host.hosts.find((h) => h.host.name === 'site-bullseye')!.result!;
  assert.match(bullseyeRun.smokeOutput, /GLIBC_2\.34' not found/, 'the real loader in bullseye says the same');
  assert.ok(bullseyeRun.problems.every((p) => p.file === 'bin/python3'));
  assert.ok(host.hosts.every((h) => h.predictionAgrees));

  const bundled = await control.call<CompatResponse>('Compat', { bundle: 'app-static' });
  assert.deepEqual(bundled.hosts.map((h) => h.verdict), ['runs', 'runs', 'runs']);
  assert.ok(bundled.hosts.every((h) => h.predictionAgrees));

  const onBullseye = await control.call<{ bundles: { bundle: BundleInfo; verdict: string }[] }>('DistroBundles', { distro: 'debian:11' });
  assert.deepEqual(onBullseye.bundles.map((b) => [b.bundle.name, b.verdict]), [['app-static', 'runs']]);
  t.diagnostic(`bullseye: ${bullseye.reasons.join(' | ')}`);
});
