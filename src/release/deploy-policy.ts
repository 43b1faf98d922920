// The deploy policy both routes follow (issue 14): over SSH or chroot from the CLI
// (client/deploy/deploy-host.ts) and through a connected agent from the server
// (server/control-service.ts, Install). One place says which errors a person is shown, when a
// prediction refuses a deploy, and what a deployment record holds, so the two routes cannot drift.
//
// It lives in release/ rather than compat/ because the record names the release by releaseIdFor
// (release/layout.ts), and compat sits below release.
//
// Not here: the reason a verified run failed. The routes word it differently and their words are
// kept: over SSH the install's own reason, else the first errors joined (the agent's release
// install says why it switched back); through the agent the first error alone, else
// "smoke command exited N" (the agent's report carries a check result, not the install's reason).

import type { CheckResult, Deployment, DeploymentStatus } from '../proto/messages.js';
import { releaseIdFor } from './layout.js';

/** How many of a check's errors a deploy shows: the first few say why; the rest repeat them. */
const SHOWN_ERRORS = 3;

/** The messages of the first `n` errors of a check result, in the loader's words. */
export function firstErrors(result: CheckResult, n = SHOWN_ERRORS): string[] {
  return result.problems
    .filter((p) => p.severity === 'error')
    .slice(0, n)
    .map((p) => p.message);
}

/**
 * Why a deploy is refused before anything is sent, or null when it goes ahead: a prediction that
 * says the bundle will not run refuses it unless --force. No prediction (no inventory) refuses
 * nothing: the route decides what that means.
 */
export function refusalReason(predicted: CheckResult | null, force: boolean): string | null {
  if (predicted === null || predicted.loads || force) return null;
  return `predicted not to run: ${firstErrors(predicted).join('; ')} (--force deploys anyway)`;
}

/** What a deploy knows when it ends: the record is built from this, finished now. */
export interface DeploymentOutcome {
  readonly host: string;
  readonly bundle: { readonly digest: string; readonly name: string };
  readonly prefix: string;
  readonly status: DeploymentStatus;
  readonly reason: string;
  /** Payload bytes sent to the host (an upper bound through the agent, whose fetch resumes). */
  readonly bytesSent: number;
  /** ISO time the deploy started. */
  readonly startedAt: string;
}

/** The deployment record stored in the compatibility database (RecordDeployment, Install). */
export function deploymentRecord(o: DeploymentOutcome): Deployment {
  return {
    host: o.host,
    bundleDigest: o.bundle.digest,
    bundleName: o.bundle.name,
    release: releaseIdFor(o.bundle.name, o.bundle.digest),
    prefix: o.prefix,
    status: o.status,
    reason: o.reason,
    bytesSent: o.bytesSent,
    startedAt: o.startedAt,
    finishedAt: new Date().toISOString(),
  };
}
