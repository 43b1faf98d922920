// A real `pyrelo server` process on loopback and raw agent streams with real enrolled
// certificates, for the adversarial tests: an attacker here is an enrolled agent that sends what
// it likes over the real gRPC protocol.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ControlClient } from '../../src/client/control-client.js';
import { AgentState, type AgentIdentity } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { initPki } from '../../src/server/pki.js';
import { pyreloV1 } from '../../src/proto/load.js';
import type { AgentHubClient } from '../../src/proto/generated/pyrelo/v1/AgentHub.js';
import { SERVER_TLS_NAME, tlsNameOptions } from '../../src/proto/tls-name.js';
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
  /** The key, certificate and CA of an agent `agent(name)` enrolled, for a raw HTTP/2 client. */
  identity(name: string): AgentIdentity;
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
    dir,
    server,
    agentAddress,
    enrollAddress,
    control,
    async agent(name) {
      const token = await control.call('CreateEnrollToken', { name });
      const state = new AgentState(join(dir, `agent-${name}`));
      await enroll(state, enrollAddress, token.token, readFileSync(join(dir, 'server', 'pki', 'ca.crt')));
      const id = state.identity();
      return new (pyreloV1().AgentHub)(
        agentAddress,
        grpc.credentials.createSsl(id.ca, id.key, id.cert),
        tlsNameOptions(agentAddress),
      );
    },
    identity(name) {
      return new AgentState(join(dir, `agent-${name}`)).identity();
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

export const hello = (host: string, inventory: Buffer = Buffer.alloc(0), inventorySha256 = ''): AgentMessage => ({
  body: 'hello',
  hello: { host, agentVersion: 'adversary', inventory, inventorySha256, inventoryCollectedAt: '' },
});

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
          const piece =
            segment.left >= chunk.length
              ? chunk
              : Buffer.from(segment.text.repeat(Math.max(1, Math.floor(segment.left / segment.text.length))));
          segment.left -= piece.length;
          if (!gzip.write(piece)) return void gzip.once('drain', pump);
        }
      }
      gzip.end();
    };
    pump();
  });
}

/** The server's log lines (pino JSON on its stdout) from now on, parsed. */
export function serverLog(fleet: Fleet): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  fleet.server.stdout!.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return lines;
}

/** Process RSS in bytes, from /proc. */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

/**
 * A Connect call made by hand over HTTP/2 with an agent's certificate, so that a message can be
 * sent in part: grpc-js clients only ever send whole messages.
 */
export interface RawCall {
  readonly session: ClientHttp2Session;
  readonly stream: ClientHttp2Stream;
  /** The grpc-status and grpc-message the server answered with, or how the stream was reset. */
  readonly ended: Promise<{ code: number | null; details: string; rstCode: number }>;
  /** Writes one whole message. */
  send(message: AgentMessage): Promise<void>;
  /** Writes a message header declaring `declared` bytes, then `sent` bytes of it, and stops there. */
  sendPart(declared: number, sent: number): Promise<void>;
  close(): void;
}

export function openRawCall(address: string, id: AgentIdentity): RawCall {
  const session = connect(`https://${address}`, { ca: id.ca, key: id.key, cert: id.cert, servername: SERVER_TLS_NAME });
  session.on('error', () => {});
  const stream = session.request({
    ':method': 'POST',
    ':path': '/pyrelo.v1.AgentHub/Connect',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('data', () => {});
  stream.on('error', () => {});
  let status: { code: number | null; details: string } = { code: null, details: '' };
  const take = (headers: Record<string, unknown>): void => {
    if (headers['grpc-status'] !== undefined)
      status = {
        code: Number(headers['grpc-status']),
        details: decodeURIComponent(String(headers['grpc-message'] ?? '')),
      };
  };
  stream.on('response', take);
  stream.on('trailers', take);
  const ended = new Promise<{ code: number | null; details: string; rstCode: number }>((resolve) =>
    stream.on('close', () => resolve({ ...status, rstCode: stream.rstCode ?? 0 })),
  );
  const write = (data: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (stream.write(data)) return resolve();
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.once('drain', done);
      stream.once('close', done);
    });
  const serialize = pyreloV1().AgentHub.service.Connect.requestSerialize;
  return {
    session,
    stream,
    ended,
    async send(message) {
      const body = serialize(message);
      const head = Buffer.alloc(5);
      head.writeUInt32BE(body.length, 1);
      await write(Buffer.concat([head, body]));
    },
    async sendPart(declared, sent) {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(declared, 1);
      await write(head);
      const chunk = Buffer.alloc(1 << 20, 0x41);
      for (let left = sent; left > 0 && !stream.closed; left -= chunk.length)
        await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    },
    close() {
      session.destroy();
    },
  };
}
