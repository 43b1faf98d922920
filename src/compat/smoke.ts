// The smoke command of an installed bundle: the manifest's `smoke` (`pyrelo build --smoke`, an argv
// whose program is relative to the bundle root) when it declares one, else the bundle's interpreter
// importing its standard library. A bundle "runs" on a host only when this succeeds there.

import { join } from 'node:path';
import { execa } from 'execa';
import { readManifest } from '../bundle/manifest.js';

export interface SmokeResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly output: string;
}

const OUTPUT_LIMIT = 2000;

export function smokeCommand(bundleDir: string): string[] {
  const manifest = readManifest(bundleDir);
  if (manifest.smoke !== undefined) {
    // Validated: a non-empty list whose program is a file of the bundle.
    const [program, ...args] = manifest.smoke;
    return [join(bundleDir, program!), ...args];
  }
  return [
    join(bundleDir, manifest.python.executable),
    '-c',
    'import sys, encodings, json, ssl; print(sys.version.split()[0])',
  ];
}

/**
 * A clean environment: the bundle must not lean on this machine's PYTHONPATH or LD_LIBRARY_PATH.
 * `pyrelo build --smoke` runs the command in the same one (src/builder/build-smoke.ts).
 */
export function smokeEnvironment(home: string): Record<string, string> {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: home };
}

export async function runSmoke(bundleDir: string, timeoutMs = 60_000): Promise<SmokeResult> {
  const argv = smokeCommand(bundleDir);
  const result = await execa(argv[0]!, argv.slice(1), {
    reject: false,
    all: true,
    timeout: timeoutMs,
    cwd: bundleDir,
    extendEnv: false,
    env: smokeEnvironment(bundleDir),
  });
  const output = (result.all ?? '').toString();
  return {
    argv,
    exitCode: result.exitCode ?? (result.timedOut ? 124 : 128),
    output: output.length > OUTPUT_LIMIT ? `${output.slice(0, OUTPUT_LIMIT)}…` : output,
  };
}
