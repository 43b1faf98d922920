// Progress of a deploy on stderr, one reporter per host: a line when a step starts and when it
// ends (with its time), and for transfers a bar. On a terminal with a single host the bar redraws
// in place; otherwise (several hosts in parallel, a log file) it prints a line at every quarter,
// so parallel hosts never garble each other's lines.

import { escapeControl } from '../../common/terminal-text.js';

export type StepName = 'connect' | 'agent' | 'inventory' | 'predict' | 'transfer' | 'install' | 'record';

export interface ProgressSink {
  line(text: string): void;
  /** Redraws the current line in place; only called when `inPlace` is true. */
  redraw(text: string): void;
  readonly inPlace: boolean;
}

export function stderrSink(parallelHosts: number): ProgressSink {
  const inPlace = parallelHosts === 1 && process.stderr.isTTY === true;
  return {
    inPlace,
    // The frame's own escapes around the text, whose control characters are escaped.
    line: (text) => process.stderr.write(`${inPlace ? '\r\x1b[K' : ''}${escapeControl(text)}\n`),
    redraw: (text) => process.stderr.write(`\r\x1b[K${escapeControl(text)}`),
  };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export class HostProgress {
  private stepStarted = 0;
  private lastQuarter = -1;
  private barStarted = 0;

  constructor(
    private readonly host: string,
    private readonly sink: ProgressSink,
  ) {}

  start(step: StepName, what: string): void {
    this.stepStarted = performance.now();
    this.sink.line(`${this.host} [${step}] ${what}`);
  }

  done(step: StepName, summary: string): void {
    this.sink.line(
      `${this.host} [${step}] ${summary} (${((performance.now() - this.stepStarted) / 1000).toFixed(1)} s)`,
    );
  }

  note(text: string): void {
    this.sink.line(`${this.host}         ${text}`);
  }

  /** A transfer's progress: `done` of `total` bytes are on the host. */
  bytes(what: string, done: number, total: number): void {
    if (this.barStarted === 0) this.barStarted = performance.now();
    const fraction = total === 0 ? 1 : done / total;
    const seconds = (performance.now() - this.barStarted) / 1000;
    const rate = seconds > 0.2 ? `, ${mb(done / seconds)}/s` : '';
    if (this.sink.inPlace) {
      const width = 30;
      const filled = Math.round(fraction * width);
      this.sink.redraw(
        `${this.host} [transfer] ${what} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
          `${(fraction * 100).toFixed(0)}% ${mb(done)}/${mb(total)}${rate}`,
      );
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.sink.line(
        `${this.host} [transfer] ${what}: ${(fraction * 100).toFixed(0)}% (${mb(done)} of ${mb(total)}${rate})`,
      );
    }
  }

  resetBar(): void {
    this.lastQuarter = -1;
    this.barStarted = 0;
  }
}
