// The real `pyrelo` command line in a child process, for the deploy tests: its stdout is the
// command's own, not the test runner's, and a deploy may take minutes.

import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

export interface CliRun {
  readonly status: number;
  /** stdout and stderr interleaved, as a user sees them. */
  readonly output: string;
  readonly stdout: string;
}

export async function pyreloCli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliRun> {
  const r = await execa(process.execPath, [MAIN, ...args], {
    reject: false,
    all: true,
    timeout: 600_000,
    ...(env === undefined ? {} : { env }),
  });
  return { status: r.exitCode ?? 255, output: r.all ?? '', stdout: r.stdout };
}
