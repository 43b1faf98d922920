// Starting a build as a child process (main.ts): the server's way to build (server/bundle-builds.ts).
// The entry script is found next to this file, in the same room, so the dependency is this import.

import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

interface BuildProcessOptions {
  readonly reject: false;
  readonly all: true;
  readonly buffer: false;
  readonly cancelSignal: AbortSignal;
}

const BUILD_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

/** Runs `pyrelo build ARGS` in a new node process; stdout and stderr interleaved as `all`, not buffered. */
export function startBuildProcess(args: readonly string[], signal: AbortSignal): ResultPromise<BuildProcessOptions> {
  const options: BuildProcessOptions = { reject: false, all: true, buffer: false, cancelSignal: signal };
  return execa(process.execPath, [BUILD_ENTRY, ...args], options);
}
