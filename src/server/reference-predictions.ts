// The reference platforms' verdicts per bundle, as `pyrelo compat` shows them beside the hosts
// (README "Reference platforms"). They are made on the server, which holds every bundle unpacked and
// the catalog (data/platforms/) with its code, so every client sees the same rows without a copy of
// the bundle. Each is made once per bundle, in a worker (reference-worker.ts), and kept: a stored
// bundle never changes, nor does the catalog while the server runs.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PlatformVerdict, ProblemMessage } from '../proto/messages.js';
import type { ReferenceJob, ReferenceReply } from './reference-worker.js';

/** Bundles whose verdicts are kept (twenty platforms' results each, with their first problems). */
const BUNDLES_KEPT = 64;
/** Problems kept per platform, as compat-query.ts keeps per host. */
const PROBLEMS_PER_RESULT = 5;

export class ReferencePredictions {
  /**
   * Made or being made, oldest first. A failed one is kept failed: asking again must not start a
   * worker per question (compat answers in milliseconds, README "bench/fleet").
   */
  private readonly kept = new Map<string, Promise<PlatformVerdict[]>>();
  /** One worker at a time: a burst of compat questions about many bundles must not start a worker each. */
  private last: Promise<unknown> = Promise.resolve();

  /** The verdicts of the bundle `digest` unpacked at `bundleDir`, made on first asking. */
  forBundle(digest: string, bundleDir: string): Promise<PlatformVerdict[]> {
    let verdicts = this.kept.get(digest);
    if (verdicts === undefined) {
      // A bundle known to the database but not unpacked in the store (an imported record) has
      // nothing to predict from: no rows, at once.
      if (!existsSync(bundleDir)) return Promise.resolve([]);
      verdicts = this.last.then(() => runWorker({ bundleDir, digest }));
      this.last = verdicts.catch(() => undefined);
      this.kept.set(digest, verdicts);
      if (this.kept.size > BUNDLES_KEPT) this.kept.delete(this.kept.keys().next().value!);
    }
    return verdicts;
  }
}

/**
 * The problems kept: errors before warnings, and among errors a missing version (GLIBC_2.34, the
 * floors a platform differs by) first, so the first reason shown is the one that decides.
 */
function firstProblems(problems: readonly ProblemMessage[]): ProblemMessage[] {
  const rank = (p: ProblemMessage): number => (p.severity !== 'error' ? 2 : p.kind === 'missing-version' ? 0 : 1);
  return [...problems].sort((a, b) => rank(a) - rank(b)).slice(0, PROBLEMS_PER_RESULT);
}

function runWorker(job: ReferenceJob): Promise<PlatformVerdict[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./reference-worker.js', import.meta.url), {
      workerData: job,
      name: 'pyrelo-reference',
    });
    let answered = false;
    worker.once('message', (reply: ReferenceReply) => {
      answered = true;
      if ('error' in reply) reject(new Error(`reference predictions of ${job.digest.slice(0, 12)}: ${reply.error}`));
      else
        resolve(
          reply.platforms.map((p) =>
            p.result === null ? p : { ...p, result: { ...p.result, problems: firstProblems(p.result.problems) } },
          ),
        );
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (!answered) reject(error);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`reference predictions of ${job.digest.slice(0, 12)}: worker exited ${code}`));
    });
  });
}
