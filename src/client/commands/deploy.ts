// `pyrelo deploy BUNDLE --host a,b,c`, `pyrelo releases --host X`, `pyrelo rollback --host X`.
// Hosts are the server's (pyrelo hosts add NAME --ssh … | --chroot …); a name that is no host but
// a group stands for its members. Several hosts are deployed in parallel with at most --parallel
// connections at once, and a summary table closes the run. Exit 0 when every host ended verified,
// 1 when any was refused, failed or interrupted.

import type { ReleaseListing, ReleaseRollbackResult } from '../../release/types.js';
import { writeErr, writeOut } from '../../common/terminal-text.js';
import { checkedInstallPrefix } from '../../release/prefix-path.js';
import { InputError } from '../../elf/find-elf-files.js';
import type { HostInfo } from '../../proto/messages.js';
import { withControl, type ControlClient } from '../control-client.js';
import { agentArchive } from '../deploy/agent-archive.js';
import { deployToHost, type HostDeployResult } from '../deploy/deploy-host.js';
import { localBundle } from '../deploy/local-bundle.js';
import { deployThroughAgent } from '../deploy/through-agent.js';
import { HostProgress, stderrSink } from '../deploy/progress.js';
import { connectHost, reachedDirectly } from '../deploy/reach.js';
import { ensureAgent, type RemoteAgent } from '../deploy/remote-agent.js';
import { uploadBundle } from './bundles.js';
import { table, type ControlOptions } from './hosts.js';

export interface DeployOptions extends ControlOptions {
  readonly host: string;
  readonly prefix?: string;
  readonly force?: boolean;
  readonly parallel: string;
  readonly inventoryMaxAge: string;
}

/** `a,b,c`; a name that is not a host but a group is replaced by the group's members. */
export async function selectHosts(c: ControlClient, spec: string): Promise<HostInfo[]> {
  const { hosts } = await c.call('ListHosts', {});
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const chosen = new Map<string, HostInfo>();
  for (const name of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const host = byName.get(name);
    const members = hosts.filter((h) => h.access?.groups.includes(name));
    if (host === undefined && members.length === 0)
      throw new InputError(`--host ${name}`, 'neither a host nor a group the server knows (pyrelo hosts list)');
    for (const h of host === undefined ? members : [host]) chosen.set(h.name, h);
  }
  if (chosen.size === 0) throw new InputError('--host', 'no host given');
  for (const h of chosen.values()) {
    if (!reachedDirectly(h) && !h.connected) {
      throw new InputError(
        `host ${h.name}`,
        'has no way to be reached: no agent connected, and no --ssh or --chroot (pyrelo hosts add NAME --ssh ' +
          'USER@HOST)',
      );
    }
  }
  return [...chosen.values()];
}

/** Runs `work` over `items` with at most `limit` running at once, keeping the order of results. */
async function boundedParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InputError(`${flag} ${value}`, 'expected a positive number');
  return n;
}

/** --prefix in its one spelling; a relative one or one with a ".." segment is refused (src/release/prefix-path.ts). */
function givenPrefix(prefix: string | undefined): string | undefined {
  return prefix === undefined ? undefined : checkedInstallPrefix(prefix, '--prefix', (w, p) => new InputError(w, p));
}

function summary(results: readonly HostDeployResult[]): string[] {
  return table([
    ['HOST', 'RESULT', 'RELEASE', 'SENT', 'WHY'],
    ...results.map((r) => [
      r.host,
      r.status,
      r.release,
      `${(r.bytesSent / 1e6).toFixed(1)} MB`,
      r.reason.split('\n')[0]!.slice(0, 120) || '-',
    ]),
  ]);
}

export async function runDeploy(bundlePath: string, o: DeployOptions): Promise<number> {
  const parallel = positive(o.parallel, '--parallel');
  const maxAgeHours = positive(o.inventoryMaxAge, '--inventory-max-age');
  const prefix = givenPrefix(o.prefix);
  const bundle = await localBundle(bundlePath);
  return withControl(o.control, async (c) => {
    const hosts = await selectHosts(c, o.host);
    // The server predicts from its own copy of the bundle: store it first when it is new.
    const { bundles } = await c.call('ListBundles', {});
    if (!bundles.some((b) => b.digest === bundle.digest)) {
      writeErr(`deploy: storing ${bundle.manifest.name} (${bundle.digest.slice(0, 12)}) on the server\n`);
      await uploadBundle(c, bundle.archive);
    }
    // Only hosts reached over SSH or chroot need the agent packed here; connected agents have theirs.
    const agent = hosts.some(reachedDirectly) ? await agentArchive((line) => writeErr(`deploy: ${line}\n`)) : null;
    const sink = stderrSink(hosts.length === 1 ? 1 : parallel);
    const results = await boundedParallel(hosts, parallel, (host) =>
      !reachedDirectly(host)
        ? deployThroughAgent(c, host, bundle, {
            prefix,
            force: o.force === true,
            progress: new HostProgress(host.name, sink),
          })
        : deployToHost(host, bundle, {
            prefix,
            force: o.force === true,
            inventoryMaxAgeMs: maxAgeHours * 3_600_000,
            agent: agent!,
            control: c,
            connect: connectHost,
            progress: new HostProgress(host.name, sink),
          }),
    );
    if (o.json) writeOut(`${JSON.stringify(results, null, 2)}\n`);
    else writeOut(`${summary(results).join('\n')}\n`);
    return results.every((r) => r.status === 'verified') ? 0 : 1;
  });
}

interface HostReleaseOptions extends ControlOptions {
  readonly host: string;
  readonly prefix?: string;
  /** With several recorded prefixes on a host: the one the bundle of this name was deployed to. */
  readonly bundle?: string;
  readonly to?: string;
}

/** An install folder on a host, and the bundle pyrelo last deployed there when it knows. */
interface HostPrefix {
  readonly prefix: string;
  readonly bundle: string | null;
}

/**
 * Where pyrelo installed on a host: --prefix, else the prefix set with `hosts add --prefix`, else
 * every prefix the server's deployment records name for the host (a deploy without --prefix
 * chooses /opt/pyrelo/<bundle> itself), newest first, one per folder.
 */
async function recordedPrefixes(c: ControlClient, host: HostInfo, o: HostReleaseOptions): Promise<HostPrefix[]> {
  const given = o.prefix ?? host.access?.prefix;
  if (given) return [{ prefix: given, bundle: null }];
  const { deployments } = await c.call('ListDeployments', { name: host.name });
  const seen = new Map<string, HostPrefix>();
  // A refused deployment installed nothing (refusal comes before the transfer).
  for (const d of deployments)
    if (d.status !== 'refused' && d.prefix !== '' && !seen.has(d.prefix))
      seen.set(d.prefix, { prefix: d.prefix, bundle: d.bundleName });
  const prefixes = [...seen.values()];
  if (prefixes.length === 0)
    throw new InputError(
      `host ${host.name}`,
      'no install prefix recorded and nothing deployed there yet: give --prefix DIR (the folder holding ' +
        'releases/ and current)',
    );
  if (o.bundle === undefined) return prefixes;
  const chosen = prefixes.filter((p) => p.bundle === o.bundle);
  if (chosen.length === 0)
    throw new InputError(
      `--bundle ${o.bundle}`,
      `never deployed to host ${host.name} (deployed there: ` +
        `${prefixes.map((p) => `${p.bundle} in ${p.prefix}`).join(', ')})`,
    );
  return chosen.slice(0, 1);
}

/**
 * Runs `work` with the agent on each selected host (brought over when needed), in parallel, once
 * per install prefix; `onePrefix` asks for exactly one per host (a rollback), else all of them.
 */
async function onHosts<R>(
  o: HostReleaseOptions,
  onePrefix: boolean,
  work: (remote: RemoteAgent, prefix: string, host: HostInfo, c: ControlClient) => Promise<R>,
): Promise<R[]> {
  o = { ...o, prefix: givenPrefix(o.prefix) };
  return withControl(o.control, async (c) => {
    const hosts = await selectHosts(c, o.host);
    // Every host is checked before the agent is packed (10-15 s when it is not cached).
    const prefixes: HostPrefix[][] = [];
    for (const host of hosts) {
      if (!reachedDirectly(host))
        throw new InputError(
          `host ${host.name}`,
          'releases and rollback need --ssh or --chroot access (agent-only hosts: not yet)',
        );
      const found = await recordedPrefixes(c, host, o);
      if (onePrefix && found.length > 1) {
        throw new InputError(
          `host ${host.name}`,
          `pyrelo deployed there into ${found.length} prefixes: ` +
            `${found.map((p) => `${p.bundle} in ${p.prefix}`).join(', ')}; choose one with --bundle NAME or ` +
            '--prefix DIR',
        );
      }
      prefixes.push(found);
    }
    const agent = await agentArchive((line) => writeErr(`pyrelo: ${line}\n`));
    const perHost = await Promise.all(
      hosts.map(async (host, i) => {
        const transport = await connectHost(host);
        try {
          const remote = (await ensureAgent(transport, agent)).agent;
          const results: R[] = [];
          for (const { prefix } of prefixes[i]!) results.push(await work(remote, prefix, host, c));
          return results;
        } finally {
          await transport.close();
        }
      }),
    );
    return perHost.flat();
  });
}

export async function runReleases(o: HostReleaseOptions): Promise<number> {
  const results = await onHosts(o, false, async (remote, prefix, host) => ({
    host: host.name,
    ...(await remote.require<ReleaseListing>(['release', 'list', '--prefix', prefix])),
  }));
  if (o.json) {
    writeOut(
      `${JSON.stringify(
        results.map((r) => ({ host: r.host, ...r.json })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  const rows: string[][] = [['HOST', 'RELEASE', 'STATUS', 'INSTALLED', '']];
  for (const { host, json } of results) {
    if (json.releases.length === 0) rows.push([host, '-', '-', '-', `nothing in ${json.prefix}`]);
    for (const r of json.releases)
      rows.push([
        host,
        r.id,
        r.status,
        r.installedAt,
        r.isCurrent ? 'current' : r.id === json.previous ? 'previous' : '',
      ]);
  }
  writeOut(`${table(rows).join('\n')}\n`);
  return 0;
}

export async function runRollback(o: HostReleaseOptions): Promise<number> {
  const results = await onHosts(o, true, async (remote, prefix, host, c) => {
    const startedAt = new Date().toISOString();
    const rolled = await remote.require<ReleaseRollbackResult>([
      'release',
      'rollback',
      '--prefix',
      prefix,
      ...(o.to ? ['--to', o.to] : []),
    ]);
    let recorded = '';
    if (rolled.exitCode === 0 && rolled.json.current !== null) {
      // The compatibility database keeps the host's history: a rollback is a deployment of the
      // release it went back to (files verified against its manifest; its smoke run was at install).
      const listing = (await remote.require<ReleaseListing>(['release', 'list', '--prefix', prefix])).json;
      const entry = listing.releases.find((r) => r.id === rolled.json.current);
      if (entry !== undefined && entry.bundleDigest !== '') {
        const deployment = {
          host: host.name,
          bundleDigest: entry.bundleDigest,
          release: entry.id,
          prefix,
          status: 'verified',
          reason: `rollback from ${rolled.json.previous ?? '-'}`,
          bytesSent: 0,
          startedAt,
          finishedAt: new Date().toISOString(),
          bundleName: entry.name,
        };
        recorded = await c.call('RecordDeployment', { deployment, verified: null }).then(
          () => 'recorded',
          (error: Error) => `not recorded: ${error.message}`,
        );
      }
    }
    return { host: host.name, exitCode: rolled.exitCode, json: rolled.json, recorded };
  });
  if (o.json)
    writeOut(
      `${JSON.stringify(
        results.map((r) => ({ host: r.host, ...r.json, recorded: r.recorded })),
        null,
        2,
      )}\n`,
    );
  else
    for (const r of results)
      writeOut(
        `${r.host}: current -> ${r.json.current ?? '(none)'} in ${r.json.prefix} (was ${r.json.previous ?? '-'}` +
          `)${r.recorded ? `; ${r.recorded}` : ''}\n`,
      );
  return results.every((r) => r.exitCode === 0) ? 0 : 1;
}
