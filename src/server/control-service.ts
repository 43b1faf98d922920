// The control service the CLI talks to over the local socket: bundles, hosts, checks, compat
// queries and enrollment tokens. Bad input comes back as INVALID_ARGUMENT or NOT_FOUND with a
// message naming the input and the problem.

import { createHash, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { BundleError } from '../bundle/errors.js';
import { InventoryFormatError } from '../inventory/read.js';
import {
  checkAgentHostName,
  checkHostName,
  DatabaseInputError,
  type CompatDatabase,
  type StoredBundle,
  type StoredHost,
} from './db/database.js';
import type { BundleStore, StoredArchive } from './bundle-store.js';
import { ReferencePredictions } from './reference-predictions.js';
import { BuildRequestError, type BundleBuilds } from './bundle-builds.js';
import type { Predictor } from './predictor.js';
import type { AgentHub } from './agent-hub.js';
import { grpcError } from './agent-hub.js';
import type { InventoryIntake } from './inventory-intake.js';
import { deploymentRecord, refusalReason } from '../release/deploy-policy.js';
import { checkedInstallPrefix } from '../release/prefix-path.js';
import { bundleInfo, bundlesForDistro, compatOf, parseDistroName } from './compat-query.js';
import { fleetOf } from './fleet-query.js';
import { findPlatform } from '../inventory/platform-catalog.js';
import type {
  AddHostRequest,
  BundleChunk,
  CheckRequest,
  InstallRequest,
  InstallResponse,
  CheckResponse,
  Deployment,
  DeploymentStatus,
  DistroBundle,
  DistroRequest,
  DistroResponse,
  FleetRequest,
  HostAccess,
  HostInfo,
  HostRef,
  ImportInventoryRequest,
  RecordDeploymentRequest,
  ServerStatus,
  StatusRequest,
} from '../proto/messages.js';
import type { EventLoopWatch } from './event-loop-watch.js';
import type { ControlHandlers } from '../proto/generated/pyrelo/v1/Control.js';
import type { MethodName } from '../proto/method-names.js';

/** The streaming calls as the generated service types them. */
type AddBundleCall = Parameters<ControlHandlers['AddBundle']>[0];
type AddBundleCallback = Parameters<ControlHandlers['AddBundle']>[1];
type BuildBundleCall = Parameters<ControlHandlers['BuildBundle']>[0];

const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function toStatus(error: unknown): grpc.ServiceError {
  if (error instanceof DatabaseInputError && /no such|not known|not stored/.test(error.message))
    return grpcError(grpc.status.NOT_FOUND, error.message);
  if (
    error instanceof DatabaseInputError ||
    error instanceof BundleError ||
    error instanceof InventoryFormatError ||
    error instanceof BuildRequestError
  )
    return grpcError(grpc.status.INVALID_ARGUMENT, error.message);
  if (typeof (error as grpc.ServiceError).code === 'number') return error as grpc.ServiceError;
  return grpcError(grpc.status.INTERNAL, (error as Error).message);
}

/** A unary handler from a function of the request; `name` is the method's, for the log. */
function unary<Req, Res>(
  log: Logger,
  name: MethodName<ControlHandlers>,
  handler: (request: Req) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(call.request))
      .then((response) => callback(null, response))
      .catch((error: unknown) => {
        const status = toStatus(error);
        log.warn({ rpc: name, code: grpc.status[status.code] }, `control ${name} refused: ${status.details}`);
        callback(status);
      });
  };
}

function hostInfo(host: StoredHost, connected: boolean): HostInfo {
  const { id: _id, inventoryId: _i, ...info } = host;
  return { ...info, connected };
}

const EMPTY_ACCESS: HostAccess = { ssh: '', key: '', jump: '', chroot: '', groups: [], prefix: '' };

/** Access fields are stored as given (the CLI resolves them); only their shape is checked here. */
function checkAccess(host: string, access: HostAccess): HostAccess {
  const what = (field: string) => `host ${host}: ${field}`;
  if (access.ssh !== '' && access.chroot !== '')
    throw new DatabaseInputError(what('--ssh and --chroot'), 'give one of them, not both');
  if (access.ssh !== '' && !/^([^@\s]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/.test(access.ssh))
    throw new DatabaseInputError(what(`--ssh ${JSON.stringify(access.ssh)}`), 'expected [user@]host[:port]');
  if (access.chroot !== '' && !access.chroot.startsWith('/'))
    throw new DatabaseInputError(what(`--chroot ${JSON.stringify(access.chroot)}`), 'expected an absolute path');
  const prefix =
    access.prefix === ''
      ? ''
      : checkedInstallPrefix(access.prefix, what('--prefix'), (w, p) => new DatabaseInputError(w, p));
  for (const group of access.groups)
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(group))
      throw new DatabaseInputError(
        what(`--group ${JSON.stringify(group)}`),
        'expected letters, digits, ".", "_" or "-"',
      );
  return { ...access, prefix };
}

export class ControlService {
  /** The reference platforms' verdicts per bundle, made in a worker and kept (reference-predictions.ts). */
  readonly references = new ReferencePredictions();

  constructor(
    private readonly db: CompatDatabase,
    private readonly store: BundleStore,
    private readonly predictor: Predictor,
    private readonly hub: AgentHub,
    private readonly log: Logger,
    private readonly maxBundleBytes: number,
    private readonly builds: BundleBuilds,
    private readonly intake: InventoryIntake,
    private readonly eventLoop: EventLoopWatch | null = null,
  ) {}

  /** Ends the work the service started on its own (the reference platforms' worker), at the server's stop. */
  async close(): Promise<void> {
    await this.references.close();
  }

  private requireHost(name: string): StoredHost {
    const host = this.db.host(name);
    if (host === null) throw new DatabaseInputError(`host ${name}`, 'not known (pyrelo hosts list)');
    return host;
  }

  handlers(): ControlHandlers {
    const log = this.log;
    return {
      AddBundle: (call, callback) => this.addBundle(call, callback),
      BuildBundle: (call) => this.buildBundle(call),
      ListBundles: unary(log, 'ListBundles', () => ({ bundles: this.db.bundles().map(bundleInfo) })),
      ShowBundle: unary(log, 'ShowBundle', (r: { bundle: string }) => bundleInfo(this.db.resolveBundle(r.bundle))),
      AddHost: unary(log, 'AddHost', (r: AddHostRequest) => {
        checkHostName(r.name);
        const host =
          r.access === null
            ? this.db.addHost(r.name, 'manual')
            : this.db.setHostAccess(r.name, checkAccess(r.name, r.access));
        return hostInfo(host, this.hub.isConnected(r.name));
      }),
      SetHostAccess: unary(log, 'SetHostAccess', (r: AddHostRequest) => {
        this.requireHost(r.name);
        return hostInfo(
          this.db.setHostAccess(r.name, checkAccess(r.name, r.access ?? EMPTY_ACCESS)),
          this.hub.isConnected(r.name),
        );
      }),
      RecordDeployment: unary(log, 'RecordDeployment', (r: RecordDeploymentRequest) => {
        const d = r.deployment;
        if (d === null) throw new DatabaseInputError('deployment', 'missing');
        this.db.recordDeployment(d, r.verified);
        if (r.verified !== null)
          this.log.info(
            { host: d.host, bundle: r.verified.bundleDigest.slice(0, 12), runs: r.verified.runs },
            'verified result recorded (deploy)',
          );
        this.log.info(
          { host: d.host, bundle: d.bundleDigest.slice(0, 12), release: d.release, status: d.status },
          'deployment recorded',
        );
        return {};
      }),
      ListDeployments: unary(log, 'ListDeployments', (r: HostRef) => {
        this.requireHost(r.name);
        return { deployments: this.db.deployments(r.name) };
      }),
      ListHosts: unary(log, 'ListHosts', () => ({
        hosts: this.db.hosts(this.hub.isConnected).map((h) => hostInfo(h, h.connected)),
      })),
      ShowHost: unary(log, 'ShowHost', (r: HostRef) =>
        hostInfo(this.requireHost(r.name), this.hub.isConnected(r.name)),
      ),
      RemoveHost: unary(log, 'RemoveHost', (r: HostRef) => {
        const removed = this.db.removeHost(r.name);
        if (!removed) throw new DatabaseInputError(`host ${r.name}`, 'not known (pyrelo hosts list)');
        // Its certificates are revoked (committed above): end its agent's streams now.
        const streams = this.hub.disconnectHost(
          r.name,
          `host ${r.name} was removed: its client certificate is revoked`,
        );
        this.log.info(
          { host: r.name, revokedCertificates: removed.revokedCertificates, streamsClosed: streams },
          'host removed',
        );
        return {};
      }),
      ImportInventory: unary(log, 'ImportInventory', (r: ImportInventoryRequest) => this.importInventory(r)),
      Check: unary(log, 'Check', (r: CheckRequest) => this.check(r)),
      Install: unary(log, 'Install', (r: InstallRequest) => this.install(r)),
      Compat: unary(log, 'Compat', async (r: { bundle: string }) => {
        const bundle = this.db.resolveBundle(r.bundle);
        // Asked by name, the newest build answers; the others of that name are listed, not hidden.
        const others =
          bundle.name === r.bundle
            ? this.db
                .bundlesNamed(bundle.name)
                .filter((b) => b.digest !== bundle.digest)
                .map(bundleInfo)
            : [];
        // The hosts' answer does not wait on the reference rows failing: it comes without them, logged.
        const platforms = await this.references
          .forBundle(bundle.digest, this.store.treePath(bundle.digest))
          .catch((error: Error) => {
            this.log.warn(
              { bundle: bundle.digest.slice(0, 12) },
              `reference platforms not predicted: ${error.message}`,
            );
            return [];
          });
        return { ...compatOf(this.db, bundle, this.hub.isConnected), others, platforms };
      }),
      DistroBundles: unary(log, 'DistroBundles', (r: DistroRequest) => this.distroBundles(r.distro)),
      Fleet: unary(log, 'Fleet', (r: FleetRequest) => fleetOf(this.db.fleetFacts(), r.staleAfterDays)),
      CreateEnrollToken: unary(log, 'CreateEnrollToken', (r: HostRef) => {
        checkAgentHostName(r.name);
        const token = randomBytes(24).toString('base64url');
        const expiresAt = new Date(Date.now() + TOKEN_LIFETIME_MS).toISOString();
        this.db.addEnrollToken(tokenHash(token), r.name, expiresAt);
        this.log.info({ host: r.name, expiresAt }, 'enrollment token created');
        return { token, host: r.name, expiresAt };
      }),
      Status: unary(log, 'Status', (r: StatusRequest) => this.status(r)),
    };
  }

  /**
   * The bundles that run on a distro: from its enrolled hosts; when none of that distro (and
   * architecture) has an inventory, from its reference platform (README "Reference platforms"),
   * labelled by basis, for every stored bundle.
   */
  private async distroBundles(distro: string): Promise<DistroResponse> {
    if (distro.length > 200 || !/^[A-Za-z0-9._-]+(:[A-Za-z0-9._~-]*)?(\/[A-Za-z0-9_]+)?$/.test(distro))
      throw new DatabaseInputError(
        `distro ${JSON.stringify(distro)}`,
        'expected ID:VERSION_ID[/ARCH], e.g. debian:11 or debian:12/aarch64',
      );
    const name = parseDistroName(distro);
    const fromHosts = { bundles: bundlesForDistro(this.db, name), basis: 'hosts', platform: '' };
    if (this.db.inventoriedHostsOf(name.id, name.version, name.arch) > 0) return fromHosts;
    const choice = findPlatform(distro);
    if (choice === null) return fromHosts;
    // Every platform's first architecture is predicted for compat already (kept per bundle); another
    // architecture is predicted on its own.
    const firstArch = choice.arch === choice.platform.architectures[0];
    const bundles: DistroBundle[] = [];
    let basis = '';
    for (const stored of this.db.bundles()) {
      const verdicts = await this.references
        .forBundle(stored.digest, this.store.treePath(stored.digest), firstArch ? undefined : choice.label)
        .catch((error: Error) => {
          this.log.warn({ bundle: stored.digest.slice(0, 12) }, `reference platform not predicted: ${error.message}`);
          return [];
        });
      const verdict = verdicts.find((v) => v.platform === (firstArch ? choice.platform.name : choice.label));
      if (verdict === undefined) continue;
      basis = verdict.basis;
      if (verdict.verdict === 'predicted') bundles.push({ bundle: bundleInfo(stored), verdict: 'predicted', hosts: 0 });
    }
    return {
      bundles: bundles.sort((a, b) => a.bundle!.name.localeCompare(b.bundle!.name)),
      basis: basis || (choice.platform.inventory !== null && firstArch ? 'inventory' : 'reference'),
      platform: choice.label,
    };
  }

  private status(r: StatusRequest): ServerStatus {
    const memory = process.memoryUsage();
    const loop = this.eventLoop?.figures();
    if (r.resetEventLoop) this.eventLoop?.reset();
    return {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      agentsConnected: this.hub.connectedHosts().length,
      uptimeSeconds: process.uptime(),
      eventLoopSince: loop?.since ?? '',
      eventLoopResolutionMs: loop?.resolutionMs ?? 0,
      eventLoopMaxMs: loop?.maxMs ?? 0,
      eventLoopP50Ms: loop?.p50Ms ?? 0,
      eventLoopP99Ms: loop?.p99Ms ?? 0,
      eventLoopSlowWindows: loop?.slowWindows ?? 0,
      reportsCommitted: this.hub.reports.counts.reports,
      reportCommits: this.hub.reports.counts.commits,
      inventoriesKnownBytes: this.intake.taken.receipt,
      inventoriesKnownContent: this.intake.taken.content,
      inventoriesStored: this.intake.taken.stored,
      inventoriesRefused: this.intake.taken.refused,
    };
  }

  private async importInventory(r: ImportInventoryRequest): Promise<HostInfo> {
    // A name given is checked before the inventory is stored (the intake worker stores it).
    if (r.name !== '') checkHostName(r.name);
    const parsed = await this.intake.take(r.inventory, `inventory for ${r.name || '(unnamed host)'}`, 'control');
    const facts = parsed.facts;
    const name = r.name || `${facts.distroId || 'host'}-${facts.distroVersion || parsed.sha256.slice(0, 8)}`;
    checkHostName(name);
    const id = parsed.inventoryId!;
    const { host, changed } = this.db.setHostInventory(
      name,
      facts,
      id,
      r.takenOnHost ? 'agent' : 'import',
      r.takenOnHost,
      parsed.collectedAt,
    );
    if (changed) await this.predictor.predictHost(name);
    this.log.info({ host: name, inventory: parsed.sha256.slice(0, 12), changed }, 'inventory imported');
    return hostInfo(this.db.host(name) ?? host, this.hub.isConnected(name));
  }

  /** A deploy through the host's agent: predicted first, then an install order, then recorded. */
  private async install(r: InstallRequest): Promise<InstallResponse> {
    const bundle = this.db.resolveBundle(r.bundle);
    const host = this.requireHost(r.host);
    const prefix = checkedInstallPrefix(r.prefix, 'prefix', (w, p) => new DatabaseInputError(w, p));
    if (!this.hub.isConnected(host.name))
      throw grpcError(
        grpc.status.FAILED_PRECONDITION,
        `host ${host.name}: no agent connected (and no --ssh or --chroot to reach it)`,
      );
    const startedAt = new Date().toISOString();
    const predicted = host.inventoryId === null ? null : await this.predictor.predict(bundle, host);
    const record = (status: DeploymentStatus, reason: string): Deployment => {
      const deployment = deploymentRecord({
        host: host.name,
        bundle,
        prefix,
        status,
        reason,
        startedAt,
        // The agent's fetch resumes and skips what it has: the archive's size is an upper bound.
        bytesSent: status === 'refused' ? 0 : bundle.size,
      });
      this.db.recordDeployment(deployment);
      return deployment;
    };
    const refused = refusalReason(predicted, r.force);
    if (refused !== null) return { predicted, verified: null, deployment: record('refused', refused) };
    try {
      const verified = await this.hub.order(host.name, 'install', bundle.digest, r.timeoutMs || 600_000, prefix);
      // The agent's report was stored when it came in (AgentHub): the deployment is recorded alone.
      const reason = verified.runs
        ? ''
        : (verified.problems.find((p) => p.severity === 'error')?.message ??
          `smoke command exited ${verified.smokeExit}`);
      return { predicted, verified, deployment: record(verified.runs ? 'verified' : 'failed', reason) };
    } catch (error) {
      const message = (error as Error).message;
      // The agent went away or went quiet: it finishes or rolls back on its own; a later deploy resumes.
      return {
        predicted,
        verified: null,
        deployment: record(/disconnected|did not answer/.test(message) ? 'interrupted' : 'failed', message),
      };
    }
  }

  private async check(r: CheckRequest): Promise<CheckResponse> {
    const bundle = this.db.resolveBundle(r.bundle);
    const host = this.requireHost(r.host);
    const predicted = host.inventoryId === null ? null : await this.predictor.predict(bundle, host);
    if (!r.verify)
      return { predicted, verified: null, note: predicted === null ? 'no inventory stored for this host' : '' };
    if (!this.hub.isConnected(host.name))
      return {
        predicted,
        verified: this.db.check(bundle, host, 'verified'),
        note: `no agent connected for ${host.name}: showing the last verified result, if any`,
      };
    try {
      const verified = await this.hub.order(host.name, 'check', bundle.digest, r.timeoutMs || 300_000);
      return { predicted, verified, note: '' };
    } catch (error) {
      return { predicted, verified: null, note: (error as Error).message };
    }
  }

  /** Stores an adopted archive in the database and predicts it on every host with an inventory. */
  private async register(stored: StoredArchive, archiveName: string): Promise<StoredBundle> {
    const m = stored.manifest;
    const bundle = this.db.addBundle({
      digest: stored.digest,
      name: m.name,
      size: stored.size,
      libc: m.libc,
      glibcFloor: m.glibcFloor,
      kernelFloor: m.kernelFloor,
      pythonVersion: m.python.version,
      archiveName,
      manifest: stored.manifestText,
      elf: m.elf.map((e) => ({ path: e.path, needed: e.needed, versions: e.versions })),
    });
    this.log.info({ bundle: m.name, digest: stored.digest.slice(0, 12), size: stored.size }, 'bundle stored');
    // The reference platforms' rows are started now, so that compat rarely waits for them; a failure
    // is logged when compat asks.
    this.references.forBundle(stored.digest, this.store.treePath(stored.digest)).catch(() => undefined);
    await this.predictor.predictBundleEverywhere(bundle);
    return bundle;
  }

  private buildBundle(call: BuildBundleCall): void {
    const cancelled = new AbortController();
    call.on('cancelled', () => cancelled.abort());
    Promise.resolve()
      .then(() =>
        this.builds.build(
          call.request,
          (line) => {
            if (!cancelled.signal.aborted) call.write({ body: 'line', line });
          },
          cancelled.signal,
        ),
      )
      .then(async (stored) => {
        const bundle = await this.register(stored, `${stored.manifest.name}.tar.gz`);
        call.write({ body: 'bundle', bundle: bundleInfo(bundle) });
        call.end();
      })
      .catch((error: unknown) => {
        const status = toStatus(error);
        this.log.warn(
          { rpc: 'BuildBundle', code: grpc.status[status.code] },
          `build refused or failed: ${status.details}`,
        );
        // grpc-js turns an 'error' event on a server stream into the call's final status.
        if (!cancelled.signal.aborted) call.emit('error', status);
      });
  }

  private addBundle(call: AddBundleCall, callback: AddBundleCallback): void {
    const incoming = this.store.incoming();
    let announced = '';
    let name = 'upload';
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      incoming.abort();
      const status = toStatus(error);
      this.log.warn({ rpc: 'AddBundle', code: grpc.status[status.code] }, `bundle upload refused: ${status.details}`);
      callback(status);
    };
    call.on('data', (chunk: BundleChunk) => {
      if (failed) return;
      try {
        if (chunk.name !== '') name = chunk.name;
        if (chunk.digest !== '') announced = chunk.digest;
        if (incoming.size + chunk.data.length > this.maxBundleBytes)
          throw grpcError(grpc.status.RESOURCE_EXHAUSTED, `bundle larger than ${this.maxBundleBytes} bytes`);
        incoming.write(chunk.offset, chunk.data);
      } catch (error) {
        fail(error);
      }
    });
    call.on('error', (error) => fail(error));
    call.on('end', () => {
      if (failed) return;
      incoming
        .commit(announced, name)
        .then(async (stored) => callback(null, bundleInfo(await this.register(stored, name))))
        .catch(fail);
    });
  }
}
