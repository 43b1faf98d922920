#!/usr/bin/env node
// Entry point of the packed agent (`pyrelo agent pack` bundles this file with esbuild into
// agent.mjs): only the `agent` commands, so nothing of the server (better-sqlite3, a native
// module) is imported. Exit codes as `pyrelo`: 0 good, 1 problems, 2 usage error or bad input.

import { isMainThread } from 'node:worker_threads';
import { Command, CommanderError } from 'commander';
import { registerAgentCommands } from './cli/register.js';
import { escapeControl } from '../common/terminal-text.js';
import { isUserInputError } from '../common/user-input-error.js';

export async function agentMain(argv: readonly string[]): Promise<number> {
  const program = new Command();
  program
    .name('pyrelo')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerAgentCommands(
    program
      .command('agent')
      .description('the agent: a daemon connected to the server, or one-shot checks on this host'),
  );
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (isUserInputError(error)) {
      process.stderr.write(`pyrelo: ${escapeControl(error.message)}\n`);
      return 2;
    }
    throw error;
  }
}

// The order worker runs this same file in the packed agent (agent/order-worker.ts): only the main
// thread is the CLI; a worker thread starts the order worker's body, which esbuild initialises
// only when it is imported.
if (isMainThread) process.exitCode = await agentMain(process.argv.slice(2));
else await import('./order-worker.js');
