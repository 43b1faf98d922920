// One bundle to one host, the whole trip (issue 6), as named steps over one DeployContext (the
// names are the progress lines' and the onStep hook's):
//   connect   SSH or chroot to the host;
//   agent     bring the agent over when missing or outdated;
//   inventory take it when the server's copy is missing or stale (or the agent is new), and store
//             it on the server;
//   predict   check from that inventory; a bundle that will not run there stops here, before
//             anything of it is sent, with the loader's own words (unless --force: the refusal
//             rule is release/deploy-policy.ts's, shared with the deploy through an agent);
//   transfer  over SFTP, resumable and checked by sha256 on the host; when an earlier release of
//             the same application is there, only the files that changed travel (a delta archive);
//   install   into PREFIX/releases/<id> and switch PREFIX/current atomically (the agent does it:
//             src/release), keeping the previous release; the agent checks the bundle on the live
//             host and runs its smoke command; on failure it switches back and says why;
//   record    the deployment and its verified result go into the compatibility database, in one
//             call stored in one transaction.
// Any dropped connection ends the trip as "interrupted": what arrived stays on the host (the
// partial upload, a complete release), so the next deploy finishes the job without resending it.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleFile } from '../../bundle/manifest.js';
import type { LocalBundle } from './local-bundle.js';
import { sha256File } from '../../bundle/file-list.js';
import { ARCHIVE_SUFFIXES } from '../../bundle/compression.js';
import { changedPaths, makeDeltaArchive } from '../../release/delta.js';
import { releaseIdFor } from '../../release/layout.js';
import type { ReleaseInstallResult, ReleaseListing } from '../../release/types.js';
import {
  RemoteConnectionError,
  shellQuote,
  UploadInterruptedError,
  type RemoteTransport,
} from '../../remote/transport.js';
import type { CheckResult, DeploymentStatus, HostInfo } from '../../proto/messages.js';
import { deploymentRecord, firstErrors, refusalReason } from '../../release/deploy-policy.js';
import type { ControlClient } from '../control-client.js';
import { cacheDir, type AgentArchive } from './agent-archive.js';
import type { HostProgress, StepName } from './progress.js';
import { ensureAgent, RemoteAgentError, type EnsureAgentResult, type RemoteAgent } from './remote-agent.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DeployHostOptions {
  readonly prefix?: string;
  readonly force: boolean;
  /** An inventory older than this is taken again. */
  readonly inventoryMaxAgeMs: number;
  readonly agent: AgentArchive;
  readonly control: ControlClient;
  readonly connect: (host: HostInfo) => Promise<RemoteTransport>;
  readonly progress: HostProgress;
  /** Test hook: told when each step starts (fault injection cuts connections at these points). */
  readonly onStep?: (step: StepName) => void;
}

export interface HostDeployResult {
  readonly host: string;
  readonly status: DeploymentStatus;
  readonly release: string;
  readonly prefix: string;
  readonly reason: string;
  /** Payload bytes sent this time: agent and bundle (or delta) archives. */
  readonly bytesSent: number;
  /** Where the bundle upload started (the partial file's size on the host); null when nothing was uploaded. */
  readonly resumedFrom: number | null;
  /** Bytes of the upload the host had acknowledged when it ended (all of it, when it completed). */
  readonly acknowledged: number;
  readonly transferredFiles: number | null;
  readonly totalFiles: number;
  readonly previous: string | null;
  readonly check: CheckResult | null;
  readonly predicted: CheckResult | null;
}

function inventoryIsStale(host: HostInfo, maxAgeMs: number): boolean {
  if (host.inventoryVersion === 0) return true;
  const seen = Date.parse(host.lastSeen);
  return Number.isNaN(seen) || Date.now() - seen > maxAgeMs;
}

/** The base for a delta: the current release when it is the same application, else its newest verified one. */
function deltaBase(listing: ReleaseListing, bundle: LocalBundle, release: string): string | null {
  const same = listing.releases.filter(
    (r) => r.name === bundle.manifest.name && r.id !== release && r.status !== 'failed',
  );
  const current = same.find((r) => r.isCurrent);
  return (current ?? same.at(-1))?.id ?? null;
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** How long a deploy waits for another install on the same prefix (one cut off mid-way finishing on its own). */
const LOCK_WAIT_MS = 120_000;

async function installWaitingForLock(
  agent: RemoteAgent,
  args: string[],
  p: HostProgress,
): Promise<{ json: ReleaseInstallResult }> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let waited = false; ; waited = true) {
    try {
      return await agent.require<ReleaseInstallResult>(args, (chunk) =>
        chunk
          .split('\n')
          .filter(Boolean)
          .forEach((l) => p.note(l)),
      );
    } catch (error) {
      if (
        !(error instanceof RemoteAgentError && /another install or rollback is running/.test(error.message)) ||
        Date.now() > deadline
      )
        throw error;
      if (!waited) p.note('another install is running on this prefix (an earlier deploy cut off?); waiting for it');
      await sleep(1000);
    }
  }
}

/** What one deploy to one host knows as it goes: each step reads it and adds what it learnt. */
interface DeployContext {
  readonly host: HostInfo;
  readonly bundle: LocalBundle;
  readonly o: DeployHostOptions;
  readonly p: HostProgress;
  readonly prefix: string;
  readonly release: string;
  readonly startedAt: string;
  /** Open from the connect step on; closed when the deploy ends, after the record step. */
  transport: RemoteTransport | null;
  bytesSent: number;
  resumedFrom: number | null;
  acknowledged: number;
  transferredFiles: number | null;
  predicted: CheckResult | null;
  previous: string | null;
}

/** How a deploy ended: what the record step stores. */
interface Ending {
  readonly status: DeploymentStatus;
  readonly reason: string;
  /** The verified result of the installed release; null when nothing was installed and checked. */
  readonly check: CheckResult | null;
}

/** What the transfer step left on the host for the install step. */
interface Upload {
  /** The archive on the host, '' when the release was there already. */
  readonly remoteArchive: string;
  readonly archiveSha: string;
  /** The release a delta archive applies to; null for a whole archive. */
  readonly base: string | null;
}

/** A step begins: the test hook first (fault injection cuts the connection here), then the progress line. */
function startStep(ctx: DeployContext, name: StepName, what: string): void {
  ctx.o.onStep?.(name);
  ctx.p.start(name, what);
}

/** connect: SSH or chroot to the host. */
async function connect(ctx: DeployContext): Promise<RemoteTransport> {
  const access = ctx.host.access;
  startStep(ctx, 'connect', access?.chroot ? `chroot ${access.chroot}` : `ssh ${access?.ssh ?? '?'}`);
  ctx.transport = await ctx.o.connect(ctx.host);
  ctx.p.done('connect', ctx.transport.description);
  return ctx.transport;
}

/** agent: the agent on the host, brought over when missing or outdated. */
async function bringAgent(ctx: DeployContext, transport: RemoteTransport): Promise<EnsureAgentResult> {
  startStep(ctx, 'agent', `agent ${ctx.o.agent.key}`);
  ctx.p.resetBar();
  const ensured = await ensureAgent(transport, ctx.o.agent, ({ acknowledged: a, total }) =>
    ctx.p.bytes('agent', a, total),
  );
  ctx.bytesSent += ensured.bytesSent;
  ctx.p.done(
    'agent',
    ensured.installed ? `brought over (${(ensured.bytesSent / 1e6).toFixed(1)} MB sent)` : 'up to date',
  );
  return ensured;
}

/** inventory: taken by the agent on the host and stored on the server, for the prediction. */
async function takeInventory(ctx: DeployContext, transport: RemoteTransport, agent: RemoteAgent): Promise<void> {
  startStep(ctx, 'inventory', "taking the host's inventory");
  const call = await agent.call<unknown>(['inventory']);
  if (call.exitCode !== 0 || call.json === null)
    throw new RemoteAgentError(
      transport.description,
      `agent inventory failed (exit ${call.exitCode}): ${call.stderr.trim()}`,
    );
  const stored = await ctx.o.control.call('ImportInventory', {
    name: ctx.host.name,
    inventory: Buffer.from(JSON.stringify(call.json)),
    takenOnHost: true,
  });
  ctx.p.done(
    'inventory',
    `${stored.distroId}:${stored.distroVersion} ${stored.libcKind} ${stored.libcVersion}, inventory version ` +
      `${stored.inventoryVersion}`,
  );
}

/** predict: the server's check from the stored inventory; returns the refusal when the deploy stops here. */
async function predict(ctx: DeployContext): Promise<Ending | null> {
  const { bundle, host, p } = ctx;
  startStep(ctx, 'predict', `${bundle.manifest.name} (${bundle.digest.slice(0, 12)}) from the stored inventory`);
  const check = await ctx.o.control.call('Check', {
    bundle: bundle.digest,
    host: host.name,
    verify: false,
    timeoutMs: 0,
  });
  const predicted = check.predicted;
  ctx.predicted = predicted;
  if (predicted === null) throw new RemoteAgentError(host.name, `no prediction: ${check.note}`);
  if (predicted.loads) {
    p.done('predict', `predicted to run (glibc floor ${predicted.glibcFloor || 'none'})`);
    return null;
  }
  p.done('predict', `will not run: ${firstErrors(predicted).join('; ')}`);
  const refused = refusalReason(predicted, ctx.o.force);
  if (refused !== null) return { status: 'refused', reason: refused, check: null };
  p.note('--force: deploying anyway');
  return null;
}

/**
 * The delta to send instead of the whole archive, when an earlier release of the same application
 * is on the host and the delta is clearly smaller; null otherwise.
 */
async function deltaToSend(
  ctx: DeployContext,
  transport: RemoteTransport,
  listing: ReleaseListing,
): Promise<{ archive: string; base: string } | null> {
  const { bundle, prefix } = ctx;
  const base = deltaBase(listing, bundle, ctx.release);
  if (base === null) return null;
  const baseManifest = JSON.parse((await transport.readFile(`${prefix}/releases/${base}/pyrelo.json`)).toString()) as {
    files: BundleFile[];
  };
  const baseKey = sha256Of(Buffer.from(JSON.stringify(baseManifest.files))).slice(0, 16);
  const deltaDir = join(cacheDir(), 'deltas');
  mkdirSync(deltaDir, { recursive: true });
  const delta = join(deltaDir, `${bundle.digest.slice(0, 16)}-from-${baseKey}.tar.gz`);
  // Reproducible: the same bundle against the same base gives the same bytes, so a cached
  // delta is the one a cut-off upload was sending, and the upload resumes.
  if (!existsSync(delta)) await makeDeltaArchive(bundle.archive, baseManifest.files, delta);
  const changed = changedPaths(bundle.manifest.files, baseManifest.files).size;
  const deltaSize = statSync(delta).size;
  if (deltaSize >= bundle.size * 0.8) return null;
  ctx.transferredFiles = changed;
  ctx.p.note(
    `earlier release ${base} is there: sending ${changed} of ${bundle.manifest.files.length} files (` +
      `${(deltaSize / 1e6).toFixed(1)} MB instead of ${(bundle.size / 1e6).toFixed(1)} MB)`,
  );
  return { archive: delta, base };
}

/** Uploads `archive` into PREFIX/.pyrelo/incoming, resuming a partial upload of the same content. */
async function uploadArchive(
  ctx: DeployContext,
  transport: RemoteTransport,
  archive: string,
  base: string | null,
): Promise<Upload> {
  const { bundle, prefix, p } = ctx;
  const archiveSha = archive === bundle.archive ? bundle.digest : sha256File(archive);
  const incoming = `${prefix}/.pyrelo/incoming`;
  const made = await transport.exec(`mkdir -p ${shellQuote(incoming)}`);
  if (made.exitCode !== 0)
    throw new RemoteAgentError(
      transport.description,
      `cannot create ${incoming}: ${made.stderr.trim()} (is ${prefix} writable by this user? --prefix DIR)`,
    );
  // Named by content, so a resumed upload continues the same file; the suffix names the compression.
  const remoteArchive =
    `${incoming}/${archiveSha}` +
    `${Object.keys(ARCHIVE_SUFFIXES).find((suffix) => archive.endsWith(suffix)) ?? '.tar'}`;
  p.resetBar();
  try {
    const sent = await transport.upload(archive, remoteArchive, ({ acknowledged: a, total }) => {
      ctx.resumedFrom ??= a; // the first report is the resume offset
      ctx.acknowledged = a;
      p.bytes(base === null ? 'bundle' : 'delta', a, total);
    });
    ctx.bytesSent += sent.bytesSent;
    ctx.resumedFrom = sent.resumedFrom;
    ctx.acknowledged = sent.resumedFrom + sent.bytesSent; // the whole archive
    p.done(
      'transfer',
      `${(sent.bytesSent / 1e6).toFixed(1)} MB sent` +
        `${sent.resumedFrom > 0 ? `, resumed at ${(sent.resumedFrom / 1e6).toFixed(1)} MB` : ''}`,
    );
  } catch (error) {
    if (error instanceof UploadInterruptedError) ctx.acknowledged = error.acknowledged;
    throw error;
  }
  return { remoteArchive, archiveSha, base };
}

/** transfer: nothing when the release is on the host already, else a delta or the whole archive. */
async function transfer(ctx: DeployContext, transport: RemoteTransport, agent: RemoteAgent): Promise<Upload> {
  startStep(ctx, 'transfer', `${ctx.bundle.manifest.name} to ${ctx.prefix}`);
  const listing = (await agent.require<ReleaseListing>(['release', 'list', '--prefix', ctx.prefix])).json;
  ctx.previous = listing.current;
  if (listing.releases.some((r) => r.id === ctx.release)) {
    ctx.p.done('transfer', `release ${ctx.release} is already on the host: nothing to send`);
    ctx.transferredFiles = 0;
    return { remoteArchive: '', archiveSha: '', base: null };
  }
  const delta = await deltaToSend(ctx, transport, listing);
  return await uploadArchive(ctx, transport, delta?.archive ?? ctx.bundle.archive, delta?.base ?? null);
}

/** install: the agent installs the release, switches to it, checks and smoke-runs it, switching back on failure. */
async function install(ctx: DeployContext, agent: RemoteAgent, upload: Upload): Promise<Ending> {
  const { bundle, host, prefix, p } = ctx;
  startStep(ctx, 'install', `release ${ctx.release} into ${prefix}, then check and smoke run`);
  const args = [
    'release',
    'install',
    '--prefix',
    prefix,
    '--bundle-digest',
    bundle.digest,
    '--manifest-sha256',
    bundle.manifestSha256,
  ];
  if (upload.remoteArchive !== '') args.push('--archive', upload.remoteArchive, '--sha256', upload.archiveSha);
  if (upload.base !== null) args.push('--base', upload.base);
  const result = (await installWaitingForLock(agent, args, p)).json;
  const check: CheckResult = { ...result.check, host: host.name, kind: 'verified', bundleDigest: bundle.digest };
  if (result.status === 'verified') {
    p.done(
      'install',
      `${result.reused ? 'release was there; ' : ''}current -> ${result.current}; runs (smoke exit ${check.smokeExit})`,
    );
    return { status: 'verified', reason: '', check };
  }
  // This route's words for a failed run (release/deploy-policy.ts says why they are not shared).
  const why = result.reason ?? firstErrors(check).join('; ');
  p.done(
    'install',
    `does not run: ${why}; ${result.rolledBack ? `switched back to ${result.current}` : 'nothing to switch back to'}`,
  );
  return { status: 'failed', reason: why, check };
}

/** How a step's error ends the deploy; an error no step expects is thrown on. */
function endingOf(error: unknown, p: HostProgress): Ending {
  // A refused host key is a decision, not a dropped line: nothing was sent, nothing resumes.
  if (error instanceof Error && ['SshHostKeyError', 'SshSpecError', 'InputError'].includes(error.name)) {
    p.note(`failed: ${error.message}`);
    return { status: 'failed', reason: error.message, check: null };
  }
  if (error instanceof RemoteConnectionError) {
    p.note(`interrupted: ${error.message}`);
    return { status: 'interrupted', reason: error.message, check: null };
  }
  if (error instanceof RemoteAgentError) {
    p.note(`failed: ${error.message}`);
    return { status: 'failed', reason: error.message, check: null };
  }
  throw error;
}

/** record: the deployment and its verified result go to the server, in one call and one transaction there. */
async function record(ctx: DeployContext, ending: Ending): Promise<HostDeployResult> {
  const { bundle, host } = ctx;
  const deployment = deploymentRecord({
    host: host.name,
    bundle: { digest: bundle.digest, name: bundle.manifest.name },
    prefix: ctx.prefix,
    status: ending.status,
    reason: ending.reason,
    bytesSent: ctx.bytesSent,
    startedAt: ctx.startedAt,
  });
  ctx.o.onStep?.('record');
  await ctx.o.control.call('RecordDeployment', { deployment, verified: ending.check });
  return {
    host: host.name,
    status: ending.status,
    release: ctx.release,
    prefix: ctx.prefix,
    reason: ending.reason,
    bytesSent: ctx.bytesSent,
    resumedFrom: ctx.resumedFrom,
    acknowledged: ctx.acknowledged,
    transferredFiles: ctx.transferredFiles,
    totalFiles: bundle.manifest.files.length,
    previous: ctx.previous,
    check: ending.check,
    predicted: ctx.predicted,
  };
}

/** The steps up to the record: connect, agent, inventory (when stale), predict, transfer, install. */
async function runSteps(ctx: DeployContext): Promise<Ending> {
  try {
    const transport = await connect(ctx);
    const ensured = await bringAgent(ctx, transport);
    if (ensured.installed || inventoryIsStale(ctx.host, ctx.o.inventoryMaxAgeMs))
      await takeInventory(ctx, transport, ensured.agent);
    const refused = await predict(ctx);
    if (refused !== null) return refused;
    const upload = await transfer(ctx, transport, ensured.agent);
    return await install(ctx, ensured.agent, upload);
  } catch (error) {
    return endingOf(error, ctx.p);
  }
}

export async function deployToHost(
  host: HostInfo,
  bundle: LocalBundle,
  o: DeployHostOptions,
): Promise<HostDeployResult> {
  const ctx: DeployContext = {
    host,
    bundle,
    o,
    p: o.progress,
    prefix: o.prefix ?? (host.access?.prefix || `/opt/pyrelo/${bundle.manifest.name}`),
    release: releaseIdFor(bundle.manifest.name, bundle.digest),
    startedAt: new Date().toISOString(),
    transport: null,
    bytesSent: 0,
    resumedFrom: null,
    acknowledged: 0,
    transferredFiles: null,
    predicted: null,
    previous: null,
  };
  try {
    return await record(ctx, await runSteps(ctx));
  } finally {
    await ctx.transport?.close().catch(() => {});
  }
}
