// `pyrelo build` as a command: the build run, one line about the bundle on stdout. Exit codes:
// 0 built; 1 a step failed (its reason on stderr, nothing written); bad input is thrown (exit 2).

import { BundleError } from '../bundle/errors.js';
import { build } from './build.js';
import type { BuildOptions } from './build-options.js';
import { BuildInputError } from './errors.js';

export async function runBuild(options: BuildOptions): Promise<number> {
  let result;
  try {
    result = await build(options);
  } catch (error) {
    if (error instanceof BuildInputError || error instanceof BundleError) throw error;
    // Anything else is a failed step: say which and why, in one message; nothing was written.
    process.stderr.write(`pyrelo build: failed: ${(error as Error).message}\n`);
    return 1;
  }
  const m = result.manifest;
  const installed = m.files.reduce((a, f) => a + (f.size ?? 0), 0);
  process.stdout.write(`${result.output}: ${m.name}${m.version !== undefined ? ` ${m.version}` : ''}, Python ${m.python.version}, ${m.python.packages.length} packages, ${m.grafted.length} grafted libraries, `
    + `${(installed / 1e6).toFixed(1)} MB installed, ${m.libc === 'bundle' ? `glibc bundled (kernel >= ${m.kernelFloor ?? 'any'})` : `glibc >= ${m.glibcFloor ?? 'any'}`}, built in ${result.seconds.toFixed(1)} s\n`);
  return 0;
}
