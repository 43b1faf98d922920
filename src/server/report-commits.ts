// Agents' verified reports, committed in groups: every report received in one turn of the event
// loop is stored in one transaction, so one fsync serves them all instead of one each (an fsync
// took about 5 ms on the loop here, at 80-90 reports a second: README "Benchmarks", bench:soak).
// Durability is unchanged: the writing connection stays synchronous=FULL (db/database.ts), and a
// report is acknowledged only after the commit of its group, so an acknowledged report survives a
// kill -9 and a power cut alike. A report that cannot be stored (its host removed meanwhile) is
// rolled back alone (a savepoint) and fails its own stream; the rest of its group is committed.
//
// In the server the group's transaction runs on the writer thread (writer-thread.ts), never on the
// event loop: one group at a time is there, and what arrives meanwhile waits to be the next group.

import type { CompatDatabase } from './db/database.js';
import type { CheckResult } from '../proto/messages.js';

/** One report to store. */
export interface ReportToStore {
  readonly host: string;
  readonly result: CheckResult;
  readonly reportId: string;
}

/** Per report of a group: stored (false: a report id seen before), or why it could not be. */
export type ReportOutcome = { readonly stored: boolean } | { readonly error: Error };

/** Commits a group of reports, resolving with one outcome each; rejects when the group failed whole. */
export type CommitReports = (group: readonly ReportToStore[]) => Promise<ReportOutcome[]>;

/** One transaction for the whole group, a savepoint per report; runs synchronously on `db`'s connection. */
export function commitReportGroup(db: CompatDatabase, group: readonly ReportToStore[]): ReportOutcome[] {
  return db.db
    .transaction(() =>
      group.map((r): ReportOutcome => {
        try {
          // A transaction inside one is a savepoint: a failing report takes back only its own writes.
          return { stored: db.recordVerified(r.host, r.result, { reportId: r.reportId }) };
        } catch (error) {
          return { error: error as Error };
        }
      }),
    )
    .immediate();
}

interface PendingReport extends ReportToStore {
  resolve(stored: boolean): void;
  reject(error: Error): void;
}

export class ReportCommits {
  private pending: PendingReport[] = [];
  private scheduled = false;
  /** A group is being committed: the next waits for it. */
  private committing = false;
  private readonly commitGroup: CommitReports;
  /** Reports committed, and the commits (groups) that took them. */
  readonly counts = { reports: 0, commits: 0 };

  /** @param target the database to commit on, synchronously (tests), or where groups are sent */
  constructor(target: CompatDatabase | CommitReports) {
    this.commitGroup =
      typeof target === 'function'
        ? target
        : (group) => new Promise((resolve) => resolve(commitReportGroup(target, group)));
  }

  /**
   * Stores an agent's report with the others of this turn; resolves once committed (false: a
   * report id seen before, not stored again), rejects when it could not be stored.
   */
  add(host: string, result: CheckResult, reportId: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ host, result, reportId, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.committing || this.pending.length === 0) return;
    this.scheduled = true;
    // After the poll phase that read this turn's messages: they are all in the group.
    setImmediate(() => this.commit());
  }

  private commit(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    this.committing = true;
    // Only the reports' data: the group may be posted to another thread.
    this.commitGroup(group.map(({ host, result, reportId }) => ({ host, result, reportId })))
      .then(
        (outcomes) => {
          this.counts.commits += 1;
          group.forEach((r, i) => {
            const outcome = outcomes[i]!;
            if ('error' in outcome) r.reject(outcome.error);
            else {
              this.counts.reports += 1;
              r.resolve(outcome.stored);
            }
          });
        },
        (error: Error) => {
          for (const r of group) r.reject(error);
        },
      )
      .finally(() => {
        this.committing = false;
        this.schedule();
      });
  }
}
