// The answers to "on which distros and hosts does this bundle run, and if not, why not": a verdict
// per host (verified run first, then the prediction from the stored inventory), rolled up per
// distro with the first reasons in the loader's own words.

import { sameVerdict } from '../compat/check-bundle.js';
import { blockingRequirement } from '../compat/blocking-requirement.js';
import type { CompatDatabase, StoredBundle } from './db/database.js';
import type {
  Blocker,
  BundleInfo,
  CheckResult,
  CompatResponse,
  DistroBundle,
  DistroVerdict,
  HostVerdict,
  Verdict,
} from '../proto/messages.js';

const REASONS_PER_DISTRO = 5;
const PROBLEMS_PER_RESULT = 5;
/** Hosts named per blocker. */
const BLOCKED_HOSTS_NAMED = 5;

/** Groups the failing hosts by the requirement that decides their verdict, most hosts first. */
class Blockers {
  private readonly byRequirement = new Map<string, Blocker & { byDistro: Map<string, number> }>();

  add(host: string, distro: string, result: CheckResult | null): void {
    const decided = result === null ? null : blockingRequirement(result);
    const requirement = decided?.requirement ?? 'no reason recorded';
    const entry = this.byRequirement.get(requirement) ?? {
      requirement,
      kind: decided?.kind ?? '',
      hosts: 0,
      distros: [],
      exampleHosts: [],
      byDistro: new Map<string, number>(),
    };
    entry.hosts += 1;
    entry.byDistro.set(distro, (entry.byDistro.get(distro) ?? 0) + 1);
    if (entry.exampleHosts.length < BLOCKED_HOSTS_NAMED) entry.exampleHosts.push(host);
    this.byRequirement.set(requirement, entry);
  }

  list(): Blocker[] {
    const byCount = <T extends { hosts: number }>(a: T, b: T, name: (x: T) => string): number =>
      b.hosts - a.hosts || name(a).localeCompare(name(b), 'en', { numeric: true });
    return [...this.byRequirement.values()]
      .map(({ byDistro, ...blocker }) => ({
        ...blocker,
        distros: [...byDistro]
          .map(([distro, hosts]) => ({ distro, hosts }))
          .sort((a, b) => byCount(a, b, (x) => x.distro)),
      }))
      .sort((a, b) => byCount(a, b, (x) => x.requirement));
  }
}

/** A stored bundle as the control service shows it: without the database id, archive name and manifest. */
export function bundleInfo(bundle: StoredBundle): BundleInfo {
  const { id: _id, archiveName: _a, manifest: _m, ...info } = bundle;
  return info;
}

export function verdictOf(predicted: CheckResult | null, verified: CheckResult | null): Verdict {
  if (verified !== null) return verified.runs ? 'runs' : 'fails';
  if (predicted !== null) return predicted.runs ? 'predicted' : 'fails';
  return 'unknown';
}

export function distroName(distroId: string, distroVersion: string): string {
  return distroId === '' ? 'unknown' : `${distroId}:${distroVersion || '?'}`;
}

export function compatOf(
  db: CompatDatabase,
  bundle: StoredBundle,
  isConnected: (host: string) => boolean,
): Omit<CompatResponse, 'others' | 'platforms'> {
  const hosts: HostVerdict[] = [];
  const distros = new Map<string, DistroVerdict>();
  const blockers = new Blockers();
  let running = 0;
  let judged = 0;
  for (const { host, predicted, verified } of db.resultsForBundle(bundle, PROBLEMS_PER_RESULT, isConnected)) {
    const verdict = verdictOf(predicted, verified);
    const { id: _id, inventoryId: _i, ...hostInfo } = host;
    const result = verified ?? predicted;
    hosts.push({
      host: hostInfo,
      verdict,
      result,
      predictionAgrees: predicted !== null && verified !== null && sameVerdict(predicted, verified),
    });
    const name = distroName(host.distroId, host.distroVersion);
    if (verdict !== 'unknown') judged += 1;
    if (verdict === 'runs' || verdict === 'predicted') running += 1;
    if (verdict === 'fails') blockers.add(host.name, name, result);
    const d = distros.get(name) ?? { distro: name, runs: 0, predicted: 0, fails: 0, unknown: 0, reasons: [] };
    d[
      verdict === 'runs' ? 'runs' : verdict === 'predicted' ? 'predicted' : verdict === 'fails' ? 'fails' : 'unknown'
    ] += 1;
    if (verdict === 'fails' && result !== null) {
      for (const p of result.problems) {
        if (p.severity !== 'error' || d.reasons.length >= REASONS_PER_DISTRO) continue;
        if (!d.reasons.includes(p.message)) d.reasons.push(p.message);
      }
      if (result.loads && result.smokeRan && result.smokeExit !== 0 && d.reasons.length < REASONS_PER_DISTRO) {
        d.reasons.push(`smoke command exited ${result.smokeExit}: ${result.smokeOutput.split('\n')[0] ?? ''}`);
      }
    }
    distros.set(name, d);
  }
  return {
    bundle: bundleInfo(bundle),
    distros: [...distros.values()].sort((a, b) => a.distro.localeCompare(b.distro, 'en', { numeric: true })),
    hosts,
    hostsRunning: running,
    hostsJudged: judged,
    blockers: blockers.list(),
  };
}

/** A distro as compat --distro names it: ID:VERSION_ID, optionally /ARCH. */
export interface DistroName {
  readonly id: string;
  readonly version: string;
  /** '' for any architecture. */
  readonly arch: string;
}

export function parseDistroName(distro: string): DistroName {
  const slash = distro.indexOf('/');
  const name = slash < 0 ? distro : distro.slice(0, slash);
  const colon = name.indexOf(':');
  return {
    id: colon < 0 ? name : name.slice(0, colon),
    version: colon < 0 ? '' : name.slice(colon + 1),
    arch: slash < 0 ? '' : distro.slice(slash + 1),
  };
}

/** The bundles that run (verified on some host there) or are predicted to run on a distro's hosts. */
export function bundlesForDistro(db: CompatDatabase, distro: DistroName): DistroBundle[] {
  // Built here, so its bundle is known present (a received DistroBundle's may be null).
  const out: (DistroBundle & { bundle: BundleInfo })[] = [];
  for (const row of db.bundlesForDistro(distro.id, distro.version, distro.arch)) {
    if (row.verified === 0 && row.predicted === 0) continue;
    const bundle = db.bundleById(row.bundleId);
    if (bundle === null) continue;
    out.push({
      bundle: bundleInfo(bundle),
      verdict: row.verified > 0 ? 'runs' : 'predicted',
      hosts: Math.max(row.verified, row.predicted),
    });
  }
  return out.sort((a, b) => a.bundle.name.localeCompare(b.bundle.name));
}
