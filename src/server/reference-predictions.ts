// The reference platforms' verdicts per bundle, as `pyrelo compat` shows them beside the hosts
// (README "Reference platforms"). They are made on the server, which holds every bundle unpacked and
// the catalog (data/platforms/) with its code, so every client sees the same rows without a copy of
// the bundle. Each is made once per bundle, in a worker (reference-worker.ts), and kept: a stored
// bundle never changes, nor does the catalog while the server runs.
//
// The worker is bounded like the server's other workers: a deadline and a heap cap (a bundle of
// unusual shape must not hold compat's answer or the server's memory), and the server's stop ends
// it. A failure is kept for a while, so that a burst of compat questions does not start a worker
// each, and then tried again: a deadline missed on a busy server is not a verdict about the bundle.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PlatformVerdict, ProblemMessage } from '../proto/messages.js';
import type { ReferenceJob, ReferenceReply } from './reference-worker.js';

/** Bundles whose verdicts are kept (twenty platforms' results each, with their first problems). */
const BUNDLES_KEPT = 64;
/** Problems kept per platform, as compat-query.ts keeps per host. */
const PROBLEMS_PER_RESULT = 5;

export interface ReferenceLimits {
  /** A worker that has not answered by then is ended and its bundle's rows are not shown. */
  readonly seconds: number;
  /** The worker's heap, in MiB (a bundle's ELF files are read one at a time; 20 platforms take ~100 MiB). */
  readonly memoryMb: number;
  /** A failed bundle is tried again on the first question after this many seconds. */
  readonly retrySeconds: number;
}

export const DEFAULT_REFERENCE_LIMITS: ReferenceLimits = { seconds: 120, memoryMb: 512, retrySeconds: 600 };

interface Kept {
  readonly verdicts: Promise<PlatformVerdict[]>;
  /** When it failed (ms since the epoch), or null while it is made or when it succeeded. */
  failedAt: number | null;
  /** The verdicts once made, for readers that must not wait (the dashboard's matrix). */
  made: PlatformVerdict[] | null;
}

export class ReferencePredictions {
  /** Made, being made or failed, oldest first. */
  private readonly kept = new Map<string, Kept>();
  /** One worker at a time: a burst of compat questions about many bundles must not start a worker each. */
  private last: Promise<unknown> = Promise.resolve();
  /** The running worker, ended by close(). */
  private running: Worker | null = null;
  private closed = false;

  constructor(
    private readonly limits: ReferenceLimits = DEFAULT_REFERENCE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The verdicts of the bundle `digest` unpacked at `bundleDir`, made on first asking: on every
   * platform's first architecture, or, given `platform` ("debian:12/aarch64"), on that one only.
   */
  forBundle(digest: string, bundleDir: string, platform?: string): Promise<PlatformVerdict[]> {
    const key = platform === undefined ? digest : `${digest} ${platform}`;
    const known = this.kept.get(key);
    if (
      known !== undefined &&
      (known.failedAt === null || this.now() - known.failedAt < this.limits.retrySeconds * 1000)
    )
      return known.verdicts;
    // A bundle known to the database but not unpacked in the store (an imported record) has
    // nothing to predict from: no rows, at once.
    if (!existsSync(bundleDir)) return Promise.resolve([]);
    if (this.closed) return Promise.reject(new Error('the server is stopping'));
    const job: ReferenceJob = platform === undefined ? { bundleDir, digest } : { bundleDir, digest, platform };
    const entry: Kept = { verdicts: this.last.then(() => this.runWorker(job)), failedAt: null, made: null };
    entry.verdicts.then(
      (verdicts) => {
        entry.made = verdicts;
      },
      () => {
        entry.failedAt = this.now();
      },
    );
    this.last = entry.verdicts.catch(() => undefined);
    this.kept.delete(key);
    this.kept.set(key, entry);
    if (this.kept.size > BUNDLES_KEPT) this.kept.delete(this.kept.keys().next().value!);
    return entry.verdicts;
  }

  /**
   * The verdicts of bundle `digest` if they are made and kept, without starting anything: the
   * dashboard's matrix shows what is ready rather than start a worker per bundle.
   */
  madeFor(digest: string): PlatformVerdict[] | null {
    return this.kept.get(digest)?.made ?? null;
  }

  /** Ends the running worker (its question is answered with an error) and starts no other. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.running;
    if (worker !== null) await worker.terminate();
  }

  private runWorker(job: ReferenceJob): Promise<PlatformVerdict[]> {
    const which = `reference predictions of ${job.digest.slice(0, 12)}`;
    if (this.closed) return Promise.reject(new Error(`${which}: the server is stopping`));
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./reference-worker.js', import.meta.url), {
        workerData: job,
        name: 'pyrelo-reference',
        resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb, maxYoungGenerationSizeMb: 64 },
      });
      this.running = worker;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (this.running === worker) this.running = null;
        outcome();
        void worker.terminate();
      };
      const deadline = setTimeout(
        () => settle(() => reject(new Error(`${which}: no answer within ${this.limits.seconds} s`))),
        this.limits.seconds * 1000,
      );
      worker.once('message', (reply: ReferenceReply) =>
        settle(() => {
          if ('error' in reply) reject(new Error(`${which}: ${reply.error}`));
          else
            resolve(
              reply.platforms.map((p) =>
                p.result === null ? p : { ...p, result: { ...p.result, problems: firstProblems(p.result.problems) } },
              ),
            );
        }),
      );
      worker.once('error', (error) => settle(() => reject(new Error(`${which}: ${error.message}`))));
      worker.once('exit', (code) => settle(() => reject(new Error(`${which}: worker exited ${code}`))));
    });
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
