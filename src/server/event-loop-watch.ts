// How long the server's event loop was kept from answering: issue 13 sets a 50 ms bound on what
// agent input may cost it (README "Limits on what agents send"). A histogram of the loop's delays
// (node's monitorEventLoopDelay, sampled every RESOLUTION_MS) is read by the control service's
// Status call (bench/soak reports its longest stall), and every WINDOW_MS a window whose longest
// stall passed STALL_WARN_MS is logged at warn level, so a stall in production is seen in the log.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';

const RESOLUTION_MS = 10;
const WINDOW_MS = 10_000;
/** Issue 13's bound on the event loop. */
export const STALL_WARN_MS = 50;

export interface EventLoopFigures {
  /** Since the last reset. Times between ticks of a RESOLUTION_MS timer (see endWindow). */
  readonly since: string;
  readonly resolutionMs: number;
  readonly maxMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Windows of WINDOW_MS whose longest stall passed STALL_WARN_MS, since the last reset. */
  readonly slowWindows: number;
}

const toMs = (nanoseconds: number): number => (Number.isFinite(nanoseconds) ? nanoseconds / 1e6 : 0);

export class EventLoopWatch {
  private readonly total: IntervalHistogram;
  private readonly window: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private since = new Date();
  private slowWindows = 0;

  constructor(private readonly log: Logger) {
    this.total = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.total.enable();
    this.window.enable();
    this.timer = setInterval(() => this.endWindow(), WINDOW_MS);
    this.timer.unref();
  }

  private endWindow(): void {
    // Node records the time between two ticks of a RESOLUTION_MS timer: a quiet loop reads about
    // RESOLUTION_MS, a loop blocked for B ms between B and B + RESOLUTION_MS. So the figures
    // overstate a stall by at most RESOLUTION_MS, never understate it.
    const maxMs = toMs(this.window.max);
    if (maxMs > STALL_WARN_MS) {
      this.slowWindows += 1;
      this.log.warn(
        { maxMs: Math.round(maxMs), p99Ms: Math.round(toMs(this.window.percentile(99))), windowMs: WINDOW_MS },
        `event loop stalled ${Math.round(maxMs)} ms (more than ${STALL_WARN_MS} ms)`,
      );
    }
    this.window.reset();
  }

  figures(): EventLoopFigures {
    return {
      since: this.since.toISOString(),
      resolutionMs: RESOLUTION_MS,
      maxMs: toMs(this.total.max),
      p50Ms: toMs(this.total.percentile(50)),
      p99Ms: toMs(this.total.percentile(99)),
      slowWindows: this.slowWindows,
    };
  }

  reset(): void {
    this.total.reset();
    this.since = new Date();
    this.slowWindows = 0;
  }

  stop(): void {
    clearInterval(this.timer);
    this.total.disable();
    this.window.disable();
  }
}
