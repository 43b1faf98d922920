// A real agent daemon inside a lab root, enrolled with a test server (test/server/fixtures.ts):
// this machine's node and pyrelo bound in (pyrelo-in-root.ts), its state kept in a folder of the
// test's bound at AGENT_DIR, heartbeating every second. Used by the tests that compare the
// server's predictions with the runs of agents on the lab's hosts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRoot, spawnInRoot, type LabRootName } from '../lab/lab.js';
import type { RunningInRoot } from '../lab/run-in-root.js';
import type { ControlClient } from '../../src/client/control-client.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import type { TestServer } from '../server/fixtures.js';
import { pyreloInRoot } from './pyrelo-in-root.js';

/** Where each agent keeps its state inside its root. */
export const AGENT_DIR = '/var/lib/pyrelo-agent';

export interface LabAgent {
  /** The root's name, and the host's: `site-NAME`. */
  readonly name: LabRootName;
  readonly host: string;
  /** The root's folder on this machine. */
  readonly root: string;
  /** The agent's state folder on this machine (AGENT_DIR inside the root). */
  readonly stateDir: string;
  readonly run: RunningInRoot;
  /** What the daemon printed, once it has ended ('' while it runs). */
  output(): string;
}

/** Enrolls host `site-NAME` with a fresh token and starts its agent in the root. */
export async function startLabAgent(
  ts: TestServer,
  control: ControlClient,
  name: LabRootName,
  work: string,
  timeoutMs: number,
): Promise<LabAgent> {
  const root = await ensureRoot(name);
  const host = `site-${name}`;
  const token = await control.call('CreateEnrollToken', { name: host });
  const state = new AgentState(join(work, `agent-${name}`));
  await enroll(state, ts.server.enrollAddress, token.token, readFileSync(join(ts.dir, 'pki', 'ca.crt')));
  const { argv, bind } = pyreloInRoot([
    'agent',
    '--server',
    ts.server.agentAddress,
    '--dir',
    AGENT_DIR,
    '--heartbeat',
    '1',
  ]);
  const run = await spawnInRoot(root, argv, {
    bind: [...bind, { hostPath: state.dir, rootPath: AGENT_DIR }],
    timeoutMs,
  });
  let output = '';
  run.done.then(
    (r) => {
      output = r.stdout + r.stderr;
    },
    () => {},
  );
  return { name, host, root, stateDir: state.dir, run, output: () => output };
}

/**
 * Waits until every agent is connected and its host's inventory is stored (it arrives after the
 * hello; predictions need it). Fails with the daemon's output when one ends first.
 */
export async function waitForInventories(
  ts: TestServer,
  control: ControlClient,
  agents: readonly LabAgent[],
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { hosts } = await control.call('ListHosts', {});
    const ready = agents.every(
      (a) => ts.server.hub.isConnected(a.host) && hosts.some((h) => h.name === a.host && h.inventorySha256 !== ''),
    );
    if (ready) return;
    const dead = agents.find((a) => a.output() !== '');
    if (dead !== undefined) throw new Error(`agent in ${dead.name} ended: ${dead.output()}`);
    if (Date.now() > deadline)
      throw new Error(`agents did not connect and send their inventories within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
