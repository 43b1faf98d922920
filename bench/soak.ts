// bench/soak: the compatibility server under attack (issue 13, "A soak under attack"). A real
// server process (gRPC over loopback with mutual TLS, its SQLite database, default limits), AGENTS
// well-behaved agents (default 200) in PROCESSES processes (default 4), each with its own enrolled
// certificate and TLS stream, saying hello with an inventory, heartbeating every second and
// reporting every 2 s; meanwhile enrolled attackers replay every attack of issue 13 in a loop
// (bench/soak-attackers.ts). Prints, as a table: the server's peak RSS and CPU, the p50/p99 of the
// good agents' report and heartbeat latencies, the event loop's longest stall (the server's Status
// call), what the attacks got, and whether every report the server acknowledged is in its database
// after a SIGKILL. Each figure is judged against issue 13's targets (RSS < 1 GiB, p99 <= 50 ms,
// event loop <= 50 ms, nothing lost). Exit status 1 if the server died or something was lost.
//
//   npm run bench:soak [-- AGENTS SECONDS PROCESSES]
//   SOAK_ATTACKS=none npm run bench:soak        (the same load without attackers: the baseline)
//   SOAK_ATTACKS=bomb,flood npm run bench:soak  (some attacks only)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSoak, type SoakFigures } from './soak-run.js';
import { ATTACKS } from './soak-attackers.js';

const TARGET_MS = 50;
const TARGET_RSS_MIB = 1024;

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const verdict = (ok: boolean): string => (ok ? 'holds' : '**does not hold**');

function table(f: SoakFigures): string {
  const unacknowledged = f.reportsSent - f.reportsAcknowledged;
  // A report never acknowledged is an infinite latency: it counts in the percentiles.
  const reports = [...f.reportLatencies, ...Array<number>(unacknowledged).fill(Infinity)];
  const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'never acknowledged');
  const p99Report = percentile(reports, 99);
  const p99Heartbeat = percentile(f.heartbeatLatencies, 99);
  const loop = f.status.eventLoopMaxMs;
  const rows: [string, string, string][] = [
    ['server alive at the end', f.serverAlive ? 'yes' : 'NO', verdict(f.serverAlive)],
    ['server RSS peak (VmHWM)', `${f.rssPeakMiB.toFixed(0)} MiB`, `< 1 GiB: ${verdict(f.rssPeakMiB < TARGET_RSS_MIB)}`],
    ['server CPU while attacked', `${f.serverCpuPercent.toFixed(0)} % of one core`, ''],
    [
      `reports (${f.reportsSent} sent, ${f.reportsAcknowledged} acknowledged)`,
      `p50 ${ms(percentile(reports, 50))}, p99 ${ms(p99Report)}, max ${ms(percentile(reports, 100))}`,
      `p99 <= ${TARGET_MS} ms: ${verdict(p99Report <= TARGET_MS)}`,
    ],
    [
      `heartbeats (${f.heartbeatLatencies.length} answered)`,
      `p50 ${ms(percentile(f.heartbeatLatencies, 50))}, p99 ${ms(p99Heartbeat)}, max ` +
        `${ms(percentile(f.heartbeatLatencies, 100))}`,
      `p99 <= ${TARGET_MS} ms: ${verdict(p99Heartbeat <= TARGET_MS)}`,
    ],
    [
      `event loop, longest stall (${f.status.eventLoopResolutionMs} ms ticks)`,
      `${loop.toFixed(1)} ms (p50 ${f.status.eventLoopP50Ms.toFixed(1)}, p99 ` +
        `${f.status.eventLoopP99Ms.toFixed(1)}; ${f.status.eventLoopSlowWindows} 10 s windows over ${TARGET_MS} ms)`,
      `<= ${TARGET_MS} ms: ${verdict(loop <= TARGET_MS)}`,
    ],
    ["good agents' streams cut while measuring", String(f.disconnects), ''],
    [
      'acknowledged reports missing from the database after SIGKILL',
      String(f.lost),
      `none lost: ${verdict(f.lost === 0)}`,
    ],
    [
      'good hosts with an inventory stored',
      `${f.hostsWithInventory}/${f.agents} (all in ${f.stormSeconds.toFixed(1)} s, under attack)`,
      verdict(f.hostsWithInventory === f.agents),
    ],
  ];
  for (const attack of ATTACKS) {
    const { rounds, ends } = f.tally[attack];
    const how = Object.entries(ends)
      .sort((a, b) => b[1] - a[1])
      .map(([end, n]) => `${n} ${end}`)
      .join(', ');
    rows.push([`attack ${attack}: ${rounds} rounds`, how || '(no call ended)', '']);
  }
  const lines = ['| | figure | issue 13 target |', '| --- | --- | --- |'];
  for (const [what, figure, target] of rows) lines.push(`| ${what} | ${figure} | ${target} |`);
  lines.push('', 'server warnings (pino, level >= warn), by message:');
  for (const [message, n] of Object.entries(f.logCounts).sort((a, b) => b[1] - a[1]))
    lines.push(`  ${String(n).padStart(6)}  ${message}`);
  return lines.join('\n');
}

const [agents = 200, seconds = 60, processes = 4] = process.argv.slice(2).map(Number);
const work = mkdtempSync(join(tmpdir(), 'pyrelo-bench-soak-'));
try {
  const figures = await runSoak({
    work,
    agents,
    processes,
    seconds,
    heartbeatSeconds: 1,
    reportEveryMs: 2000,
    flood: 50,
    // SOAK_SERVER_NODE_OPTIONS: node options for the server alone (e.g. --import of a profiler).
    serverEnv:
      process.env.SOAK_SERVER_NODE_OPTIONS === undefined
        ? process.env
        : { ...process.env, NODE_OPTIONS: process.env.SOAK_SERVER_NODE_OPTIONS },
    say: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `\nsoak: ${agents} agents for ${seconds} s under the attacks ` +
      `${process.env.SOAK_ATTACKS ?? ATTACKS.join(',')} (${new Date().toISOString()})\n\n${table(figures)}\n`,
  );
  if (!figures.serverAlive || figures.lost > 0) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
