// Progress lines on stderr: one when a step starts, one with its summary and time when it ends.
// The summaries (never the times) also go into the manifest.

import type { BuildStep } from '../bundle/manifest.js';

export class Progress {
  readonly steps: BuildStep[] = [];
  private readonly started = Date.now();

  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  note(line: string): void {
    this.write(`pyrelo build:     ${line}`);
  }

  /** Runs one named step; its result's summary is recorded. */
  async step<T extends { summary: string }>(name: string, run: () => Promise<T> | T): Promise<T> {
    const t0 = Date.now();
    this.write(`pyrelo build: [${name}] ...`);
    const result = await run();
    this.steps.push({ name, summary: result.summary });
    this.write(`pyrelo build: [${name}] ${result.summary} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return result;
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
