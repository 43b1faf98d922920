// issue 21's fleet view on a real server over loopback: hosts imported with `hosts import` from the
// lab's real inventories (data/platforms/: Debian 11, 12 and 13, busybox and musl roots), each
// under several names and with its collectedAt set per host (the content, hence the stored
// inventory, stays one per distro). Then:
//   - `pyrelo fleet` counts each fact per value as the inventories themselves give it, and lists
//     as stale exactly the hosts whose inventory was collected longer ago than the limit (the same
//     bytes imported twice are known by their receipt, which must keep their collection time);
//   - `pyrelo compat` of a bundle compiled here against this machine's glibc gives the share of
//     hosts it runs on and, per requirement, the hosts it blocks, as the hosts' own predictions
//     (Check, every problem) say;
//   - `compat --distro` answers from hosts when some are enrolled, else from the reference
//     platform, and takes NAME/ARCH.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { gunzipSync, gzipSync } from 'node:zlib';
import { makeBundle, startTestServer, waitFor, type TestServer } from './fixtures.js';
import { AgentDaemon } from '../../src/agent/daemon.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { createLogger } from '../../src/common/log.js';
import { ControlClient } from '../../src/client/control-client.js';
import { renderFleet } from '../../src/client/commands/fleet.js';
import { blockerLine, renderCompat, shareLine } from '../../src/client/commands/compat.js';
import { isaLevelName, libcName } from '../../src/server/fleet-query.js';
import { distroName } from '../../src/server/compat-query.js';
import { packageFolder } from '../../src/common/package-files.js';
import type { Inventory } from '../../src/inventory/format.js';
import type { CheckResult, CompatResponse, DistroResponse, FleetResponse } from '../../src/proto/messages.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const PLATFORMS = join(packageFolder('data'), 'platforms');

/** Host name -> [catalog inventory, days before now it was collected, x86 ISA level to give it]. */
const HOSTS: Readonly<Record<string, readonly [string, number, number | null]>> = {
  'bull-1': ['debian-11', 400, null],
  'bull-2': ['debian-11', 400, null], // the same bytes as bull-1: known by their receipt
  'bull-3': ['debian-11', 2, null],
  'book-1': ['debian-12', 1, null],
  'book-2': ['debian-12', 45, null],
  'book-v2': ['debian-12', 1, 2], // another content: a CPU of level x86-64-v2
  'trixie-1': ['debian-13', 0, null],
  'busy-1': ['lab-busybox', 3, null],
  'musl-1': ['lab-musl', 90, null],
};

let work: string;
let ts: TestServer;
let control: ControlClient;
/** What each host's inventory says, read from the file imported (the ground truth). */
const imported = new Map<string, Inventory>();
let digest: string;
let staticDigest: string;

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');

/** The pyrelo CLI in its own process against the test server; its standard output. */
async function pyrelo(...args: string[]): Promise<string> {
  const r = await execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { PYRELO_CONTROL: ts.server.controlAddress },
  });
  assert.equal(r.exitCode, 0, `pyrelo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The same, expected to refuse its input: its one line of error. */
async function refused(...args: string[]): Promise<string> {
  const r = await execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { PYRELO_CONTROL: ts.server.controlAddress },
  });
  assert.equal(r.exitCode, 2, `pyrelo ${args.join(' ')}: ${r.stdout}`);
  return r.stderr;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-fleet-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
  const now = Date.now();
  const written = new Map<string, string>();
  for (const [name, [platform, days, isa]] of Object.entries(HOSTS)) {
    const inventory = JSON.parse(
      gunzipSync(readFileSync(join(PLATFORMS, `${platform}.inventory.json.gz`))).toString('utf8'),
    ) as Inventory & { collectedAt: string; loader: { isaLevel: number } };
    inventory.collectedAt = new Date(now - days * DAY_MS).toISOString();
    if (isa !== null) inventory.loader.isaLevel = isa;
    const bytes = gzipSync(JSON.stringify(inventory));
    // Hosts of one platform and age share one file, so that the second import is a receipt.
    const key = `${platform}-${days}-${isa}`;
    const file = written.get(key) ?? join(work, `${key}.json.gz`);
    if (!written.has(key)) writeFileSync(file, bytes);
    written.set(key, file);
    await pyrelo('hosts', 'import', file, '--name', name);
    imported.set(name, inventory);
  }
  // A host known by name only: counted as enrolled, without an inventory.
  await control.call('AddHost', { name: 'bare-1', access: null });
  await pyrelo('bundles', 'add', await makeBundle(work, 'needs-host-glibc', 'host-libc'));
  await pyrelo('bundles', 'add', await makeBundle(work, 'static-app', 'static'));
  const listed = (await control.call('ListBundles', {})).bundles;
  digest = listed.find((b) => b.name === 'needs-host-glibc')!.digest;
  staticDigest = listed.find((b) => b.name === 'static-app')!.digest;
});

after(async () => {
  control?.close();
  await ts?.server.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Per value, the hosts whose imported inventory gives it, by name. */
function expectedCounts(valueOf: (inventory: Inventory) => string): Map<string, string[]> {
  const counts = new Map<string, string[]>();
  for (const [name, inventory] of [...imported].sort(([a], [b]) => a.localeCompare(b))) {
    const value = valueOf(inventory);
    counts.set(value, [...(counts.get(value) ?? []), name]);
  }
  return counts;
}

test('pyrelo fleet counts what the imported inventories say, and lists the stale ones', async () => {
  const fleet = JSON.parse(await pyrelo('fleet', '--json')) as FleetResponse;
  assert.equal(fleet.hosts, Object.keys(HOSTS).length + 1);
  assert.equal(fleet.withInventory, Object.keys(HOSTS).length);
  assert.deepEqual(fleet.withoutInventory, ['bare-1']);
  const facets: [keyof FleetResponse, (i: Inventory) => string][] = [
    ['distros', (i) => distroName(i.host.osRelease?.id ?? '', i.host.osRelease?.versionId ?? '')],
    ['libcs', (i) => libcName(i.host.libc.kind, i.host.libc.version ?? '')],
    ['kernels', (i) => i.host.kernelRelease],
    ['architectures', (i) => i.host.arch],
    ['isaLevels', (i) => isaLevelName(i.host.arch, i.loader.isaLevel)],
    ['pageSizes', (i) => String(i.loader.pageSize ?? 4096)],
  ];
  for (const [facet, valueOf] of facets) {
    const expected = expectedCounts(valueOf);
    const answered = fleet[facet] as FleetResponse['distros'];
    assert.deepEqual(
      new Map(answered.map((v) => [v.value, v.hosts])),
      new Map([...expected].map(([value, names]) => [value, names.length])),
      `${facet} counts`,
    );
    for (const v of answered) assert.deepEqual(v.names, expected.get(v.value)!.slice(0, 5), `${facet} ${v.value}`);
  }
  // Values the lab gives for certain, so that the comparison above is not between two empty lists.
  assert.equal(fleet.distros.find((d) => d.value === 'debian:11')?.hosts, 3);
  assert.equal(fleet.isaLevels.find((d) => d.value === 'x86-64-v2')?.hosts, 1);

  const staleOver = (days: number): string[] =>
    [...imported]
      .filter(([, i]) => Date.now() - Date.parse(i.collectedAt) > days * DAY_MS)
      .map(([name]) => name)
      .sort();
  assert.equal(fleet.staleAfterDays, 30);
  assert.deepEqual(fleet.stale.map((s) => s.name).sort(), staleOver(30));
  assert.ok(
    fleet.stale.some((s) => s.name === 'bull-2'),
    'bytes known by their receipt keep their collection time',
  );
  assert.equal(fleet.stale[0]!.ageDays >= fleet.stale.at(-1)!.ageDays, true, 'oldest first');
  const week = JSON.parse(await pyrelo('fleet', '--json', '--stale-days', '7')) as FleetResponse;
  assert.deepEqual(week.stale.map((s) => s.name).sort(), staleOver(7));
  assert.equal(week.staleCount, staleOver(7).length);

  const text = await pyrelo('fleet');
  // The same lines as the JSON answer rendered, but for the time the ages were counted from.
  const withoutTime = (t: string) => t.replace(/before \S+\)/, 'before NOW)');
  assert.equal(withoutTime(text), withoutTime(renderFleet(fleet).join('\n')));
  assert.match(text, /^10 hosts, 9 with an inventory \(1 without: bare-1\)$/m);
  assert.match(text, /^ {2}debian:11 +3 +bull-1, bull-2, bull-3$/m);
  assert.match(text, /^ {2}bull-1 +\S+ +400 d +import$/m);
  assert.match(await refused('fleet', '--stale-days', '0'), /--stale-days 0: expected a whole number of days/);
});

/** The requirement a host's own prediction (every problem) decides on, found independently. */
function requirementFrom(result: CheckResult): string {
  const errors = result.problems.filter((p) => p.severity === 'error');
  const first = errors[0]!;
  if (first.kind === 'missing-library') return first.library;
  if (first.kind === 'missing-interpreter') return `the interpreter ${first.object}`;
  assert.equal(first.kind, 'missing-version', `a first problem this test knows: ${first.message}`);
  const family = first.version.split('_')[0]!;
  const versions = errors
    .filter((p) => p.kind === 'missing-version' && p.version.startsWith(`${family}_`))
    .map((p) =>
      p.version
        .slice(family.length + 1)
        .split('.')
        .map(Number),
    );
  versions.sort((a, b) => b[0]! - a[0]! || (b[1] ?? 0) - (a[1] ?? 0) || (b[2] ?? 0) - (a[2] ?? 0));
  return `${family}_${versions[0]!.join('.')}`;
}

test('pyrelo compat gives the share of hosts it runs on and which requirement blocks which hosts', async () => {
  const compat = JSON.parse(await pyrelo('compat', digest, '--json')) as CompatResponse;
  // Each host's prediction, asked one by one.
  const blocked = new Map<string, Map<string, number>>();
  let runs = 0;
  for (const name of imported.keys()) {
    const { predicted } = await control.call('Check', { bundle: digest, host: name, verify: false, timeoutMs: 0 });
    assert.ok(predicted !== null, name);
    if (predicted.runs) {
      runs += 1;
      continue;
    }
    const requirement = requirementFrom(predicted);
    const i = imported.get(name)!;
    const distro = distroName(i.host.osRelease?.id ?? '', i.host.osRelease?.versionId ?? '');
    const perDistro = blocked.get(requirement) ?? new Map<string, number>();
    perDistro.set(distro, (perDistro.get(distro) ?? 0) + 1);
    blocked.set(requirement, perDistro);
  }
  assert.equal(compat.hostsJudged, imported.size, 'bare-1 has no verdict');
  assert.equal(compat.hostsRunning, runs);
  assert.deepEqual(
    new Map(compat.blockers.map((b) => [b.requirement, new Map(b.distros.map((d) => [d.distro, d.hosts]))])),
    blocked,
  );
  for (const b of compat.blockers)
    assert.equal(
      b.hosts,
      [...blocked.get(b.requirement)!.values()].reduce((x, y) => x + y),
    );
  // The busybox root has no C library at all: a dynamic glibc program is blocked there on any machine.
  assert.ok(compat.blockers.length > 0);
  // Where glibc hosts are blocked, it is by the bundle's own floor (this machine's glibc's, read at build).
  const glibc = compat.blockers.find((b) => b.requirement.startsWith('GLIBC_'));
  if (glibc !== undefined) assert.equal(glibc.requirement, `GLIBC_${compat.bundle!.glibcFloor}`);

  const text = renderCompat(compat).join('\n');
  assert.match(
    text,
    new RegExp(
      `^runs on ${runs} of ${imported.size} hosts \\(${Math.floor((100 * runs) / imported.size)} %\\); 1 unknown`,
      'm',
    ),
  );
  for (const b of compat.blockers) assert.ok(text.includes(`  ${blockerLine(b)}`), blockerLine(b));
  if (glibc !== undefined) assert.match(blockerLine(glibc), /^needs GLIBC_2\.\d+: blocks \d+ hosts? \(debian:11: 3\)$/);

  // Statically linked: runs on every host with an inventory, and nothing blocks it.
  const all = await control.call('Compat', { bundle: staticDigest });
  assert.equal(all.hostsRunning, all.hostsJudged);
  assert.deepEqual(all.blockers, []);
  assert.match(shareLine(all), /^runs on 9 of 9 hosts \(100 %\); 1 unknown/);
});

test('compat --distro answers from hosts when there are, else from the reference platform; NAME/ARCH', async () => {
  const ask = async (distro: string) =>
    JSON.parse(await pyrelo('compat', '--distro', distro, '--json')) as DistroResponse;

  const hosts = await ask('debian:12');
  assert.equal(hosts.basis, 'hosts');
  assert.deepEqual(hosts.bundles.map((b) => [b.bundle!.name, b.hosts]).sort(), [
    ['needs-host-glibc', 3],
    ['static-app', 3],
  ]);
  assert.equal((await ask('debian:12/x86_64')).basis, 'hosts');

  // No RHEL 8 host: the reference platform's verdicts, the same as compat's reference rows.
  const rhel = await ask('rhel:8');
  assert.equal(rhel.basis, 'reference');
  assert.equal(rhel.platform, 'rhel:8');
  const compat = await control.call('Compat', { bundle: digest });
  const staticCompat = await control.call('Compat', { bundle: staticDigest });
  const expected = [
    ...(compat.platforms.find((p) => p.platform === 'rhel:8')!.verdict === 'predicted' ? ['needs-host-glibc'] : []),
    ...(staticCompat.platforms.find((p) => p.platform === 'rhel:8')!.verdict === 'predicted' ? ['static-app'] : []),
  ];
  assert.deepEqual(rhel.bundles.map((b) => b.bundle!.name).sort(), expected);
  assert.ok(expected.includes('static-app'));
  const text = await pyrelo('compat', '--distro', 'rhel:8');
  assert.match(text, /^no host of rhel:8 is enrolled: predicted from reference \(reference platform rhel:8/m);

  // os-release IDs are not always lower case (openEuler's is not).
  const euler = await ask('openEuler:22.03');
  assert.equal(euler.basis, 'reference');
  assert.equal(euler.platform, 'openEuler:22.03');

  // No aarch64 host of Debian 12 (every host here is x86_64): Debian 12's facts on aarch64, where
  // none of these x86_64 bundles runs.
  const arm = await ask('debian:12/aarch64');
  assert.equal(arm.basis, 'reference');
  assert.equal(arm.platform, 'debian:12/aarch64');
  assert.deepEqual(arm.bundles, []);

  assert.match(await refused('compat', '--distro', 'debian:12/arm 64'), /expected ID:VERSION_ID\[\/ARCH\]/);
});

/** Polls an asynchronous check (a refusal counts as not yet) until it holds; 30 s at most. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > 30_000) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("agents' inventories are aged by the collection time in their hello, with or without the inventory", async () => {
  const ca = readFileSync(join(ts.dir, 'pki', 'ca.crt'));
  const base = JSON.parse(
    gunzipSync(readFileSync(join(PLATFORMS, 'debian-13.inventory.json.gz'))).toString('utf8'),
  ) as Inventory & { collectedAt: string };
  const started: AgentDaemon[] = [];
  /** An agent for `name` whose inventory (the same content for all) was collected `days` ago. */
  const agent = async (name: string, days: number): Promise<AgentDaemon> => {
    const state = new AgentState(join(work, `agent-${name}`));
    if (!existsSync(state.keyFile)) {
      const token = await control.call('CreateEnrollToken', { name });
      await enroll(state, ts.server.enrollAddress, token.token, ca);
    }
    const inventoryBytes = Buffer.from(
      JSON.stringify({ ...base, collectedAt: new Date(Date.now() - days * DAY_MS).toISOString() }),
    );
    const daemon = new AgentDaemon(
      state,
      {
        server: ts.server.agentAddress,
        heartbeatSeconds: 1,
        minBackoffMs: 100,
        maxBackoffMs: 1000,
        inventoryRoot: '/',
        inventoryBytes,
      },
      createLogger('agent', 'silent'),
    );
    started.push(daemon);
    daemon.start();
    await until(async () => (await control.call('ShowHost', { name })).inventoryVersion === 1);
    return daemon;
  };
  const staleAgents = async (): Promise<string[]> =>
    (JSON.parse(await pyrelo('fleet', '--json')) as FleetResponse).stale
      .filter((s) => s.source === 'agent')
      .map((s) => s.name)
      .sort();
  try {
    // The first sends the inventory itself (the server asks for it); the second only its hash.
    await agent('agent-uploads', 100);
    const second = await agent('agent-hash-only', 200);
    assert.deepEqual(await staleAgents(), ['agent-hash-only', 'agent-uploads']);
    // Restarted after collecting anew: the same content, so only the hash and the new time travel.
    second.stop();
    await waitFor(() => !ts.server.hub.isConnected('agent-hash-only'));
    await agent('agent-hash-only', 1);
    await until(async () => (await staleAgents()).length === 1);
    assert.deepEqual(await staleAgents(), ['agent-uploads']);
  } finally {
    for (const daemon of started) daemon.stop();
  }
});
