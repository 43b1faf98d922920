// One soak under attack (issue 13, "A soak under attack"), for bench/soak.ts and its sample test:
// a real `pyrelo server` process on loopback (mTLS, its SQLite database), well-behaved agents in a
// few processes (bench/soak-agents.ts) and the attackers in one more (bench/soak-attackers.ts).
//   1. every agent and attacker enrolls with its own token; the attackers make their payloads;
//   2. the attacks start, then the agents connect (hello, inventory) under attack;
//   3. once every good host has its inventory stored, the agents report and heartbeat for
//      `seconds` while the attacks go on;
//   4. the server's status (event loop, RSS) is read, the server is killed with SIGKILL, and its
//      database is opened: every report the server acknowledged must be in it (agent_reports),
//      every good host must have an inventory.

import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ControlClient } from '../src/client/control-client.js';
import { bundlesAdd } from '../src/client/commands/bundles.js';
import { initPki } from '../src/server/pki.js';
import { DEFAULT_INVENTORY_LIMITS } from '../src/server/settings.js';
import type { ServerStatus } from '../src/proto/messages.js';
import { freePort, makeBundle, startServerProcess } from '../test/server/fixtures.js';
import type { SoakAgentsConfig, SoakAgentsResult } from './soak-agents.js';
import { ATTACKS, type Attack, type SoakAttackersConfig, type SoakAttackersResult } from './soak-attackers.js';
import { quietly } from '../test/support/quietly.js';

export interface SoakOptions {
  readonly work: string;
  readonly agents: number;
  readonly processes: number;
  readonly seconds: number;
  readonly heartbeatSeconds: number;
  readonly reportEveryMs: number;
  /** Calls at once in the flood attack. */
  readonly flood: number;
  /** The server's environment (its limits); the payloads follow its inventory limits. */
  readonly serverEnv: NodeJS.ProcessEnv;
  /** Progress lines. */
  readonly say: (line: string) => void;
}

export interface SoakFigures {
  readonly agents: number;
  readonly seconds: number;
  /** From the attacks' start to every good host's inventory stored. */
  readonly stormSeconds: number;
  readonly serverAlive: boolean;
  readonly serverCpuPercent: number;
  readonly rssPeakMiB: number;
  readonly reportsSent: number;
  readonly reportsAcknowledged: number;
  /** ms, sorted; reports never acknowledged are not in it (reportsSent - reportsAcknowledged). */
  readonly reportLatencies: number[];
  readonly heartbeatLatencies: number[];
  readonly disconnects: number;
  readonly status: ServerStatus;
  /** Acknowledged reports not found in the database after the kill. */
  readonly lost: number;
  readonly hostsWithInventory: number;
  readonly tally: SoakAttackersResult['tally'];
  /** The server's warn/error log lines, by message (what it cut, and any event-loop stall). */
  readonly logCounts: Record<string, number>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A forked bench child with a queue of its messages. */
interface Child {
  readonly process: ChildProcess;
  next<T>(type: string): Promise<T>;
}

function forkChild(script: string): Child {
  const child = fork(new URL(script, import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: { type: string }[] = [];
  const waiters: { type: string; resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (message: { type: string }) => {
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
    else inbox.push(message);
  });
  child.on('exit', (code) => {
    for (const waiter of waiters.splice(0))
      waiter.reject(new Error(`${script} exited with ${code} before sending ${waiter.type}`));
  });
  return {
    process: child,
    next<T>(type: string) {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0] as T);
      if (child.exitCode !== null) return Promise.reject(new Error(`${script} exited with ${child.exitCode}`));
      return new Promise<T>((resolve, reject) =>
        waiters.push({ type, resolve: resolve as (m: unknown) => void, reject }),
      );
    },
  };
}

/** utime+stime (all threads) in seconds, and the peak RSS in MiB (VmHWM), of a process. */
function usage(pid: number): { cpu: number; hwmMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu: (Number(fields[11]) + Number(fields[12])) / 100, hwmMiB: Number(hwm?.[1] ?? 0) / 1024 };
}

export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  const { work, say } = options;
  const dir = join(work, 'server');
  await initPki(dir);
  const [agentPort, enrollPort] = [await freePort(), await freePort()];
  const server = await startServerProcess(dir, agentPort, enrollPort, 'warn', options.serverEnv);
  const logCounts: Record<string, number> = {};
  let partial = '';
  server.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { level: number; msg: string };
      // Numbers in a message (a host, seconds, a stall's ms) would split one kind into many.
      const kind = entry.msg.replace(/\d+/g, 'N').replace(/agent soak-attack-\w+/, 'agent A');
      if (entry.level >= 40) logCounts[kind] = (logCounts[kind] ?? 0) + 1;
    }
  });
  const control = new ControlClient(`unix:${join(dir, 'control.sock')}`);
  const children: Child[] = [];
  try {
    await quietly(async () => bundlesAdd(await makeBundle(work, 'soak-app', 'static'), { control: control.address }));
    const bundleDigest = (await control.call('ListBundles', {})).bundles[0]!.digest;
    const common = {
      agentAddress: `127.0.0.1:${agentPort}`,
      enrollAddress: `127.0.0.1:${enrollPort}`,
      caFile: join(dir, 'pki', 'ca.crt'),
    };

    // 1. Enrollment: a token and a certificate per agent and per attack.
    const enrollStart = performance.now();
    const names = Array.from({ length: options.agents }, (_, i) => `soak-${String(i).padStart(4, '0')}`);
    const agentProcesses: Child[] = [];
    for (let p = 0; p < options.processes; p++) {
      const mine = names.filter((_, i) => i % options.processes === p);
      const agents = [];
      for (const name of mine) agents.push({ name, token: (await control.call('CreateEnrollToken', { name })).token });
      const child = forkChild('./soak-agents.js');
      const config: SoakAgentsConfig = {
        type: 'config',
        agents,
        ...common,
        work: join(work, `agents-${p}`),
        bundleDigest,
        variant: p,
        heartbeatSeconds: options.heartbeatSeconds,
        reportEveryMs: options.reportEveryMs,
      };
      child.process.send(config);
      agentProcesses.push(child);
      children.push(child);
    }
    const tokens = {} as SoakAttackersConfig['tokens'];
    for (const attack of ATTACKS) {
      const name = `soak-attack-${attack.replace('-', '')}`;
      tokens[attack] = { name, token: (await control.call('CreateEnrollToken', { name })).token };
    }
    const env = options.serverEnv;
    const limit = (name: string, fallback: number): number =>
      env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback;
    const attackers = forkChild('./soak-attackers.js');
    children.push(attackers);
    const attackersConfig: SoakAttackersConfig = {
      type: 'config',
      tokens,
      ...common,
      work: join(work, 'attackers'),
      limits: {
        maxJsonBytes: limit('PYRELO_INVENTORY_MAX_JSON_BYTES', DEFAULT_INVENTORY_LIMITS.maxJsonBytes),
        maxElements: limit('PYRELO_INVENTORY_MAX_ELEMENTS', DEFAULT_INVENTORY_LIMITS.maxElements),
        maxDepth: limit('PYRELO_INVENTORY_MAX_DEPTH', DEFAULT_INVENTORY_LIMITS.maxDepth),
      },
      flood: options.flood,
    };
    attackers.process.send(attackersConfig);
    await Promise.all([...agentProcesses.map((c) => c.next('enrolled')), attackers.next('armed')]);
    say(
      `soak: ${options.agents} agents in ${options.processes} processes and ${ATTACKS.length} attackers ` +
        `enrolled, payloads made, in ${((performance.now() - enrollStart) / 1000).toFixed(1)} s`,
    );

    // 2. The attacks start (the attackers began when armed: they are running now); the figures
    // count from here. The agents connect under attack.
    await control.call('Status', { resetEventLoop: true });
    const before = usage(server.pid!);
    const attackStart = performance.now();
    await sleep(2_000);
    for (const child of agentProcesses) child.process.send({ type: 'start' });
    await Promise.all(agentProcesses.map((c) => c.next('ready')));
    for (;;) {
      const { hosts } = await control.call('ListHosts', {});
      const good = new Set(names);
      if (hosts.filter((h) => good.has(h.name) && h.inventoryVersion > 0).length >= names.length) break;
      if (performance.now() - attackStart > 600_000) throw new Error('the good hosts had no inventory after 600 s');
      await sleep(250);
    }
    const stormSeconds = (performance.now() - attackStart) / 1000;
    say(
      `soak: every good agent connected and its inventory stored ${stormSeconds.toFixed(1)} s after the attacks began`,
    );

    // 3. Reports and heartbeats under attack.
    const measureStart = performance.now();
    for (const child of agentProcesses) child.process.send({ type: 'measure' });
    await sleep(options.seconds * 1000);
    for (const child of agentProcesses) child.process.send({ type: 'stop' });
    const results = await Promise.all(agentProcesses.map((c) => c.next<SoakAgentsResult>('result')));
    const wall = (performance.now() - attackStart) / 1000;
    const status = await control.call('Status', {});
    const after = usage(server.pid!);
    say(`soak: measured ${((performance.now() - measureStart) / 1000).toFixed(1)} s; stopping the attackers`);
    // With no attack chosen (SOAK_ATTACKS=none) the attackers have already answered and exited.
    if (attackers.process.connected) attackers.process.send({ type: 'stop' });
    const { tally } = await attackers.next<SoakAttackersResult>('result');
    const serverAlive = server.exitCode === null && server.signalCode === null;

    // 4. Killed, not stopped: what was acknowledged must already be on disk. (SOAK_SERVER_STOP=term
    // stops it cleanly instead, so that a server run with NODE_OPTIONS=--cpu-prof writes its profile.)
    control.close();
    if (serverAlive) {
      server.kill(process.env.SOAK_SERVER_STOP === 'term' ? 'SIGTERM' : 'SIGKILL');
      await new Promise((r) => server.once('exit', r));
    }
    const db = new Database(join(dir, 'compat.sqlite'), { readonly: true, fileMustExist: true });
    let lost = 0;
    let hostsWithInventory = 0;
    try {
      const stored = db.prepare('SELECT 1 FROM agent_reports WHERE report_id = ?');
      for (const result of results)
        for (const ids of Object.values(result.acknowledged))
          for (const id of ids) if (stored.get(id) === undefined) lost += 1;
      const withInventory = db.prepare(
        'SELECT count(*) AS n FROM hosts h WHERE h.name LIKE ? AND EXISTS (SELECT 1 FROM host_inventories i ' +
          'WHERE i.host_id = h.id)',
      );
      hostsWithInventory = (withInventory.get('soak-0%') as { n: number }).n;
    } finally {
      db.close();
    }
    const reportLatencies = results.flatMap((r) => r.reportLatencies).sort((a, b) => a - b);
    return {
      agents: options.agents,
      seconds: options.seconds,
      stormSeconds,
      serverAlive,
      serverCpuPercent: (100 * (after.cpu - before.cpu)) / wall,
      rssPeakMiB: after.hwmMiB,
      reportsSent: results.reduce((n, r) => n + r.reportsSent, 0),
      reportsAcknowledged: reportLatencies.length,
      reportLatencies,
      heartbeatLatencies: results.flatMap((r) => r.heartbeatLatencies).sort((a, b) => a - b),
      disconnects: results.reduce((n, r) => n + r.disconnects, 0),
      status,
      lost,
      hostsWithInventory,
      tally,
      logCounts,
    };
  } finally {
    control.close();
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
}

export type { Attack };
