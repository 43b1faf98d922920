// One bundle to one host, the whole trip (issue 6):
//   1. agent: bring it over when missing or outdated; inventory: take it when the server's copy is
//      missing or stale (or the agent is new), and store it on the server;
//   2. predict with the check from that inventory; a bundle that will not run there stops here,
//      before anything of it is sent, with the loader's own words (unless --force);
//   3. transfer over SFTP, resumable and checked by sha256 on the host; when an earlier release of
//      the same application is there, only the files that changed travel (a delta archive);
//   4. install into PREFIX/releases/<id> and switch PREFIX/current atomically (the agent does it:
//      src/release), keeping the previous release;
//   5. the agent checks the bundle on the live host and runs its smoke command; on failure it
//      switches back and says why;
//   6. the deployment and its verified result go into the compatibility database, in one call
//      stored in one transaction.
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
import { RemoteConnectionError, shellQuote, UploadInterruptedError, type RemoteTransport } from '../../remote/transport.js';
import type { CheckResult, DeploymentStatus, HostInfo } from '../../proto/messages.js';
import { deploymentRecord, firstErrors, refusalReason } from '../../release/deploy-policy.js';
import type { ControlClient } from '../control-client.js';
import { cacheDir, type AgentArchive } from './agent-archive.js';
import type { HostProgress } from './progress.js';
import { ensureAgent, RemoteAgentError, type RemoteAgent } from './remote-agent.js';
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
  readonly onStep?: (step: string) => void;
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
  const same = listing.releases.filter((r) => r.name === bundle.manifest.name && r.id !== release && r.status !== 'failed');
  const current = same.find((r) => r.isCurrent);
  return (current ?? same.at(-1))?.id ?? null;
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** How long a deploy waits for another install on the same prefix (one cut off mid-way finishing on its own). */
const LOCK_WAIT_MS = 120_000;

async function installWaitingForLock(agent: RemoteAgent, args: string[], p: HostProgress): Promise<{ json: ReleaseInstallResult }> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let waited = false; ; waited = true) {
    try {
      return await agent.require<ReleaseInstallResult>(args, (chunk) => chunk.split('\n').filter(Boolean).forEach((l) => p.note(l)));
    } catch (error) {
      if (!(error instanceof RemoteAgentError && /another install or rollback is running/.test(error.message)) || Date.now() > deadline) throw error;
      if (!waited) p.note('another install is running on this prefix (an earlier deploy cut off?); waiting for it');
      await sleep(1000);
    }
  }
}

export async function deployToHost(host: HostInfo, bundle: LocalBundle, o: DeployHostOptions): Promise<HostDeployResult> {
  const prefix = o.prefix ?? (host.access?.prefix || `/opt/pyrelo/${bundle.manifest.name}`);
  const release = releaseIdFor(bundle.manifest.name, bundle.digest);
  const startedAt = new Date().toISOString();
  const p = o.progress;
  let bytesSent = 0;
  let resumedFrom: number | null = null;
  let acknowledged = 0;
  let transferredFiles: number | null = null;
  let predicted: CheckResult | null = null;
  let previous: string | null = null;
  let transport: RemoteTransport | null = null;
  const step = (name: Parameters<HostProgress['start']>[0], what: string) => {
    o.onStep?.(name);
    p.start(name, what);
  };

  const finish = async (status: DeploymentStatus, reason: string, check: CheckResult | null): Promise<HostDeployResult> => {
    const deployment = deploymentRecord({ host: host.name, bundle: { digest: bundle.digest, name: bundle.manifest.name }, prefix, status, reason, bytesSent, startedAt });
    o.onStep?.('record');
    // One call, stored in one transaction: the deployment and its verified result, or neither.
    await o.control.call('RecordDeployment', { deployment, verified: check });
    return {
      host: host.name, status, release, prefix, reason, bytesSent, resumedFrom, acknowledged, transferredFiles,
      totalFiles: bundle.manifest.files.length, previous, check, predicted,
    };
  };

  try {
    step('connect', host.access?.chroot ? `chroot ${host.access.chroot}` : `ssh ${host.access?.ssh ?? '?'}`);
    transport = await o.connect(host);
    p.done('connect', transport.description);

    step('agent', `agent ${o.agent.key}`);
    p.resetBar();
    const ensured = await ensureAgent(transport, o.agent, ({ acknowledged: a, total }) => p.bytes('agent', a, total));
    bytesSent += ensured.bytesSent;
    p.done('agent', ensured.installed ? `brought over (${(ensured.bytesSent / 1e6).toFixed(1)} MB sent)` : 'up to date');

    if (ensured.installed || inventoryIsStale(host, o.inventoryMaxAgeMs)) {
      step('inventory', 'taking the host\'s inventory');
      const call = await ensured.agent.call<unknown>(['inventory']);
      if (call.exitCode !== 0 || call.json === null) throw new RemoteAgentError(transport.description, `agent inventory failed (exit ${call.exitCode}): ${call.stderr.trim()}`);
      const stored = await o.control.call('ImportInventory', { name: host.name, inventory: Buffer.from(JSON.stringify(call.json)), takenOnHost: true });
      p.done('inventory', `${stored.distroId}:${stored.distroVersion} ${stored.libcKind} ${stored.libcVersion}, inventory version ${stored.inventoryVersion}`);
    }

    step('predict', `${bundle.manifest.name} (${bundle.digest.slice(0, 12)}) from the stored inventory`);
    const check = await o.control.call('Check', { bundle: bundle.digest, host: host.name, verify: false, timeoutMs: 0 });
    predicted = check.predicted;
    if (predicted === null) throw new RemoteAgentError(host.name, `no prediction: ${check.note}`);
    if (!predicted.loads) {
      p.done('predict', `will not run: ${firstErrors(predicted).join('; ')}`);
      const refused = refusalReason(predicted, o.force);
      if (refused !== null) return await finish('refused', refused, null);
      p.note('--force: deploying anyway');
    } else p.done('predict', `predicted to run (glibc floor ${predicted.glibcFloor || 'none'})`);

    step('transfer', `${bundle.manifest.name} to ${prefix}`);
    const agent = ensured.agent;
    const listing = (await agent.require<ReleaseListing>(['release', 'list', '--prefix', prefix])).json;
    previous = listing.current;
    let archive = bundle.archive;
    let base: string | null = null;
    if (listing.releases.some((r) => r.id === release)) {
      p.done('transfer', `release ${release} is already on the host: nothing to send`);
      transferredFiles = 0;
      archive = '';
    } else {
      base = deltaBase(listing, bundle, release);
      if (base !== null) {
        const baseManifest = JSON.parse((await transport.readFile(`${prefix}/releases/${base}/pyrelo.json`)).toString()) as { files: BundleFile[] };
        const baseKey = sha256Of(Buffer.from(JSON.stringify(baseManifest.files))).slice(0, 16);
        const deltaDir = join(cacheDir(), 'deltas');
        mkdirSync(deltaDir, { recursive: true });
        const delta = join(deltaDir, `${bundle.digest.slice(0, 16)}-from-${baseKey}.tar.gz`);
        // Reproducible: the same bundle against the same base gives the same bytes, so a cached
        // delta is the one a cut-off upload was sending, and the upload resumes.
        if (!existsSync(delta)) await makeDeltaArchive(bundle.archive, baseManifest.files, delta);
        const changed = changedPaths(bundle.manifest.files, baseManifest.files).size;
        const deltaSize = statSync(delta).size;
        if (deltaSize < bundle.size * 0.8) {
          archive = delta;
          transferredFiles = changed;
          p.note(`earlier release ${base} is there: sending ${changed} of ${bundle.manifest.files.length} files (${(deltaSize / 1e6).toFixed(1)} MB instead of ${(bundle.size / 1e6).toFixed(1)} MB)`);
        } else base = null;
      }
    }

    let archiveSha = '';
    let remoteArchive = '';
    if (archive !== '') {
      archiveSha = archive === bundle.archive ? bundle.digest : sha256File(archive);
      const incoming = `${prefix}/.pyrelo/incoming`;
      const made = await transport.exec(`mkdir -p ${shellQuote(incoming)}`);
      if (made.exitCode !== 0) throw new RemoteAgentError(transport.description, `cannot create ${incoming}: ${made.stderr.trim()} (is ${prefix} writable by this user? --prefix DIR)`);
      // Named by content, so a resumed upload continues the same file; the suffix names the compression.
      remoteArchive = `${incoming}/${archiveSha}${Object.keys(ARCHIVE_SUFFIXES).find((suffix) => archive.endsWith(suffix)) ?? '.tar'}`;
      p.resetBar();
      try {
        const sent = await transport.upload(archive, remoteArchive, ({ acknowledged: a, total }) => {
          resumedFrom ??= a; // the first report is the resume offset
          acknowledged = a;
          p.bytes(base === null ? 'bundle' : 'delta', a, total);
        });
        bytesSent += sent.bytesSent;
        resumedFrom = sent.resumedFrom;
        acknowledged = sent.resumedFrom + sent.bytesSent; // the whole archive
        p.done('transfer', `${(sent.bytesSent / 1e6).toFixed(1)} MB sent${sent.resumedFrom > 0 ? `, resumed at ${(sent.resumedFrom / 1e6).toFixed(1)} MB` : ''}`);
      } catch (error) {
        if (error instanceof UploadInterruptedError) acknowledged = error.acknowledged;
        throw error;
      }
    }

    step('install', `release ${release} into ${prefix}, then check and smoke run`);
    const args = ['release', 'install', '--prefix', prefix, '--bundle-digest', bundle.digest, '--manifest-sha256', bundle.manifestSha256];
    if (remoteArchive !== '') args.push('--archive', remoteArchive, '--sha256', archiveSha);
    if (base !== null) args.push('--base', base);
    const installed = await installWaitingForLock(agent, args, p);
    const result = installed.json;
    const checkResult: CheckResult = { ...result.check, host: host.name, kind: 'verified', bundleDigest: bundle.digest };
    if (result.status === 'verified') {
      p.done('install', `${result.reused ? 'release was there; ' : ''}current -> ${result.current}; runs (smoke exit ${checkResult.smokeExit})`);
      return await finish('verified', '', checkResult);
    }
    // This route's words for a failed run (release/deploy-policy.ts says why they are not shared).
    const why = result.reason ?? firstErrors(checkResult).join('; ');
    p.done('install', `does not run: ${why}; ${result.rolledBack ? `switched back to ${result.current}` : 'nothing to switch back to'}`);
    return await finish('failed', why, checkResult);
  } catch (error) {
    // A refused host key is a decision, not a dropped line: nothing was sent, nothing resumes.
    if (error instanceof Error && ['SshHostKeyError', 'SshSpecError', 'InputError'].includes(error.name)) {
      p.note(`failed: ${error.message}`);
      return await finish('failed', error.message, null);
    }
    if (error instanceof RemoteConnectionError) {
      p.note(`interrupted: ${error.message}`);
      return await finish('interrupted', error.message, null);
    }
    if (error instanceof RemoteAgentError) {
      p.note(`failed: ${error.message}`);
      return await finish('failed', error.message, null);
    }
    throw error;
  } finally {
    await transport?.close().catch(() => {});
  }
}
