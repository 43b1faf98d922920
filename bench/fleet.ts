// bench/fleet: the compatibility server under a fleet, over real gRPC with mutual TLS on loopback.
//   1. N agents (default 200) connect, heartbeat every second and report; the server runs as its
//      own process so its CPU and memory are its own. Prints server CPU (% of one core), peak RSS,
//      and p50/p99/max latency of a report (sent -> stored and acknowledged); a report not
//      acknowledged within REPORT_TIMEOUT_MS counts in them as a timeout (an infinite latency).
//   2. `pyrelo compat` over a database of 1,000 hosts x 100 bundles: median and worst time of the
//      query in-process and through the control service, each judged against the 100 ms budget.
//   3. Predictions: 1,000 hosts imported with stored inventories, 200 of them distinct (this
//      machine's, each variant with one extra unreadable path), then a new bundle added: seconds
//      from `bundles add` to the last of the 1,000 predictions stored (issue 16 aims at 10 s on 2
//      cores), with the server's CPU and peak RSS. The server runs PYRELO_PREDICTION_WORKERS
//      (default here 2) prediction workers.
//   4. Refresh: 100 stored bundles, then one host's inventory changes (ImportInventory with new
//      content, which answers once that host's predictions are stored): seconds until every bundle
//      has its new prediction for that host, beside the same 100 predictions made the way a user
//      without a server makes them, one `pyrelo check --inventory FILE BUNDLE` per bundle.
//
//   5. `pyrelo fleet` over 1,000 hosts (40 distinct inventories): median and worst time of the Fleet
//      call through the control service, which reads the facts stored with each inventory
//      (migration 7), beside what answering without them costs: decoding each host's inventory
//      (gunzip, parse, validate; a real lab inventory, data/platforms/debian-12), timed on a few and
//      multiplied by the hosts.
//
//   npm run bench:fleet [-- AGENTS SECONDS]
//   npm run bench:fleet -- predictions [HOSTS DISTINCT]     (step 3 alone)
//   npm run bench:fleet -- refresh [BUNDLES]                (step 4 alone)
//   npm run bench:fleet -- view [HOSTS]                     (step 5 alone)

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../src/client/control-client.js';
import { AgentState } from '../src/agent/state.js';
import { enroll } from '../src/agent/enroll.js';
import { AgentDaemon } from '../src/agent/daemon.js';
import { createLogger } from '../src/common/log.js';
import { initPki } from '../src/server/pki.js';
import { CompatDatabase } from '../src/server/db/database.js';
import { compatOf } from '../src/server/compat-query.js';
import { fleetOf } from '../src/server/fleet-query.js';
import { collectInventory } from '../src/inventory/collect.js';
import { bundlesAdd } from '../src/client/commands/bundles.js';
import { execa } from 'execa';
import { fixtureRoot, freePort, makeBundle, startServerProcess, verifiedRun } from '../test/server/fixtures.js';
import type { CheckResult } from '../src/proto/messages.js';
import { quietly } from '../test/support/quietly.js';
import { decodeInventory } from '../src/inventory/read.js';
import { packageFolder } from '../src/common/package-files.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A report not acknowledged this long after it was sent is a timeout. */
const REPORT_TIMEOUT_MS = 5_000;
const BUDGET_MS = 100;

/** A latency for print: a timeout (Infinity) says so. */
const ms = (x: number): string =>
  Number.isFinite(x) ? `${x.toFixed(1)} ms` : `timeout (> ${REPORT_TIMEOUT_MS / 1000} s)`;

/** Median and worst of some times, each against the budget. */
function judged(sorted: readonly number[]): string {
  const verdict = (x: number): string => (x < BUDGET_MS ? 'within' : 'OVER');
  const med = percentile(sorted, 50);
  const worst = sorted[sorted.length - 1]!;
  return (
    `median ${med.toFixed(1)} ms (${verdict(med)}), worst ${worst.toFixed(1)} ms (${verdict(worst)}) the ` +
    `${BUDGET_MS} ms budget`
  );
}

/**
 * utime+stime in seconds, RSS in MiB of a process, and its peak RSS since it started (VmHWM: the
 * kernel's high-water mark, so a peak between two samples, while an inventory is parsed, counts).
 */
function usage(pid: number): { cpu: number; rssMiB: number; peakMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { cpu: ticks / 100, rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

/** This machine's inventory as JSON, made distinct by one extra unreadable path named after TAG. */
function inventoryVariant(base: ReturnType<typeof collectInventory>, tag: string): Buffer {
  return Buffer.from(
    JSON.stringify({ ...base, unreadable: { ...base.unreadable, [`/pyrelo-bench/${tag}`]: 'file too short' } }),
  );
}

/** A server process with its own PKI in DIR, on free ports, and a control client for it. */
async function benchServer(
  dir: string,
  env?: NodeJS.ProcessEnv,
): Promise<{ server: Awaited<ReturnType<typeof startServerProcess>>; control: ControlClient }> {
  await initPki(dir);
  const server = await startServerProcess(
    dir,
    await freePort(),
    await freePort(),
    process.env.FLEET_LOG_LEVEL ?? 'warn',
    ...(env === undefined ? [] : [env]),
  );
  return { server, control: new ControlClient(`unix:${join(dir, 'control.sock')}`) };
}

async function fleet(work: string, agentCount: number, seconds: number): Promise<void> {
  const dir = join(work, 'fleet-server');
  await initPki(dir);
  const [agentPort, enrollPort] = [await freePort(), await freePort()];
  const server = await startServerProcess(dir, agentPort, enrollPort, process.env.FLEET_LOG_LEVEL ?? 'warn');
  const control = new ControlClient(`unix:${join(dir, 'control.sock')}`);
  await quietly(async () => bundlesAdd(await makeBundle(work, 'fleet-app', 'static'), { control: control.address }));
  const digest = (await control.call('ListBundles', {})).bundles[0]!.digest;
  const inventory = Buffer.from(JSON.stringify(collectInventory('/')));
  const ca = readFileSync(join(dir, 'pki', 'ca.crt'));
  const silent = createLogger('agent', 'silent');
  const agents: AgentDaemon[] = [];
  const latencies: number[] = [];
  /** Reports sent while measuring and not acknowledged yet: id -> when first sent. */
  const pending = new Map<string, number>();
  let measuring = false;
  const enrollStart = performance.now();
  for (let i = 0; i < agentCount; i++) {
    const name = `fleet-${String(i).padStart(4, '0')}`;
    const token = await control.call('CreateEnrollToken', { name });
    const state = new AgentState(join(work, 'agents', name));
    await enroll(state, `127.0.0.1:${enrollPort}`, token.token, ca);
    const agent = new AgentDaemon(
      state,
      {
        server: `127.0.0.1:${agentPort}`,
        heartbeatSeconds: 1,
        minBackoffMs: 200,
        maxBackoffMs: 5000,
        inventoryRoot: '/',
        inventoryBytes: inventory,
      },
      silent,
    );
    agent.listeners.add((event, detail) => {
      if (event !== 'ack' || !measuring) return;
      const sent = pending.get(detail as string);
      if (sent === undefined) return;
      pending.delete(detail as string);
      const latency = performance.now() - sent;
      latencies.push(latency > REPORT_TIMEOUT_MS ? Infinity : latency);
    });
    agents.push(agent);
  }
  process.stdout.write(
    `fleet: enrolled ${agentCount} agents in ${((performance.now() - enrollStart) / 1000).toFixed(1)} s\n`,
  );
  let connected = 0;
  for (const agent of agents)
    agent.listeners.add((event) => {
      if (event === 'connected') connected += 1;
    });
  const stormStart = performance.now();
  for (const agent of agents) agent.start();
  const deadline = Date.now() + 120_000;
  while (connected < agentCount && Date.now() < deadline) await sleep(100);
  // The connection storm: every agent says hello with its inventory's hash; the server asks for
  // the inventories it lacks. Reports are measured once every host has one stored.
  while (Date.now() < deadline) {
    const { hosts } = await control.call('ListHosts', {});
    if (hosts.filter((h) => h.inventoryVersion > 0).length >= agentCount) break;
    await sleep(200);
  }
  const afterStorm = usage(server.pid!);
  process.stdout.write(
    `fleet: ${connected}/${agentCount} agents connected and their inventories stored in ` +
      `${((performance.now() - stormStart) / 1000).toFixed(1)} s ` +
      ('(one TLS connection each, heartbeat every 1 s; server RSS after the storm ' +
        `${afterStorm.rssMiB.toFixed(0)} MiB)\n`),
  );
  const result = (host: string): CheckResult => verifiedRun(host, digest);
  // Every agent reports once every 2 s, spread evenly: agentCount / 2 reports per second.
  const before = usage(server.pid!);
  let peakRss = before.rssMiB;
  const started = performance.now();
  measuring = true;
  let sent = 0;
  const interval = 2000 / agentCount;
  for (let k = 0; performance.now() - started < seconds * 1000; k++) {
    const agent = agents[k % agentCount]!;
    const id = agent.report('', result(agent.host));
    // Its first sending (a report resent after a reconnect keeps this time).
    pending.set(id, agent.sentAt.get(id) ?? performance.now());
    sent += 1;
    if (k % 50 === 0) peakRss = Math.max(peakRss, usage(server.pid!).rssMiB);
    await sleep(interval);
  }
  const wall = (performance.now() - started) / 1000;
  const after = usage(server.pid!);
  // The last reports get their full timeout; what is still unacknowledged then timed out.
  const waitUntil = performance.now() + REPORT_TIMEOUT_MS;
  while (pending.size > 0 && performance.now() < waitUntil) await sleep(50);
  measuring = false;
  const acknowledged = latencies.filter(Number.isFinite).length;
  const timeouts = sent - acknowledged;
  for (let i = latencies.length; i < sent; i++) latencies.push(Infinity);
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    [
      `fleet: ${sent} reports in ${wall.toFixed(1)} s (${(sent / wall).toFixed(0)}/s) from ${agentCount} ` +
        `agents, ${acknowledged} acknowledged within ${REPORT_TIMEOUT_MS / 1000} s, ${timeouts} timed out`,
      `fleet: server CPU ${((100 * (after.cpu - before.cpu)) / wall).toFixed(1)} % of one core, RSS ` +
        `${after.rssMiB.toFixed(0)} MiB (peak ${Math.max(peakRss, after.rssMiB).toFixed(0)} MiB)`,
      'fleet: report latency (sent -> committed -> acknowledged; timeouts included) p50 ' +
        `${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ` +
        `${ms(percentile(latencies, 100))}`,
      '',
    ].join('\n'),
  );
  for (const agent of agents) agent.stop();
  control.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
}

/**
 * A database of `hosts` hosts x `bundles` bundles, written directly: a prediction for every pair, a
 * verified run for one host in ten, a third failing with two problems.
 */
function fillDatabase(file: string, hosts: number, bundles: number): CompatDatabase {
  const db = new CompatDatabase(file);
  const distros = [
    ['debian', '10'],
    ['debian', '11'],
    ['debian', '12'],
    ['debian', '13'],
    ['ubuntu', '20.04'],
    ['ubuntu', '22.04'],
    ['ubuntu', '24.04'],
    ['rhel', '8'],
    ['rhel', '9'],
    ['alpine', '3.20'],
  ];
  db.db.transaction(() => {
    const host = db.db.prepare(
      `INSERT INTO hosts (name, distro_id, distro_version, arch, kernel, libc_kind, libc_version, source, added_at)
      VALUES (?, ?, ?, 'x86_64', '6.1.0', 'glibc', '2.36', 'import', '2026-01-01')`,
    );
    for (let h = 0; h < hosts; h++) {
      const [id, v] = distros[h % distros.length]!;
      host.run(`host-${String(h).padStart(4, '0')}`, id, v);
    }
    const bundle = db.db.prepare(
      `INSERT INTO bundles (digest, name, size, libc, glibc_floor, kernel_floor, python_version, archive_name,
      manifest, added_at) VALUES (?, ?, 1000, 'host', '2.34', '3.2.0', '3.11.9', 'a.tar.gz', '{}', '2026-01-01')`,
    );
    for (let b = 0; b < bundles; b++) bundle.run(b.toString(16).padStart(64, '0'), `bundle-${b}`);
    const check = db.db.prepare(
      `INSERT INTO checks (bundle_id, host_id, kind, runs, loads, files_checked, glibc_floor, checked_at)
      VALUES (?, ?, ?, ?, ?, 40, '2.34', '2026-01-01')`,
    );
    const problem = db.db.prepare(
      `INSERT INTO check_problems (check_id, seq, kind, severity, message, file, object, version)
      VALUES (?, ?, 'missing-version', 'error', ?, 'bin/python3', '/lib/x86_64-linux-gnu/libc.so.6', ?)`,
    );
    for (let b = 1; b <= bundles; b++) {
      for (let h = 1; h <= hosts; h++) {
        const fails = (h + b) % 3 === 0;
        for (const kind of h % 10 === 0 ? ['predicted', 'verified'] : ['predicted']) {
          const id = Number(check.run(b, h, kind, fails ? 0 : 1, fails ? 0 : 1).lastInsertRowid);
          if (fails)
            for (const [i, v] of ['GLIBC_2.34', 'GLIBC_2.32'].entries())
              problem.run(
                id,
                i,
                `/lib/x86_64-linux-gnu/libc.so.6: version \`${v}' not found (required by bin/python3)`,
                v,
              );
        }
      }
    }
  })();
  return db;
}

async function compatBench(work: string): Promise<void> {
  const dir = join(work, 'compat-server');
  const file = join(dir, 'compat.sqlite');
  const fillStart = performance.now();
  const db = fillDatabase(file, 1000, 100);
  const rows = (db.db.prepare('SELECT count(*) AS n FROM checks').get() as { n: number }).n;
  process.stdout.write(
    `compat: database of 1,000 hosts x 100 bundles (${rows} results) written in ` +
      `${((performance.now() - fillStart) / 1000).toFixed(1)} s\n`,
  );
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const bundle = db.resolveBundle(`bundle-${i % 100}`);
    const t = performance.now();
    compatOf(db, bundle, () => false);
    times.push(performance.now() - t);
  }
  db.close();
  times.sort((a, b) => a - b);
  process.stdout.write(`compat: query in-process: ${judged(times)}\n`);

  const { server, control } = await benchServer(dir);
  const rpc: number[] = [];
  let hostsAnswered = 0;
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    const answer = await control.call('Compat', { bundle: `bundle-${(i * 7) % 100}` });
    rpc.push(performance.now() - t);
    hostsAnswered = answer.hosts.length;
  }
  rpc.sort((a, b) => a - b);
  process.stdout.write(
    `compat: pyrelo compat through the control service (${hostsAnswered} hosts per answer): ${judged(rpc)}\n`,
  );
  control.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
}

async function predictionsBench(work: string, hosts: number, distinct: number): Promise<void> {
  const dir = join(work, 'predict-server');
  const workers = process.env.PYRELO_PREDICTION_WORKERS ?? '2';
  const { server, control } = await benchServer(dir, { ...process.env, PYRELO_PREDICTION_WORKERS: workers });
  try {
    const base = collectInventory('/');
    // One variant's JSON at a time (22 MB each), imported for each of its hosts: hosts h and
    // h + DISTINCT share variant h % DISTINCT.
    const variant = (i: number): Buffer => inventoryVariant(base, `variant-${i}`);
    const importStart = performance.now();
    let size = 0;
    for (let v = 0; v < distinct; v++) {
      const inventory = variant(v);
      size = inventory.length;
      for (let h = v; h < hosts; h += distinct) {
        await control.call('ImportInventory', { name: `host-${String(h).padStart(4, '0')}`, inventory });
      }
    }
    const intake = await control.call('Status', {});
    const held = usage(server.pid!);
    process.stdout.write(
      `predictions: ${hosts} hosts imported (${distinct} distinct inventories of ${(size / 1e6).toFixed(1)} MB) ` +
        `in ${((performance.now() - importStart) / 1000).toFixed(1)} s ` +
        `(${intake.inventoriesStored} parsed and stored, ` +
        `${intake.inventoriesKnownContent} parsed and found stored, ` +
        `${intake.inventoriesKnownBytes} known by the hash of their bytes); ` +
        `server RSS ${held.rssMiB.toFixed(0)} MiB holding them, peak ${held.peakMiB.toFixed(0)} MiB since it ` +
        `started (target for 1,000 inventories: under 1 GiB)\n`,
    );
    const archive = await makeBundle(work, 'predict-app', 'host-libc');
    const before = usage(server.pid!);
    let peakRss = before.rssMiB;
    const start = performance.now();
    await quietly(() => bundlesAdd(archive, { control: control.address }));
    const added = performance.now();
    let stored = 0;
    let polls = 0;
    for (;;) {
      const answer = await control.call('Compat', { bundle: 'predict-app' });
      stored = answer.hosts.filter((h) => h.result !== null).length;
      peakRss = Math.max(peakRss, usage(server.pid!).rssMiB);
      if (stored >= hosts || performance.now() - start > 30 * 60_000) break;
      polls += 1;
      if (polls % 20 === 0)
        process.stdout.write(
          `predictions: ${stored}/${hosts} stored after ${((performance.now() - start) / 1000).toFixed(0)} s\n`,
        );
      await sleep(250);
    }
    const seconds = (performance.now() - start) / 1000;
    const after = usage(server.pid!);
    process.stdout.write(
      `predictions: a new bundle against ${hosts} stored inventories (${distinct} distinct), ${workers} workers: ` +
        (`${stored}/${hosts} predictions stored ${seconds.toFixed(1)} s after bundles add started (the add ` +
          `itself ${((added - start) / 1000).toFixed(1)} s; `) +
        `target 10 s: ${seconds <= 10 ? 'within' : 'OVER'}), ${(stored / seconds).toFixed(1)} predictions/s; ` +
        `server CPU ${(after.cpu - before.cpu).toFixed(1)} s, peak RSS ${peakRss.toFixed(0)} MiB ` +
        `(${after.peakMiB.toFixed(0)} MiB since the server started)\n`,
    );
  } finally {
    control.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

/** A changed inventory of one host against BUNDLES stored bundles (step 4). */
async function refreshBench(work: string, bundles: number): Promise<void> {
  const dir = join(work, 'refresh-server');
  const { server, control } = await benchServer(dir, {
    ...process.env,
    PYRELO_PREDICTION_WORKERS: process.env.PYRELO_PREDICTION_WORKERS ?? '2',
  });
  try {
    const names = Array.from({ length: bundles }, (_, i) => `refresh-app-${String(i).padStart(3, '0')}`);
    for (const [i, name] of names.entries()) {
      // Both kinds, so that half the bundles need the host's glibc and half need nothing of it.
      const archive = await makeBundle(work, name, i % 2 === 0 ? 'host-libc' : 'static');
      await quietly(() => bundlesAdd(archive, { control: control.address }));
    }
    process.stdout.write(`refresh: ${bundles} bundles stored\n`);
    const base = collectInventory('/');
    // Two contents of the same host: the refresh is a real change, so nothing is reused.
    const version = (n: number): Buffer => inventoryVariant(base, `refresh-${n}`);
    await control.call('ImportInventory', { name: 'refreshed-host', inventory: version(1) });
    const changed = version(2);
    const before = usage(server.pid!);
    const start = performance.now();
    await control.call('ImportInventory', { name: 'refreshed-host', inventory: changed });
    const seconds = (performance.now() - start) / 1000;
    const after = usage(server.pid!);
    const sha = (await control.call('ShowHost', { name: 'refreshed-host' })).inventorySha256;
    let current = 0;
    for (const name of names) {
      const row = (await control.call('Compat', { bundle: name })).hosts.find((h) => h.host?.name === 'refreshed-host');
      if (row?.result?.kind === 'predicted' && row.result.inventorySha256 === sha) current += 1;
    }

    // The alternative: one CLI check per bundle against the same inventory, as a user without a
    // server runs it (the parse cache on, as it is by default, warmed by a first round).
    const file = join(work, 'refreshed-host.json');
    writeFileSync(file, changed);
    const cli = join(process.cwd(), 'dist', 'src', 'client', 'main.js');
    const env = { ...process.env, PYRELO_CACHE: join(work, 'cli-cache') };
    const checkAll = async (): Promise<number> => {
      const t = performance.now();
      for (const name of names) {
        // Exit 1 is an answer too (would not load); anything else is a failure of the bench.
        const run = await execa('node', [cli, 'check', '--inventory', file, fixtureRoot(work, name)], {
          env,
          reject: false,
        });
        if (run.exitCode !== 0 && run.exitCode !== 1) throw new Error(`pyrelo check of ${name}: ${run.stderr}`);
      }
      return (performance.now() - t) / 1000;
    };
    await checkAll();
    const cliSeconds = await checkAll();
    process.stdout.write(
      `refresh: one host's changed inventory against ${bundles} stored bundles: ${current}/${bundles} ` +
        `predictions for its new inventory stored ${seconds.toFixed(2)} s after ImportInventory started ` +
        `(server CPU ${(after.cpu - before.cpu).toFixed(1)} s); ${bundles} \`pyrelo check --inventory\` runs: ` +
        `${cliSeconds.toFixed(1)} s; ratio ${(cliSeconds / seconds).toFixed(1)}x\n`,
    );
    if (current !== bundles) process.exitCode = 1;
  } finally {
    control.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

/** Step 5: the Fleet call over `hosts` hosts, beside decoding their inventories. */
async function fleetViewBench(work: string, hosts: number): Promise<void> {
  const dir = join(work, 'view-server');
  const db = new CompatDatabase(join(dir, 'compat.sqlite'));
  const distros = [
    ['debian', '11', 'glibc', '2.31'],
    ['debian', '12', 'glibc', '2.36'],
    ['rhel', '8', 'glibc', '2.28'],
    ['rhel', '9', 'glibc', '2.34'],
    ['ubuntu', '22.04', 'glibc', '2.35'],
    ['alpine', '3.20', 'musl', '1.2.5'],
  ] as const;
  const now = Date.now();
  db.db.transaction(() => {
    const inventory = db.db.prepare(
      `INSERT INTO inventories (sha256, body, size, stored_at, isa_level, page_size) VALUES (?, x'', 0, ?, ?, ?)`,
    );
    const ids: number[] = [];
    for (let i = 0; i < 40; i++)
      ids.push(
        Number(
          inventory.run(i.toString(16).padStart(64, '0'), '2026-01-01', 1 + (i % 4), i % 10 === 0 ? 16384 : 4096)
            .lastInsertRowid,
        ),
      );
    const host = db.db.prepare(
      `INSERT INTO hosts (name, distro_id, distro_version, arch, kernel, libc_kind, libc_version, source, added_at,
        inventory_id, inventory_version, inventory_collected_at)
      VALUES (?, ?, ?, 'x86_64', ?, ?, ?, 'agent', '2026-01-01', ?, 1, ?)`,
    );
    for (let h = 0; h < hosts; h++) {
      const [id, version, libc, libcVersion] = distros[h % distros.length]!;
      host.run(
        `host-${String(h).padStart(4, '0')}`,
        id,
        version,
        `6.1.${h % 7}`,
        libc,
        libcVersion,
        ids[h % ids.length]!,
        new Date(now - (h % 60) * 86_400_000).toISOString(),
      );
    }
  })();
  const inProcess: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    fleetOf(db.fleetFacts(), 0);
    inProcess.push(performance.now() - t);
  }
  inProcess.sort((a, b) => a - b);
  db.close();
  const { server, control } = await benchServer(dir);
  const times: number[] = [];
  let answer: Awaited<ReturnType<typeof control.call<'Fleet'>>> | null = null;
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    answer = await control.call('Fleet', { staleAfterDays: 0 });
    times.push(performance.now() - t);
  }
  control.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  times.sort((a, b) => a - b);
  // Without stored facts, every question reads each host's inventory: timed on a real one.
  const file = join(packageFolder('data'), 'platforms', 'debian-12.inventory.json.gz');
  const bytes = readFileSync(file);
  const decode: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    decodeInventory(bytes, file);
    decode.push(performance.now() - t);
  }
  decode.sort((a, b) => a - b);
  const perInventory = percentile(decode, 50);
  const median = percentile(times, 50);
  process.stdout.write(
    [
      `fleet view: ${answer!.hosts} hosts, ${answer!.distros.length} distros, ${answer!.staleCount} stale`,
      `fleet view: query in-process: ${judged(inProcess)}`,
      `fleet view: Fleet call through the control service: ${judged(times)}`,
      `fleet view: decoding one real inventory (debian-12, ${(bytes.length / 1024).toFixed(0)} KiB gzipped) ` +
        `median ${perInventory.toFixed(1)} ms, x ${hosts} hosts = ${((perInventory * hosts) / 1000).toFixed(1)} s ` +
        `per question; the stored facts answer ${((perInventory * hosts) / median).toFixed(0)}x faster`,
      '',
    ].join('\n'),
  );
}

const args = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'pyrelo-bench-fleet-'));
try {
  if (args[0] === 'predictions') {
    await predictionsBench(work, Number(args[1] ?? 1000), Number(args[2] ?? 200));
  } else if (args[0] === 'refresh') {
    await refreshBench(work, Number(args[1] ?? 100));
  } else if (args[0] === 'view') {
    await fleetViewBench(work, Number(args[1] ?? 1000));
  } else {
    await fleet(work, Number(args[0] ?? 200), Number(args[1] ?? 20));
    await compatBench(work);
    await predictionsBench(work, 1000, 200);
    await refreshBench(work, 100);
    await fleetViewBench(work, 1000);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
