// `pyrelo agent --server HOST:PORT`: the daemon. It opens the stream (outbound only), says hello
// with its host's inventory, heartbeats, carries out orders one at a time, and reports. When the
// connection goes it reconnects with exponential backoff and jitter, and re-sends every report the
// server has not acknowledged (they wait in the outbox on disk, so a restart loses none either).

import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tlsNameOptions } from '../proto/tls-name.js';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { collectInventory } from '../inventory/collect.js';
import { inventoryContentSha256 } from '../inventory/content-hash.js';
import { pyreloV1, MAX_MESSAGE_BYTES } from '../proto/load.js';
import type { CheckResult, Order, Report, ServerMessage } from '../proto/messages.js';
import type { AgentHubClient } from '../proto/generated/pyrelo/v1/AgentHub.js';
import type { AgentIdentity, AgentState } from './state.js';
import { Outbox } from './outbox.js';
import { fetchBundle } from './transfer.js';
import { carryOutInWorker } from './order-worker.js';
import { pyreloVersion } from '../common/version.js';

export interface DaemonOptions {
  readonly server: string;
  readonly heartbeatSeconds: number;
  /** Backoff bounds for reconnecting. */
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Root whose inventory is reported (tests); the host itself by default. */
  readonly inventoryRoot: string;
  /** Replaces the live inventory (the fleet benchmark sends a prepared one). */
  readonly inventoryBytes?: Buffer;
}

const AGENT_VERSION = pyreloVersion();
/** Many agents in one process (the fleet benchmark) share one prepared inventory: gzip it once. */
const PREPARED = new WeakMap<Buffer, InventoryPayload>();

/** The inventory as sent: gzipped, its content hash, and when it was collected (its collectedAt). */
interface InventoryPayload {
  readonly gz: Buffer;
  readonly sha256: string;
  readonly collectedAt: string;
}

export type DaemonEvent = 'connected' | 'disconnected' | 'ack' | 'heartbeatAck' | 'order' | 'report' | 'revoked';

export class AgentDaemon {
  private client: AgentHubClient | null = null;
  private stream: ReturnType<AgentHubClient['Connect']> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private attempt = 0;
  private sequence = 0;
  private inventory: InventoryPayload | null = null;
  private readonly outbox: Outbox;
  private readonly identity: AgentIdentity;
  private orders: Promise<void> = Promise.resolve();
  /** Observers for tests and the benchmark. */
  readonly listeners = new Set<(event: DaemonEvent, detail?: unknown) => void>();
  readonly sentAt = new Map<string, number>();
  /** Heartbeats not answered yet on this stream: sequence -> when sent (for 'heartbeatAck'). */
  private readonly heartbeatsSent = new Map<number, number>();

  constructor(
    private readonly state: AgentState,
    private readonly options: DaemonOptions,
    private readonly log: Logger,
  ) {
    this.identity = state.identity();
    this.outbox = new Outbox(state.sub('outbox'));
  }

  get host(): string {
    return this.identity.host;
  }

  private emit(event: DaemonEvent, detail?: unknown): void {
    for (const listener of this.listeners) listener(event, detail);
  }

  private inventoryPayload(): InventoryPayload {
    if (this.inventory === null) {
      const given = this.options.inventoryBytes;
      const collected = given === undefined ? collectInventory(this.options.inventoryRoot) : null;
      const json = given ?? Buffer.from(JSON.stringify(collected));
      const content = (collected ?? JSON.parse(json.toString('utf8'))) as { collectedAt?: unknown };
      // Announced by content, without collectedAt: a restart of an unchanged host sends nothing. The
      // time goes beside it, so that the server knows how old its copy is (pyrelo fleet's stale hosts).
      this.inventory = (given === undefined ? undefined : PREPARED.get(given)) ?? {
        gz: gzipSync(json),
        sha256: inventoryContentSha256(content),
        collectedAt: typeof content.collectedAt === 'string' ? content.collectedAt : '',
      };
      if (given !== undefined) PREPARED.set(given, this.inventory);
    }
    return this.inventory;
  }

  start(): void {
    const proto = pyreloV1();
    const credentials = grpc.credentials.createSsl(this.identity.ca, this.identity.key, this.identity.cert);
    this.client = new proto.AgentHub(this.options.server, credentials, {
      ...tlsNameOptions(this.options.server),
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': this.options.heartbeatSeconds * 2000,
      'grpc.keepalive_timeout_ms': 10_000,
      // Our own backoff decides when to try again; grpc's channel backoff would stack on top.
      'grpc.initial_reconnect_backoff_ms': this.options.minBackoffMs,
      'grpc.max_reconnect_backoff_ms': this.options.maxBackoffMs,
    });
    this.connect();
  }

  private connect(): void {
    if (this.stopped || this.client === null) return;
    const stream = this.client.Connect();
    this.stream = stream;
    const { sha256, collectedAt } = this.inventoryPayload();
    // Only the hash first: the server asks for the inventory itself when it does not have it.
    stream.write({
      body: 'hello',
      hello: {
        host: this.host,
        agentVersion: AGENT_VERSION,
        inventory: Buffer.alloc(0),
        inventorySha256: sha256,
        inventoryCollectedAt: collectedAt,
      },
    });
    stream.on('data', (message: ServerMessage) => this.onMessage(message));
    let closed = false;
    const onClose = (reason: string): void => {
      if (closed) return;
      closed = true;
      if (this.stream === stream) this.stream = null;
      this.stopHeartbeat();
      this.emit('disconnected', reason);
      this.scheduleReconnect(reason);
    };
    stream.on('error', (error: grpc.ServiceError) => {
      // Our certificate was revoked (the host was removed on the server): retrying cannot help.
      if (error.code === grpc.status.UNAUTHENTICATED && /revoked/.test(error.details)) {
        closed = true;
        this.stopHeartbeat();
        this.log.error({ reason: error.details }, 'certificate revoked: stopping (enroll again with a new token)');
        this.stop();
        this.emit('revoked', error.details);
        return;
      }
      onClose(error.details || error.message);
    });
    stream.on('end', () => onClose('server ended the stream'));
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopped) return;
    this.attempt += 1;
    const ceiling = Math.min(
      this.options.maxBackoffMs,
      this.options.minBackoffMs * 2 ** Math.min(this.attempt - 1, 16),
    );
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.log.info({ reason, attempt: this.attempt, delayMs: delay }, 'disconnected; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onMessage(message: ServerMessage): void {
    // `body` names the oneof's branch and exactly that field is set (LOADER_OPTIONS.oneofs): the
    // field is what is tested, so that it is known present where it is used. A heartbeat ack
    // needs nothing done but telling the observers its round trip in ms.
    const { welcome, ack, order, heartbeatAck } = message;
    if (welcome) {
      this.attempt = 0;
      if (welcome.needInventory) {
        const { gz, sha256, collectedAt } = this.inventoryPayload();
        this.stream?.write({
          body: 'hello',
          hello: {
            host: this.host,
            agentVersion: AGENT_VERSION,
            inventory: gz,
            inventorySha256: sha256,
            inventoryCollectedAt: collectedAt,
          },
        });
      }
      this.log.info({ host: welcome.host }, 'connected');
      this.startHeartbeat();
      for (const report of this.outbox.pending()) this.send(report);
      this.emit('connected');
    } else if (ack) {
      this.outbox.acknowledge(ack.reportId);
      this.emit('ack', ack.reportId);
    } else if (heartbeatAck) {
      const sent = this.heartbeatsSent.get(heartbeatAck.sequence);
      this.heartbeatsSent.delete(heartbeatAck.sequence);
      if (sent !== undefined) this.emit('heartbeatAck', performance.now() - sent);
    } else if (order) {
      this.emit('order', order);
      this.orders = this.orders.then(() => this.carryOut(order));
    }
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      this.sequence += 1;
      if (this.stream !== null) this.heartbeatsSent.set(this.sequence, performance.now());
      this.stream?.write({
        body: 'heartbeat',
        heartbeat: { sequence: this.sequence, sentAt: new Date().toISOString() },
      });
    }, this.options.heartbeatSeconds * 1000);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.heartbeatsSent.clear();
  }

  private send(report: Report): void {
    this.sentAt.set(report.reportId, performance.now());
    this.stream?.write({ body: 'report', report });
  }

  /** Persists a report, then sends it if connected (else it goes out after the next welcome). */
  report(orderId: string, result: CheckResult | null, error = ''): string {
    const report: Report = {
      reportId: `${Date.now().toString().padStart(14, '0')}-${randomUUID()}`,
      orderId,
      result,
      error,
    };
    this.outbox.put(report);
    this.emit('report', report);
    this.send(report);
    return report.reportId;
  }

  private async carryOut(order: Order): Promise<void> {
    this.log.info({ order: order.orderId, action: order.action, bundle: order.bundleName }, 'order received');
    try {
      if (this.client === null) throw new Error('not started');
      const archive = await fetchBundle(
        this.client,
        order.bundleDigest,
        this.state.sub('incoming'),
        this.state.sub('archives'),
      );
      // Off the event loop (order-worker.ts): it must keep answering the server's keepalive pings.
      if (order.action === 'install') {
        // A release under the order's prefix, exactly as pyrelo deploy installs one over SSH.
        const { check, installed } = await carryOutInWorker({
          action: 'install',
          install: {
            prefix: order.prefix,
            archive,
            sha256: order.bundleDigest,
            bundleDigest: order.bundleDigest,
            manifestSha256: order.manifestSha256,
            host: this.host,
          },
        });
        this.log.info({ order: order.orderId, ...installed }, 'release installed');
        this.report(order.orderId, check);
        return;
      }
      const { check } = await carryOutInWorker({
        action: 'check',
        archive,
        bundlesDir: this.state.sub('bundles'),
        digest: order.bundleDigest,
        host: this.host,
      });
      this.report(order.orderId, check);
    } catch (error) {
      this.log.warn({ order: order.orderId, err: (error as Error).message }, 'order failed');
      this.report(order.orderId, null, (error as Error).message);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    this.stream?.cancel();
    this.client?.close();
  }
}
