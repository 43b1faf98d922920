// Agents' verified reports, committed in groups: every report received in one turn of the event
// loop is stored in one transaction, so one fsync serves them all instead of one each (an fsync
// took about 5 ms on the loop here, at 80-90 reports a second: README "Benchmarks", bench:soak).
// Durability is unchanged: the server's connection stays synchronous=FULL (db/database.ts), and a
// report is acknowledged only after the commit of its group, so an acknowledged report survives a
// kill -9 and a power cut alike. A report that cannot be stored (its host removed meanwhile) is
// rolled back alone (a savepoint) and fails its own stream; the rest of its group is committed.

import type { CompatDatabase } from './db/database.js';
import type { CheckResult } from '../proto/messages.js';

interface PendingReport {
  readonly host: string;
  readonly result: CheckResult;
  readonly reportId: string;
  resolve(stored: boolean): void;
  reject(error: Error): void;
}

export class ReportCommits {
  private pending: PendingReport[] = [];
  private scheduled = false;
  /** Reports committed, and the commits (groups) that took them. */
  readonly counts = { reports: 0, commits: 0 };

  constructor(private readonly db: CompatDatabase) {}

  /**
   * Stores an agent's report with the others of this turn; resolves once committed (false: a
   * report id seen before, not stored again), rejects when it could not be stored.
   */
  add(host: string, result: CheckResult, reportId: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ host, result, reportId, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After the poll phase that read this turn's messages: they are all in the group.
      setImmediate(() => this.commit());
    });
  }

  private commit(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    let outcomes: ({ stored: boolean } | { error: Error })[];
    try {
      outcomes = this.db.db
        .transaction(() =>
          group.map((r) => {
            try {
              // A transaction inside one is a savepoint: a failing report takes back only its own writes.
              return { stored: this.db.recordVerified(r.host, r.result, { reportId: r.reportId }) };
            } catch (error) {
              return { error: error as Error };
            }
          }),
        )
        .immediate();
    } catch (error) {
      for (const r of group) r.reject(error as Error);
      return;
    }
    this.counts.commits += 1;
    group.forEach((r, i) => {
      const outcome = outcomes[i]!;
      if ('error' in outcome) r.reject(outcome.error);
      else {
        this.counts.reports += 1;
        r.resolve(outcome.stored);
      }
    });
  }
}
