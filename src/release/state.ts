// P/.pyrelo/state.json: what is installed under a prefix and what happened to it. The `current`
// link is the truth about which release runs; this file adds what the link cannot say (the
// previous release, digests, when, the last check). Written by temp + rename, so a killed install
// leaves the old or the new file.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../bundle/atomic-write.js';
import { BundleError } from '../bundle/errors.js';
import type { CheckResult } from '../proto/messages.js';
import type { ReleaseLayout } from './layout.js';

export const STATE_FORMAT = 'pyrelo-releases/1';
const HISTORY_LIMIT = 100;

export type ReleaseStatus = 'verified' | 'failed' | 'installed';

/** The last check of a release, condensed. */
export interface CheckSummary {
  readonly runs: boolean;
  readonly loads: boolean;
  readonly filesChecked: number;
  readonly errors: number;
  readonly smokeExit: number;
  readonly checkedAt: string;
  /** The first error, or the smoke output's first line when only the smoke failed. */
  readonly reason: string;
}

export interface ReleaseRecord {
  readonly id: string;
  readonly name: string;
  readonly bundleDigest: string;
  readonly manifestSha256: string;
  readonly installedAt: string;
  readonly status: ReleaseStatus;
  readonly check: CheckSummary | null;
}

export interface Activation {
  readonly at: string;
  readonly action: 'install' | 'rollback';
  readonly release: string;
  readonly previous: string | null;
  readonly status: ReleaseStatus;
}

export interface ReleaseState {
  readonly format: typeof STATE_FORMAT;
  /** The release `current` pointed to before the last switch. */
  readonly previous: string | null;
  readonly releases: Readonly<Record<string, ReleaseRecord>>;
  /** Newest last, at most HISTORY_LIMIT. */
  readonly activations: readonly Activation[];
}

function emptyState(): ReleaseState {
  return { format: STATE_FORMAT, previous: null, releases: {}, activations: [] };
}

export function summarizeCheck(check: CheckResult): CheckSummary {
  const errors = check.problems.filter((p) => p.severity === 'error');
  const smokeLine = check.smokeOutput.trim().split('\n')[0] ?? '';
  const reason =
    errors[0]?.message ??
    (check.smokeRan && check.smokeExit !== 0
      ? `smoke command exited ${check.smokeExit}${smokeLine ? `: ${smokeLine}` : ''}`
      : '');
  return {
    runs: check.runs,
    loads: check.loads,
    filesChecked: check.filesChecked,
    errors: errors.length,
    smokeExit: check.smokeExit,
    checkedAt: check.checkedAt,
    reason,
  };
}

export function readState(layout: ReleaseLayout): ReleaseState {
  let text: string;
  try {
    text = readFileSync(layout.state, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw error;
  }
  let value: Partial<ReleaseState>;
  try {
    value = JSON.parse(text) as Partial<ReleaseState>;
  } catch (error) {
    throw new BundleError(layout.state, `not JSON: ${(error as Error).message}`);
  }
  if (
    value.format !== STATE_FORMAT ||
    typeof value.releases !== 'object' ||
    value.releases === null ||
    !Array.isArray(value.activations)
  ) {
    throw new BundleError(layout.state, `not a ${STATE_FORMAT} state file`);
  }
  return {
    format: STATE_FORMAT,
    previous: value.previous ?? null,
    releases: value.releases,
    activations: value.activations,
  };
}

export function writeState(layout: ReleaseLayout, state: ReleaseState): void {
  const trimmed = { ...state, activations: state.activations.slice(-HISTORY_LIMIT) };
  writeFileAtomic(layout.state, `${JSON.stringify(trimmed, null, 2)}\n`, 0o644);
}

export function withRelease(state: ReleaseState, record: ReleaseRecord): ReleaseState {
  return { ...state, releases: { ...state.releases, [record.id]: record } };
}

export function withoutReleases(state: ReleaseState, ids: readonly string[]): ReleaseState {
  const releases = { ...state.releases };
  for (const id of ids) delete releases[id];
  return {
    ...state,
    releases,
    previous: state.previous !== null && ids.includes(state.previous) ? null : state.previous,
  };
}
