// bench/soak's well-behaved agents: one process of many (bench/soak.ts forks a few, so the good
// agents' own event loops, TLS and fsyncs are spread over processes like a fleet's). Each agent
// enrolls with its own token (its own key and certificate), runs the real AgentDaemon (its own TLS
// connection and Connect stream, hello with this process's inventory, heartbeats), and reports
// verified results at a steady rate while bench/soak measures. It measures, for the orchestrator:
// every report's latency (sent -> stored -> acknowledged) and every heartbeat's round trip, and
// the ids of the reports the server acknowledged, which bench/soak then looks for in the database.
//
// Messages from bench/soak: SoakAgentsConfig, 'start', 'measure', 'stop'. To it: 'enrolled',
// 'ready' (every agent connected and welcomed), then SoakAgentsResult.

import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { AgentState } from '../src/agent/state.js';
import { enroll } from '../src/agent/enroll.js';
import { AgentDaemon } from '../src/agent/daemon.js';
import { createLogger } from '../src/common/log.js';
import { collectInventory } from '../src/inventory/collect.js';
import { verifiedRun } from '../test/server/fixtures.js';

export interface SoakAgentsConfig {
  readonly type: 'config';
  /** Agents of this process: host name and its one-time enrollment token. */
  readonly agents: readonly { readonly name: string; readonly token: string }[];
  readonly agentAddress: string;
  readonly enrollAddress: string;
  readonly caFile: string;
  readonly work: string;
  readonly bundleDigest: string;
  /** Distinguishes this process's inventory from the others' (a distinct content hash). */
  readonly variant: number;
  readonly heartbeatSeconds: number;
  /** Each agent sends one report this often while measuring. */
  readonly reportEveryMs: number;
}

export interface SoakAgentsResult {
  readonly type: 'result';
  readonly reportsSent: number;
  /** ms, acknowledged reports only; reportsSent minus their number were not acknowledged. */
  readonly reportLatencies: number[];
  readonly heartbeatLatencies: number[];
  /** Reports the server acknowledged: host -> ids. */
  readonly acknowledged: Record<string, string[]>;
  /** Streams that ended under an agent while measuring (each reconnects). */
  readonly disconnects: number;
}

type Command = SoakAgentsConfig | { readonly type: 'start' | 'measure' | 'stop' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** After 'stop', reports still in flight get this long to be acknowledged. */
const ACK_GRACE_MS = 10_000;

async function run(config: SoakAgentsConfig, next: () => Promise<Command>): Promise<void> {
  const base = collectInventory('/');
  const inventory = Buffer.from(
    JSON.stringify({ ...base, unreadable: { ...base.unreadable, [`/pyrelo-soak/variant-${config.variant}`]: 'x' } }),
  );
  const ca = readFileSync(config.caFile);
  const silent = createLogger('agent', 'silent');
  const agents: AgentDaemon[] = [];
  for (const { name, token } of config.agents) {
    const state = new AgentState(join(config.work, name));
    await enroll(state, config.enrollAddress, token, ca);
    agents.push(
      new AgentDaemon(
        state,
        {
          server: config.agentAddress,
          heartbeatSeconds: config.heartbeatSeconds,
          minBackoffMs: 200,
          maxBackoffMs: 5000,
          inventoryRoot: '/',
          inventoryBytes: inventory,
        },
        silent,
      ),
    );
  }
  process.send!({ type: 'enrolled' });
  const go = await next();
  if (go.type !== 'start') throw new Error(`expected start, got ${go.type}`);
  let measuring = false;
  let disconnects = 0;
  const reportLatencies: number[] = [];
  const heartbeatLatencies: number[] = [];
  const acknowledged: Record<string, string[]> = {};
  /** Reports sent while measuring and not acknowledged yet: id -> when first sent. */
  const pending = new Map<string, number>();
  let reportsSent = 0;
  for (const agent of agents) {
    const acks: string[] = (acknowledged[agent.host] = []);
    agent.listeners.add((event, detail) => {
      if (event === 'disconnected' && measuring) disconnects += 1;
      else if (event === 'heartbeatAck' && measuring) heartbeatLatencies.push(detail as number);
      else if (event === 'ack') {
        const id = detail as string;
        const sent = pending.get(id);
        if (sent === undefined) return;
        pending.delete(id);
        reportLatencies.push(performance.now() - sent);
        acks.push(id);
      }
    });
    agent.start();
  }
  // 'connected' fires at every welcome, reconnections too: count hosts.
  const welcomed = new Set<string>();
  for (const agent of agents) agent.listeners.add((event) => event === 'connected' && welcomed.add(agent.host));
  while (welcomed.size < agents.length) await sleep(100);
  process.send!({ type: 'ready' });

  const start = await next();
  if (start.type !== 'measure') throw new Error(`expected measure, got ${start.type}`);
  measuring = true;
  let stopping = false;
  void next().then(() => (stopping = true));
  // Each agent reports every reportEveryMs, the agents spread evenly over that period.
  const gap = config.reportEveryMs / agents.length;
  for (let k = 0; !stopping; k++) {
    const agent = agents[k % agents.length]!;
    const id = agent.report('', verifiedRun(agent.host, config.bundleDigest));
    // Its first sending (a report resent after a reconnect keeps this time).
    pending.set(id, agent.sentAt.get(id) ?? performance.now());
    reportsSent += 1;
    await sleep(gap);
  }
  const until = performance.now() + ACK_GRACE_MS;
  while (pending.size > 0 && performance.now() < until) await sleep(50);
  measuring = false;
  for (const agent of agents) agent.stop();
  const result: SoakAgentsResult = {
    type: 'result',
    reportsSent,
    reportLatencies,
    heartbeatLatencies,
    acknowledged,
    disconnects,
  };
  process.send!(result, () => process.exit(0));
}

const inbox: Command[] = [];
const waiters: ((c: Command) => void)[] = [];
process.on('message', (command: Command) => {
  const waiter = waiters.shift();
  if (waiter !== undefined) waiter(command);
  else inbox.push(command);
});
const next = (): Promise<Command> =>
  inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((resolve) => waiters.push(resolve));

const first = await next();
if (first.type !== 'config') throw new Error(`expected config, got ${first.type}`);
await run(first, next);
