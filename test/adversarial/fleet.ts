// A real `pyrelo server` process on loopback and raw agent streams with real enrolled
// certificates, for the adversarial tests: an attacker here is an enrolled agent that sends what
// it likes over the real gRPC protocol.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ControlClient } from '../../src/client/control-client.js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { initPki } from '../../src/server/pki.js';
import { pyreloV1 } from '../../src/proto/load.js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';
import { tlsNameOptions } from '../../src/proto/tls-name.js';
import type { AgentMessage, ServerMessage } from '../../src/proto/messages.js';
import { freePort, startServerProcess } from '../server/fixtures.js';

export interface Fleet {
  readonly dir: string;
  readonly server: ChildProcess;
  readonly agentAddress: string;
  readonly enrollAddress: string;
  readonly control: ControlClient;
  /** Enrolls `name` and returns an agent client holding its certificate. */
  agent(name: string): Promise<AgentHubClient>;
  stop(): Promise<void>;
}

export async function startFleet(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<Fleet> {
  mkdirSync(dir, { recursive: true });
  await initPki(join(dir, 'server'));
  const [agentPort, enrollPort] = [await freePort(), await freePort()];
  const server = await startServerProcess(join(dir, 'server'), agentPort, enrollPort, 'warn', env);
  const agentAddress = `127.0.0.1:${agentPort}`;
  const enrollAddress = `127.0.0.1:${enrollPort}`;
  const control = new ControlClient(`unix:${join(dir, 'server', 'control.sock')}`);
  return {
    dir, server, agentAddress, enrollAddress, control,
    async agent(name) {
      const token = await control.call('CreateEnrollToken', { name });
      const state = new AgentState(join(dir, `agent-${name}`));
      await enroll(state, enrollAddress, token.token, readFileSync(join(dir, 'server', 'pki', 'ca.crt')));
      const id = state.identity();
      return new (pyreloV1().AgentHub)(agentAddress, grpc.credentials.createSsl(id.ca, id.key, id.cert), tlsNameOptions(agentAddress));
    },
    async stop() {
      control.close();
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGKILL');
        await new Promise((r) => server.once('exit', r));
      }
    },
  };
}

export interface OpenStream {
  readonly stream: grpc.ClientDuplexStream<AgentMessage, ServerMessage>;
  readonly received: ServerMessage[];
  /** How the stream ended: status code and details (0 for a clean end). */
  readonly ended: Promise<{ code: number; details: string }>;
}

export function openStream(client: AgentHubClient, first: AgentMessage): OpenStream {
  const stream = client.Connect();
  const received: ServerMessage[] = [];
  stream.on('data', (m: ServerMessage) => received.push(m));
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    stream.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
    stream.on('end', () => resolve({ code: 0, details: '' }));
  });
  stream.write(first);
  return { stream, received, ended };
}

export const hello = (host: string, inventory: Buffer = Buffer.alloc(0), inventorySha256 = ''): AgentMessage =>
  ({ body: 'hello', hello: { host, agentVersion: 'adversary', inventory, inventorySha256 } });

/** gzip of each segment's text repeated to about its byte count: a bomb made without holding it expanded. */
export function gzipSegments(segments: readonly { text: string; bytes: number }[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gzip = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gzip.on('data', (d: Buffer) => parts.push(d));
    gzip.on('end', () => resolve(Buffer.concat(parts)));
    gzip.on('error', reject);
    const queue = segments.map((s) => ({ ...s, left: s.bytes }));
    const pump = (): void => {
      for (const segment of queue) {
        const chunk = Buffer.from(segment.text.repeat(Math.max(1, Math.floor((1 << 20) / segment.text.length))));
        while (segment.left > 0) {
          const piece = segment.left >= chunk.length ? chunk : Buffer.from(segment.text.repeat(Math.max(1, Math.floor(segment.left / segment.text.length))));
          segment.left -= piece.length;
          if (!gzip.write(piece)) return void gzip.once('drain', pump);
        }
      }
      gzip.end();
    };
    pump();
  });
}

/** Process RSS in bytes, from /proc. */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}
