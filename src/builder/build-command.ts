// `pyrelo build` as a command: its options parsed as BUILD_OPTIONS declares them, the build run,
// one line about the bundle on stdout. The CLI runs it (client/cli.ts), and so does the build
// process the server starts (main.ts, build-process.ts), with the same output and exit codes:
// 0 built; 1 a step failed (its reason on stderr, nothing written); 2 bad input, in one line.

import { Command, CommanderError } from 'commander';
import { BundleError } from '../bundle/errors.js';
import { escapeControl } from '../common/terminal-text.js';
import { build } from './build.js';
import { buildOptionsFromCommand, declareBuildOptions, type BuildOptions } from './build-options.js';
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
  process.stdout.write(
    `${result.output}: ${m.name}${m.version !== undefined ? ` ${m.version}` : ''}, Python ${m.python.version}, ` +
      `${m.python.packages.length} packages, ${m.grafted.length} grafted libraries, ` +
      `${(installed / 1e6).toFixed(1)} MB installed, ` +
      (m.libc === 'bundle'
        ? `glibc bundled (kernel >= ${m.kernelFloor ?? 'any'})`
        : `glibc >= ${m.glibcFloor ?? 'any'}`) +
      `, built in ${result.seconds.toFixed(1)} s\n`,
  );
  return 0;
}

/** The build process's main (main.ts): ARGV as `pyrelo build` takes it; the exit status. */
export async function buildMain(argv: readonly string[]): Promise<number> {
  const command = declareBuildOptions(new Command('pyrelo build'))
    .action(async (project: string | undefined, parsed: Record<string, unknown>, command: Command) => {
      process.exitCode = await runBuild(buildOptionsFromCommand(project, parsed, command));
    })
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await command.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof BuildInputError || error instanceof BundleError) {
      // As the CLI reports bad input (client/cli.ts): one line, control characters escaped.
      process.stderr.write(`pyrelo: ${escapeControl(error.message)}\n`);
      return 2;
    }
    throw error;
  }
}
