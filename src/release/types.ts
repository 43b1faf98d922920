// What the `pyrelo agent release …` commands print with --json: the contract between the agent on
// a host and the deploy orchestrator on the build machine (src/client/deploy/).

import type { VerifyProblem } from '../bundle/file-list.js';
import type { CheckResult } from '../proto/messages.js';
import type { ReleaseRecord } from './state.js';

/** `release install`. Exit 0 verified, 1 failed (rolled back), 2 refused input. */
export interface ReleaseInstallResult {
  readonly prefix: string;
  readonly release: string;
  /** What `current` named before this install (for a redeploy of current: the one before it). */
  readonly previous: string | null;
  /** What `current` names now: the new release, or after a rollback the previous one (null if none). */
  readonly current: string | null;
  /** The release folder was already there and verified: nothing was extracted. */
  readonly reused: boolean;
  readonly status: 'verified' | 'failed';
  readonly rolledBack: boolean;
  /** Why it failed: the first loader error, or the smoke command's exit and first line. */
  readonly reason?: string;
  readonly check: CheckResult;
}

/**
 * A release as `release list` shows it: its record without the check summary ('' digest for a
 * folder the state does not know: an install killed before it recorded it).
 */
export type ReleaseListEntry = Omit<ReleaseRecord, 'check'> & { readonly isCurrent: boolean };

/** `release list`. Releases oldest first. */
export interface ReleaseListing {
  readonly prefix: string;
  readonly current: string | null;
  readonly previous: string | null;
  readonly releases: readonly ReleaseListEntry[];
  /** Temporary entries of interrupted installs, relative to the prefix (removed by the next install). */
  readonly leftovers: readonly string[];
}

/** `release rollback`. Exit 0 switched, 1 the target did not verify (nothing switched), 2 nothing to roll back to. */
export interface ReleaseRollbackResult {
  readonly prefix: string;
  /** What `current` names now. */
  readonly current: string | null;
  /** What it named before the rollback. */
  readonly previous: string | null;
  readonly ok: boolean;
  readonly problems: readonly VerifyProblem[];
}

/** `release verify`. Exit 0 ok, 1 problems. */
export interface ReleaseVerification {
  readonly release: string;
  readonly ok: boolean;
  readonly problems: readonly VerifyProblem[];
}
