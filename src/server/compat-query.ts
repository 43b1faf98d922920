// The answers to "on which distros and hosts does this bundle run, and if not, why not": a verdict
// per host (verified run first, then the prediction from the stored inventory), rolled up per
// distro with the first reasons in the loader's own words.

import { sameVerdict } from '../compat/check-bundle.js';
import type { CompatDatabase, StoredBundle } from './db/database.js';
import type {
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
  };
}

/** The bundles that run (verified on some host there) or are predicted to run on a distro. */
export function bundlesForDistro(db: CompatDatabase, distro: string): DistroBundle[] {
  const colon = distro.indexOf(':');
  const id = colon < 0 ? distro : distro.slice(0, colon);
  const version = colon < 0 ? '' : distro.slice(colon + 1);
  // Built here, so its bundle is known present (a received DistroBundle's may be null).
  const out: (DistroBundle & { bundle: BundleInfo })[] = [];
  for (const row of db.bundlesForDistro(id, version)) {
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
