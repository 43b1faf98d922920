// Parses `pyrelo build` arguments as the CLI and the build process declare them (src/builder/build-options.ts),
// PROJECT's [tool.pyrelo] included.

import assert from 'node:assert/strict';
import { Command } from 'commander';
import { buildOptionsFromCommand, declareBuildOptions, type BuildOptions } from '../../src/builder/build-options.js';

/** BuildOptions from ARGV; commander's errors are thrown (and not printed). */
export function parseBuildArgs(argv: string[]): BuildOptions {
  let options: BuildOptions | null = null;
  declareBuildOptions(new Command('build'))
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action((project: string | undefined, parsed: Record<string, unknown>, command: Command) => {
      options = buildOptionsFromCommand(project, parsed, command);
    })
    .parse(argv, { from: 'user' });
  assert.ok(options !== null);
  return options;
}
