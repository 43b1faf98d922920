// The agent hub: one long-lived stream per agent (opened by the agent), and chunked bundle
// transfers. The client certificate's common name is the only host an agent may speak for: a
// hello or a report about any other host is refused and the stream closed. A malformed message
// ends that agent's stream with an error; every other agent goes on being served.
// A certificate revoked by `pyrelo hosts remove` is refused (UNAUTHENTICATED) on both RPCs, and
// removing a host closes its live streams.

import { createHash, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CompatDatabase, HostFacts } from './db/database.js';
import type { BundleStore } from './bundle-store.js';
import type { Predictor } from './predictor.js';
import type { InventoryIntake } from './inventory-intake.js';
import { collectionTime } from './collected-at.js';
import { ReportCommits } from './report-commits.js';
import { localWrites, type DatabaseWrites, type WriteCommand } from './writer-thread.js';
import type { AgentMessage, BundleChunk, CheckResult, Hello, Order, OrderAction, Report } from '../proto/messages.js';
import type { AgentHubHandlers } from '../proto/generated/pyrelo/v1/AgentHub.js';

/** The calls as the generated service types them: received messages complete, sent ones permissive. */
type AgentStream = Parameters<AgentHubHandlers['Connect']>[0];
type FetchCall = Parameters<AgentHubHandlers['FetchBundle']>[0];

interface PendingOrder {
  resolve(result: CheckResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Session {
  readonly host: string;
  readonly stream: AgentStream;
  readonly orders: Map<string, PendingOrder>;
  lastSeenWritten: number;
}

const DEFAULT_CHUNK = 256 * 1024;
const MAX_CHUNK = 4 * 1024 * 1024;
/** An agent's version as pyrelo --version prints it (package version, +commit); shown to users. */
const AGENT_VERSION_SHAPE = /^[A-Za-z0-9.+_-]{0,64}$/;

/** last_seen is written at most this often per host: heartbeats must not turn into fsyncs. */
const LAST_SEEN_EVERY_MS = 30_000;

export function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() }) as grpc.ServiceError;
}

interface PeerCall {
  getAuthContext(): {
    sslPeerCertificate?: { subject?: { CN?: unknown }; raw?: Buffer; fingerprint256?: string };
  } | null;
}

/** The common name of the verified client certificate; null without one. */
export function peerHost(call: PeerCall): string | null {
  const context = call.getAuthContext();
  const cn = context?.sslPeerCertificate?.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : null;
}

/** The verified client certificate: its host (common name) and sha256 (of the DER form, lowercase hex). */
export function peerCertificate(call: PeerCall): { host: string; sha256: string } | null {
  const host = peerHost(call);
  const certificate = call.getAuthContext()?.sslPeerCertificate;
  if (host === null || certificate === undefined) return null;
  const sha256 =
    certificate.raw !== undefined
      ? createHash('sha256').update(certificate.raw).digest('hex')
      : (certificate.fingerprint256 ?? '').replaceAll(':', '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(sha256) ? { host, sha256 } : null;
}

export interface ReportTiming {
  (ms: number): void;
}

export class AgentHub {
  private readonly sessions = new Map<string, Session>();
  /**
   * Inventory hashes an agent was asked to upload: which host was asked, and the hosts waiting for
   * the same one. When the asked host disconnects first, another waiting one is asked (drop()).
   */
  private readonly uploading = new Map<string, { uploader: string; waiting: Set<string> }>();
  /** Every open Connect and FetchBundle call per host, with what ends it: removing a host closes them. */
  private readonly live = new Map<string, Set<(details: string) => void>>();
  onReportStored: ReportTiming = () => {};
  /** Reports committed in groups, on the writer thread. */
  readonly reports: ReportCommits;

  /**
   * @param writes where the hub's writes go: the server's writer thread (writer-thread.ts), so that
   *   the event loop never waits for the database's write lock; reads stay on `db`
   */
  constructor(
    private readonly db: CompatDatabase,
    private readonly store: BundleStore,
    private readonly predictor: Predictor,
    private readonly log: Logger,
    private readonly intake: InventoryIntake,
    private readonly writes: DatabaseWrites = localWrites(db),
  ) {
    this.reports = new ReportCommits((group) => this.writes.run({ op: 'reports', group }));
  }

  /** A write no answer waits for (last seen): a failure is logged, not the agent's. */
  private inBackground(command: WriteCommand): void {
    this.writes.run(command).catch((error: Error) => {
      this.log.warn({ host: 'host' in command ? command.host : '', err: error.message }, `${command.op} failed`);
    });
  }

  isConnected = (host: string): boolean => this.sessions.has(host);

  connectedHosts(): string[] {
    return [...this.sessions.keys()];
  }

  /** Sends an order to a connected agent and waits for the report that answers it. */
  order(host: string, action: OrderAction, digest: string, timeoutMs: number, prefix = ''): Promise<CheckResult> {
    const session = this.sessions.get(host);
    if (session === undefined) return Promise.reject(new Error(`no agent connected for ${host}`));
    const bundle = this.db.bundleByDigest(digest);
    if (bundle === null) return Promise.reject(new Error(`bundle ${digest} not stored`));
    if (action === 'install' && !prefix.startsWith('/'))
      return Promise.reject(
        new Error(`install order for ${host}: prefix ${JSON.stringify(prefix)} is not an absolute path`),
      );
    // The agent checks the manifest it unpacks against this: stored text, same bytes as in the archive.
    const manifestSha256 = action === 'install' ? createHash('sha256').update(bundle.manifest).digest('hex') : '';
    const order: Order = {
      orderId: randomUUID(),
      action,
      bundleDigest: digest,
      bundleSize: bundle.size,
      bundleName: bundle.name,
      prefix: action === 'install' ? prefix : '',
      manifestSha256,
    };
    return new Promise<CheckResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.orders.delete(order.orderId);
        reject(new Error(`agent ${host} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      session.orders.set(order.orderId, { resolve, reject, timer });
      session.stream.write({ body: 'order', order });
      this.log.info({ host, order: order.orderId, action, bundle: bundle.name }, 'order sent');
    });
  }

  /**
   * Ends every open stream of `host` (its agent's Connect, its bundle transfers) with
   * UNAUTHENTICATED: its certificates were just revoked. Returns how many were open.
   */
  disconnectHost(host: string, details: string): number {
    const closers = [...(this.live.get(host) ?? [])];
    for (const close of closers) close(details);
    if (closers.length > 0)
      this.log.warn({ host, streams: closers.length, code: 'UNAUTHENTICATED' }, `agent streams closed: ${details}`);
    return closers.length;
  }

  private track(host: string, close: (details: string) => void): () => void {
    const set = this.live.get(host) ?? new Set();
    set.add(close);
    this.live.set(host, set);
    return () => {
      set.delete(close);
      if (set.size === 0 && this.live.get(host) === set) this.live.delete(host);
    };
  }

  /**
   * The host a call's client certificate speaks for, or null after refusing the call: no
   * certificate, or one revoked when its host was removed. A certificate the database never
   * recorded (issued before certificates were recorded, schema version 3) is accepted as before:
   * only a recorded, revoked one is refused.
   */
  private admit(
    call: PeerCall & { getPeer(): string; emit(event: 'error', error: grpc.ServiceError): boolean },
    rpc: string,
  ): { host: string; sha256: string } | null {
    const certificate = peerCertificate(call);
    const peer = call.getPeer();
    if (certificate === null) {
      this.log.warn({ peer, rpc, code: 'UNAUTHENTICATED' }, 'agent call refused: no client certificate');
      call.emit('error', grpcError(grpc.status.UNAUTHENTICATED, 'no client certificate'));
      return null;
    }
    const revoked = this.revocation(certificate.sha256);
    if (revoked !== null) {
      this.log.warn(
        { host: certificate.host, peer, rpc, certificateSha256: certificate.sha256, code: 'UNAUTHENTICATED' },
        `agent call refused: ${revoked}`,
      );
      call.emit('error', grpcError(grpc.status.UNAUTHENTICATED, revoked));
      return null;
    }
    return certificate;
  }

  /** Why a certificate is refused, or null when it is not revoked. */
  private revocation(sha256: string): string | null {
    const known = this.db.certificate(sha256);
    if (known === null || known.revokedAt === null) return null;
    return (
      `client certificate for host ${known.host} was revoked at ${known.revokedAt} (the host was removed); ` +
      `enroll again with a new token (pyrelo hosts token ${known.host})`
    );
  }

  /** gRPC handlers for service AgentHub. */
  handlers(): AgentHubHandlers {
    return {
      Connect: (call) => this.connect(call),
      FetchBundle: (call) => this.fetch(call),
    };
  }

  private refuse(call: AgentStream, code: grpc.status, details: string, context: Record<string, unknown>): void {
    this.log.warn({ ...context, code: grpc.status[code] }, `agent stream refused: ${details}`);
    call.emit('error', grpcError(code, details));
  }

  private connect(call: AgentStream): void {
    const certificate = this.admit(call, 'Connect');
    if (certificate === null) return;
    const { host } = certificate;
    const peer = call.getPeer();
    let session: Session | null = null;
    let closed = false;
    /** The agent's side ended (end, cancel, error): a hello still being parsed opens no session. */
    let gone = false;
    const untrack = this.track(host, (details) => {
      if (closed) return;
      closed = true;
      call.emit('error', grpcError(grpc.status.UNAUTHENTICATED, details));
      this.drop(session);
      session = null;
    });
    call.on('close', untrack);
    const fail = (error: unknown): void => {
      if (closed) return;
      const e = error as Partial<grpc.ServiceError> & Error;
      closed = true;
      this.refuse(call, e.code ?? grpc.status.INVALID_ARGUMENT, e.details ?? e.message, { host, peer });
      this.drop(session);
      session = null;
      untrack();
    };
    const handle = (message: AgentMessage): Promise<void> | void => {
      // `body` names the oneof's branch and exactly that field is set (LOADER_OPTIONS.oneofs): the
      // field is what is tested, so that it is known present where it is used.
      const { hello, heartbeat, report } = message;
      if (session === null) {
        if (!hello) throw grpcError(grpc.status.FAILED_PRECONDITION, 'the first message must be a hello');
        // Checked again: the host may have been removed since the stream opened.
        const revoked = this.revocation(certificate.sha256);
        if (revoked !== null) throw grpcError(grpc.status.UNAUTHENTICATED, revoked);
        return this.hello(call, host, hello, () => closed || gone).then((opened) => {
          session = opened;
        });
      }
      if (hello) {
        // A second hello carries the inventory the welcome asked for (or a changed one).
        if (hello.host !== session.host)
          throw grpcError(
            grpc.status.PERMISSION_DENIED,
            `certificate is for host ${session.host}, hello speaks for ${JSON.stringify(hello.host)}`,
          );
        return this.takeInventory(session.host, hello).then(() => undefined);
      } else if (heartbeat) {
        this.heartbeat(session);
        call.write({ body: 'heartbeatAck', heartbeatAck: { sequence: heartbeat.sequence } });
      } else if (report) {
        this.report(session, report, fail);
      } else {
        throw grpcError(grpc.status.INVALID_ARGUMENT, `unexpected ${message.body ?? 'empty'} message`);
      }
    };
    call.on('data', (message: AgentMessage) => {
      if (closed) return;
      try {
        const pending = handle(message);
        if (pending === undefined) return;
        // A hello may wait for its inventory to be parsed off the event loop: this stream's next
        // messages wait too (in order), everyone else's do not.
        call.pause();
        pending.then(() => {
          if (!closed) call.resume();
        }, fail);
      } catch (error) {
        fail(error);
      }
    });
    call.on('error', (error) => {
      gone = true;
      this.log.info({ host, err: error.message }, 'agent stream error');
      this.drop(session);
      untrack();
    });
    call.on('end', () => {
      gone = true;
      this.drop(session);
      untrack();
      if (!closed) call.end();
    });
    call.on('cancelled', () => {
      gone = true;
      this.drop(session);
      untrack();
    });
  }

  /**
   * The inventory a hello announces. Agents first send only its sha256: a host whose inventory is
   * unchanged, or equal to one stored for another host, costs no transfer and no parsing. Only an
   * unknown one is asked for (need_inventory), and comes in a second hello.
   */
  private async takeInventory(host: string, hello: Hello): Promise<boolean> {
    const known = this.db.host(host);
    // When the agent collected what it announces (agents before it say nothing: '').
    const collectedAt = collectionTime(hello.inventoryCollectedAt);
    if (known !== null && known.inventorySha256 !== '' && known.inventorySha256 === hello.inventorySha256) {
      this.inBackground({ op: 'touchHost', host, collectedAt });
      return false;
    }
    // An agent speaks only for its own host, so taking its word for the hash of an inventory
    // stored already (for a host like it) risks nothing and spares parsing megabytes again.
    const wellFormed = /^[0-9a-f]{64}$/.test(hello.inventorySha256);
    const shared = wellFormed ? this.db.inventoryByHash(hello.inventorySha256) : null;
    if (shared !== null && shared.facts !== null) {
      await this.assign(host, shared.id, shared.facts, collectedAt);
      return false;
    }
    if (hello.inventory.length > 0) {
      // Stored by the intake worker, unless it does not match the announced hash.
      const taken = await this.intake.take(
        hello.inventory,
        `inventory from agent ${host}`,
        host,
        hello.inventorySha256,
      );
      // The content hash, or (an agent from before it) the hash of the JSON as sent.
      if (taken.inventoryId === null) {
        throw grpcError(
          grpc.status.INVALID_ARGUMENT,
          `inventory_sha256 ${hello.inventorySha256} does not match the inventory sent (${taken.sha256})`,
        );
      }
      const id = taken.inventoryId;
      const facts = taken.facts;
      await this.assign(host, id, facts, taken.collectedAt || collectedAt);
      const announced = hello.inventorySha256 || taken.sha256;
      // Those waiting collected theirs themselves, when is not known here: counted from now.
      const waiting = [...(this.uploading.get(announced)?.waiting ?? [])];
      this.uploading.delete(announced);
      await Promise.all(waiting.map((other) => this.assign(other, id, facts)));
      return false;
    }
    await this.writes.run({ op: 'addHost', host, source: 'agent' });
    // When many agents of one image connect at once, one of them uploads; the rest wait for it.
    const upload = wellFormed ? this.uploading.get(hello.inventorySha256) : undefined;
    if (upload !== undefined && upload.uploader !== host) {
      upload.waiting.add(host);
      return false;
    }
    // (The asked host itself, reconnected, is asked again; those waiting go on waiting.)
    if (wellFormed)
      this.uploading.set(hello.inventorySha256, { uploader: host, waiting: upload?.waiting ?? new Set() });
    return true;
  }

  private async assign(host: string, inventoryId: number, facts: HostFacts, collectedAt = ''): Promise<void> {
    const { changed } = await this.writes.run({
      op: 'setHostInventory',
      host,
      facts,
      inventoryId,
      source: 'agent',
      seen: true,
      collectedAt,
    });
    // In the background, on the prediction workers: the hello is answered now.
    if (changed) void this.predictor.predictHost(host);
  }

  /** Opens the session a first hello asks for; null when the stream ended while its inventory was parsed. */
  private async hello(call: AgentStream, host: string, hello: Hello, ended: () => boolean): Promise<Session | null> {
    if (hello.host !== host)
      throw grpcError(
        grpc.status.PERMISSION_DENIED,
        `certificate is for host ${host}, hello speaks for ${JSON.stringify(hello.host)}`,
      );
    if (!AGENT_VERSION_SHAPE.test(hello.agentVersion))
      throw grpcError(grpc.status.INVALID_ARGUMENT, 'agent_version malformed (at most 64 of A-Z a-z 0-9 . + _ -)');
    const needInventory = await this.takeInventory(host, hello);
    // Stored before the session opens: a host seen connected shows its agent's version.
    await this.writes.run({ op: 'setAgentVersion', host, version: hello.agentVersion });
    if (ended() || call.destroyed) {
      this.handOverUploads(host);
      return null;
    }
    const previous = this.sessions.get(host);
    if (previous !== undefined) {
      // A reconnecting agent replaces its old stream (the old TCP connection may not be dead yet).
      this.sessions.delete(host);
      previous.stream.end();
    }
    const session: Session = { host, stream: call, orders: new Map(), lastSeenWritten: Date.now() };
    this.sessions.set(host, session);
    call.write({ body: 'welcome', welcome: { host, needInventory } });
    this.log.info({ host, peer: call.getPeer(), agentVersion: hello.agentVersion, needInventory }, 'agent connected');
    return session;
  }

  private heartbeat(session: Session): void {
    const nowMs = Date.now();
    if (nowMs - session.lastSeenWritten >= LAST_SEEN_EVERY_MS) {
      session.lastSeenWritten = nowMs;
      this.inBackground({ op: 'touchHost', host: session.host });
    }
  }

  private report(session: Session, report: Report, fail: (error: unknown) => void): void {
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(report.reportId))
      throw grpcError(grpc.status.INVALID_ARGUMENT, 'report_id missing or malformed');
    const pending = report.orderId === '' ? undefined : session.orders.get(report.orderId);
    if (report.result === null || report.result === undefined) {
      if (report.error === '')
        throw grpcError(grpc.status.INVALID_ARGUMENT, 'report has neither a result nor an error');
      // An order that failed on the agent is answered, not stored.
      session.stream.write({ body: 'ack', ack: { reportId: report.reportId } });
      if (pending !== undefined)
        this.settle(session, report.orderId, null, new Error(`agent ${session.host}: ${report.error}`));
      return;
    }
    const result = report.result;
    if (result.host !== session.host) {
      throw grpcError(
        grpc.status.PERMISSION_DENIED,
        `certificate is for host ${session.host}, report is about ${JSON.stringify(result.host)}`,
      );
    }
    if (result.kind !== 'verified')
      throw grpcError(grpc.status.INVALID_ARGUMENT, 'an agent reports verified results only');
    if (!/^[0-9a-f]{64}$/.test(result.bundleDigest))
      throw grpcError(grpc.status.INVALID_ARGUMENT, 'bundle_digest is not a sha256');
    if (this.db.bundleByDigest(result.bundleDigest) === null)
      throw grpcError(grpc.status.NOT_FOUND, `bundle ${result.bundleDigest} is not in the store`);
    const started = performance.now();
    // Committed with the other reports of this turn (report-commits.ts), then acknowledged.
    this.reports.add(session.host, result, report.reportId).then((stored) => {
      if (session.stream.destroyed) return;
      session.stream.write({ body: 'ack', ack: { reportId: report.reportId } });
      this.onReportStored(performance.now() - started);
      this.log.info(
        {
          host: session.host,
          report: report.reportId,
          duplicate: !stored,
          runs: result.runs,
          problems: result.problems.length,
        },
        'report stored',
      );
      if (pending !== undefined) this.settle(session, report.orderId, result, null);
    }, fail);
  }

  private settle(session: Session, orderId: string, result: CheckResult | null, error: Error | null): void {
    const pending = session.orders.get(orderId);
    if (pending === undefined) return;
    session.orders.delete(orderId);
    clearTimeout(pending.timer);
    if (result !== null) pending.resolve(result);
    else pending.reject(error ?? new Error('order failed'));
  }

  /**
   * `host` will not send the inventories it was asked for (it disconnected): each is asked of a
   * host still waiting for it, with a new welcome; with none waiting, the next hello of that hash
   * is asked. Without this a badly timed cut left the hash "being uploaded" for good, and every
   * host with it without an inventory.
   */
  private handOverUploads(host: string): void {
    for (const [sha256, upload] of [...this.uploading]) {
      if (upload.uploader !== host) continue;
      const next = [...upload.waiting].find((waiting) => this.sessions.has(waiting));
      if (next === undefined) {
        this.uploading.delete(sha256);
        continue;
      }
      upload.waiting.delete(next);
      upload.uploader = next;
      this.sessions.get(next)!.stream.write({ body: 'welcome', welcome: { host: next, needInventory: true } });
      this.log.info(
        { host: next, inventory: sha256.slice(0, 12), insteadOf: host },
        'inventory asked again: its uploader disconnected',
      );
    }
  }

  private drop(session: Session | null): void {
    if (session === null || this.sessions.get(session.host) !== session) return;
    this.sessions.delete(session.host);
    this.handOverUploads(session.host);
    for (const [id, pending] of session.orders) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`agent ${session.host} disconnected before answering order ${id}`));
    }
    this.log.info({ host: session.host }, 'agent disconnected');
  }

  private fetch(call: FetchCall): void {
    const certificate = this.admit(call, 'FetchBundle');
    if (certificate === null) return;
    const { host } = certificate;
    const { digest, offset } = call.request;
    const chunkSize = Math.min(call.request.chunkSize || DEFAULT_CHUNK, MAX_CHUNK);
    if (!this.store.has(digest) || this.db.bundleByDigest(digest) === null) {
      call.emit('error', grpcError(grpc.status.NOT_FOUND, `bundle ${digest} is not in the store`));
      return;
    }
    const total = this.store.size(digest);
    if (offset > total) {
      call.emit('error', grpcError(grpc.status.OUT_OF_RANGE, `offset ${offset} is past the end (${total} bytes)`));
      return;
    }
    this.log.info({ host, digest: digest.slice(0, 12), offset, total }, 'bundle transfer');
    let position = offset;
    const untrack = this.track(host, (details) => {
      if (position > total) return;
      position = total + 1;
      call.emit('error', grpcError(grpc.status.UNAUTHENTICATED, details));
    });
    // Honour back-pressure: write until the stream says stop, continue on 'drain'.
    const pump = (): void => {
      while (position < total) {
        const data = this.store.read(digest, position, Math.min(chunkSize, total - position));
        const chunk: BundleChunk = { digest, offset: position, totalSize: total, data, name: '' };
        position += data.length;
        if (!call.write(chunk)) {
          call.once('drain', pump);
          return;
        }
      }
      if (position === total) call.end();
      untrack();
    };
    call.on('cancelled', () => {
      position = total + 1;
      untrack();
    });
    call.on('close', untrack);
    pump();
  }
}
