// bench/soak's attackers: enrolled agents (each attack its own certificate, so that every attack
// runs at once instead of queuing behind one certificate's stream cap) that replay issue 13's
// attacks over real gRPC in a loop until bench/soak says stop:
//   bomb       a hello whose gzipped inventory expands past inventoryMaxJsonBytes (item 1, 6)
//   elements   a hello whose inventory is `[[],[],…]`, far more values than inventoryMaxElements (item 1)
//   nested     a hello whose inventory is `[[[[…` (1 MiB or more), far deeper than inventoryMaxDepth (item 1)
//   churn      a hello with a valid inventory of this host, different each time (item 4)
//   half-sent  4 calls at a time, each 50 MiB of a declared 60 MiB hello, then silence (item 7)
//   stalls     4 calls at a time that never send a hello (item 7)
//   flood      many calls at once (default 50), over streamsPerCertificate (item 7)
//   oversize   a message declaring 100 MiB, over the agents' receive limit (item 7)
// Each attack waits for the server's answer to one round before the next, so the attack runs as
// fast as the server answers it. The tally is each attack's rounds and how its calls ended.
//
// Messages from bench/soak: SoakAttackersConfig, then 'stop'. To it: 'armed' (payloads made,
// certificates enrolled), then SoakAttackersResult.

import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { AgentState } from '../src/agent/state.js';
import { enroll } from '../src/agent/enroll.js';
import { pyreloV1 } from '../src/proto/load.js';
import { tlsNameOptions } from '../src/proto/tls-name.js';
import { collectInventory } from '../src/inventory/collect.js';
import type { AgentHubClient } from '../src/proto/generated/pyrelo/v1/AgentHub.js';
import { gzipSegments, hello, openRawCall, openStream } from '../test/adversarial/fleet.js';

export const ATTACKS = ['bomb', 'elements', 'nested', 'churn', 'half-sent', 'stalls', 'flood', 'oversize'] as const;
export type Attack = (typeof ATTACKS)[number];

export interface SoakAttackersConfig {
  readonly type: 'config';
  /** One certificate per attack: the host name an attack's token enrolls. */
  readonly tokens: Record<Attack, { readonly name: string; readonly token: string }>;
  readonly agentAddress: string;
  readonly enrollAddress: string;
  readonly caFile: string;
  readonly work: string;
  /** The server's inventory limits, which the payloads are made to pass. */
  readonly limits: { readonly maxJsonBytes: number; readonly maxElements: number; readonly maxDepth: number };
  /** Calls at once in the flood (more than streamsPerCertificate). */
  readonly flood: number;
}

export interface SoakAttackersResult {
  readonly type: 'result';
  /** Per attack: rounds run, and how its calls ended (gRPC status name, or "reset"/"open"). */
  readonly tally: Record<Attack, { rounds: number; ends: Record<string, number> }>;
}

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const statusName = (code: number | null): string => (code === null ? 'reset' : (grpc.status[code] ?? String(code)));

async function main(config: SoakAttackersConfig, stopped: () => boolean): Promise<SoakAttackersResult> {
  const ca = readFileSync(config.caFile);
  const identities = {} as Record<Attack, ReturnType<AgentState['identity']>>;
  const clients = {} as Record<Attack, AgentHubClient>;
  for (const attack of ATTACKS) {
    const { name, token } = config.tokens[attack];
    const state = new AgentState(join(config.work, name));
    await enroll(state, config.enrollAddress, token, ca);
    const id = state.identity();
    identities[attack] = id;
    clients[attack] = new (pyreloV1().AgentHub)(
      config.agentAddress,
      grpc.credentials.createSsl(id.ca, id.key, id.cert),
      tlsNameOptions(config.agentAddress),
    );
  }
  // The payloads, made once (a bomb is gzipped as a stream: never held expanded here).
  // bomb: past the expanded-bytes limit; elements: past the value count (3 bytes a value) but within
  // the bytes; nested: a thousand times the depth limit.
  const { limits } = config;
  const bomb = await gzipSegments([{ text: ' ', bytes: limits.maxJsonBytes + 32 * MiB }]);
  const elements = await gzipSegments([
    { text: '[', bytes: 1 },
    { text: '[],', bytes: Math.min(limits.maxJsonBytes - MiB, 3 * 2 * limits.maxElements) },
  ]);
  const nested = await gzipSegments([{ text: '[', bytes: Math.max(1000 * limits.maxDepth, 1 * MiB) }]);
  const base = collectInventory('/');
  const churnInventory = (round: number): Buffer =>
    gzipSync(JSON.stringify({ ...base, unreadable: { ...base.unreadable, [`/pyrelo-soak/churn-${round}`]: 'x' } }));
  process.send!({ type: 'armed' });

  const tally = Object.fromEntries(
    ATTACKS.map((a) => [a, { rounds: 0, ends: {} as Record<string, number> }]),
  ) as SoakAttackersResult['tally'];
  const count = (attack: Attack, end: string): void => {
    const ends = tally[attack].ends;
    ends[end] = (ends[end] ?? 0) + 1;
  };

  /** One hello carrying `inventory` on a Connect stream; counts how the stream ended. */
  const helloWith = async (attack: Attack, inventory: Buffer): Promise<void> => {
    const call = openStream(clients[attack], hello(config.tokens[attack].name, inventory));
    // A valid inventory is answered with a welcome and the stream stays open: end it then.
    const welcomed = new Promise<void>((resolve) => call.stream.on('data', () => resolve()));
    const outcome = await Promise.race([call.ended, welcomed.then(() => ({ code: 0, details: 'welcome' }))]);
    count(attack, outcome.details === 'welcome' ? 'welcome' : statusName(outcome.code));
    call.stream.cancel();
  };

  /** `n` raw calls at once, each doing `act`, until each has ended. */
  const rawRound = async (
    attack: Attack,
    n: number,
    act: (call: ReturnType<typeof openRawCall>) => Promise<void>,
  ): Promise<void> => {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const call = openRawCall(config.agentAddress, identities[attack]);
        try {
          await act(call);
          const end = await call.ended;
          count(attack, end.code === null ? `reset ${end.rstCode}` : statusName(end.code));
        } finally {
          call.close();
        }
      }),
    );
  };

  const loops: Record<Attack, () => Promise<void>> = {
    bomb: () => helloWith('bomb', bomb),
    elements: () => helloWith('elements', elements),
    nested: () => helloWith('nested', nested),
    churn: () => helloWith('churn', churnInventory(tally.churn.rounds)),
    'half-sent': () => rawRound('half-sent', 4, (call) => call.sendPart(60 * MiB, 50 * MiB)),
    stalls: () => rawRound('stalls', 4, async () => {}),
    flood: async () => {
      const calls = Array.from({ length: config.flood }, () => {
        const stream = clients.flood.Connect();
        return new Promise<void>((resolve) => {
          stream.on('error', (e: grpc.ServiceError) => {
            count('flood', statusName(e.code));
            resolve();
          });
          stream.on('end', () => {
            count('flood', 'OK');
            resolve();
          });
        });
      });
      await Promise.all(calls);
    },
    oversize: () => rawRound('oversize', 1, (call) => call.sendPart(100 * MiB, 64 * 1024)),
  };
  // SOAK_ATTACKS=bomb,flood runs only those (to find which attack costs what).
  const chosen = process.env.SOAK_ATTACKS?.split(',') ?? ATTACKS;
  await Promise.all(
    ATTACKS.filter((attack) => chosen.includes(attack)).map(async (attack) => {
      while (!stopped()) {
        await loops[attack]();
        tally[attack].rounds += 1;
        // Instant refusals would otherwise spin this process (it shares the machine's cores).
        await sleep(50);
      }
    }),
  );
  for (const client of Object.values(clients)) client.close();
  return { type: 'result', tally };
}

let stop = false;
let started = false;
process.on('message', (message: SoakAttackersConfig | { type: 'stop' }) => {
  if (message.type === 'stop') stop = true;
  else if (!started) {
    started = true;
    void main(message, () => stop).then(
      (result) => process.send!(result, () => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`soak attackers: ${(error as Error).stack}\n`);
        process.exit(1);
      },
    );
  }
});
