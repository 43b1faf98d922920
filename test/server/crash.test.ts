// kill -9 of the server while agents report, at random moments, several times: after each
// restart the database passes PRAGMA integrity_check, every acknowledged report is in it (and
// reports were acknowledged between every two kills, so there was something to lose), and the
// agents reconnect by themselves and deliver what was not acknowledged.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ControlClient } from '../../src/client/control-client.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { AgentDaemon } from '../../src/agent/daemon.js';
import { initPki } from '../../src/server/pki.js';
import { createLogger } from '../../src/common/log.js';
import { collectInventory } from '../../src/inventory/collect.js';
import type { CheckResult } from '../../src/proto/messages.js';
import { freePort, LogCapture, makeBundle, startServerProcess, verifiedRun } from './fixtures.js';
import { bundlesAdd } from '../../src/client/commands/bundles.js';
import { quietly } from '../support/quietly.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'pyrelo-crash-test-'));
const children: ChildProcess[] = [];
const agents: AgentDaemon[] = [];
let sending = true;
after(() => {
  // Also when an assertion failed: the reporter loop and the agents' reconnects would keep the process alive.
  sending = false;
  for (const agent of agents) agent.stop();
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

test(
  'kill -9 the server while agents report: integrity kept, no acknowledged report lost, agents reconnect',
  { timeout: 180_000 },
  async () => {
    const dir = join(work, 'server');
    await initPki(dir);
    const [agentPort, enrollPort] = [await freePort(), await freePort()];
    let server = await startServerProcess(dir, agentPort, enrollPort);
    children.push(server);
    const control = new ControlClient(`unix:${join(dir, 'control.sock')}`);
    const archive = await makeBundle(work, 'crash-app', 'static');
    await quietly(() => bundlesAdd(archive, { control: control.address }));
    const digest = (await control.call('ListBundles', {})).bundles[0]!.digest;
    const inventory = Buffer.from(JSON.stringify(collectInventory('/')));
    const acked = new Set<string>();
    const connections = new Map<string, number>();
    for (let i = 0; i < 4; i++) {
      const name = `crash-agent-${i}`;
      const token = await control.call('CreateEnrollToken', { name });
      const state = new AgentState(join(work, name));
      await enroll(state, `127.0.0.1:${enrollPort}`, token.token, readFileSync(join(dir, 'pki', 'ca.crt')));
      const agent = new AgentDaemon(
        state,
        {
          server: `127.0.0.1:${agentPort}`,
          heartbeatSeconds: 1,
          minBackoffMs: 100,
          maxBackoffMs: 800,
          inventoryRoot: '/',
          inventoryBytes: inventory,
        },
        createLogger('agent', 'silent', new LogCapture()),
      );
      agent.listeners.add((event, detail) => {
        if (event === 'ack') acked.add(detail as string);
        if (event === 'connected') connections.set(name, (connections.get(name) ?? 0) + 1);
      });
      agent.start();
      agents.push(agent);
    }
    control.close();
    const result = (host: string): CheckResult => verifiedRun(host, digest);
    const sent: string[] = [];
    const reporter = (async () => {
      while (sending) {
        for (const agent of agents) sent.push(agent.report('', result(agent.host)));
        await sleep(20);
      }
    })();

    let ackedAtPreviousKill = 0;
    for (let round = 0; round < 3; round++) {
      // The server must have acknowledged reports since the previous kill, or "none lost" says
      // nothing: wait for the first new acknowledgement, then kill at a random moment after it.
      const deadline = Date.now() + 30_000;
      while (acked.size <= ackedAtPreviousKill && Date.now() < deadline) await sleep(20);
      await sleep(Math.random() * 1500);
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      const ackedAtKill = [...acked];
      assert.ok(
        ackedAtKill.length > ackedAtPreviousKill,
        `no report acknowledged between kill ${round} and kill ${round + 1} (${ackedAtKill.length} in all)`,
      );
      ackedAtPreviousKill = ackedAtKill.length;
      const db = new Database(join(dir, 'compat.sqlite'));
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const stored = new Set(
          (db.prepare('SELECT report_id FROM agent_reports').all() as { report_id: string }[]).map((r) => r.report_id),
        );
        const lost = ackedAtKill.filter((id) => !stored.has(id));
        assert.deepEqual(lost, [], `acknowledged reports lost after kill ${round + 1}`);
      } finally {
        db.close();
      }
      server = await startServerProcess(dir, agentPort, enrollPort);
      children.push(server);
    }
    sending = false;
    await reporter;
    // Every report sent is delivered in the end: the outboxes empty themselves after reconnecting.
    const deadline = Date.now() + 30_000;
    while (
      agents.some((a) => readdirSync(join(work, a.host, 'outbox')).some((n) => n.endsWith('.json'))) &&
      Date.now() < deadline
    )
      await sleep(100);
    for (const agent of agents) agent.stop();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    const db = new Database(join(dir, 'compat.sqlite'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const stored = new Set(
        (db.prepare('SELECT report_id FROM agent_reports').all() as { report_id: string }[]).map((r) => r.report_id),
      );
      assert.deepEqual(
        sent.filter((id) => !stored.has(id)),
        [],
        'every report sent is stored once the agents reconnect',
      );
      assert.ok(stored.size === new Set(sent).size);
    } finally {
      db.close();
    }
    // Restarts that come while an agent is still backing off merge into one reconnect, so at least one.
    for (const agent of agents)
      assert.ok(
        (connections.get(agent.host) ?? 0) >= 2,
        `${agent.host} reconnected by itself (${connections.get(agent.host)} connections)`,
      );
  },
);
