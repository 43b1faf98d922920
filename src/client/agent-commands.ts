// The `pyrelo agent …` subcommands, on their own so that the packed agent (src/agent/main.ts,
// bundled by `pyrelo agent pack`) registers them without importing server code (better-sqlite3).

import type { Command } from 'commander';

/** The implementations load on use: `pyrelo check` should not pay for gRPC at start-up. */
const commands = () => import('./commands/agent.js');

export function registerAgentCommands(agent: Command): void {
  const agentDir = (c: Command): Command => c.option('--dir <dir>', 'agent state folder ($PYRELO_AGENT_DIR; default ~/.local/share/pyrelo/agent)');
  agentDir(agent.command('run', { isDefault: true }).description('connect to the server and carry out its orders'))
    .requiredOption('--server <addr>', 'HOST:PORT of the server\'s agent listener')
    .option('--heartbeat <seconds>', 'heartbeat interval', '15')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (options) => { process.exitCode = await (await commands()).runAgentDaemon(options); });
  agentDir(agent.command('enroll').description('get a client certificate with a one-time token'))
    .requiredOption('--server <addr>', 'HOST:PORT of the server\'s enrollment listener')
    .requiredOption('--token <token>', 'one-time token (pyrelo hosts token HOST on the server)')
    .requiredOption('--ca <file>', 'the server\'s CA certificate')
    .action(async (options) => { process.exitCode = await (await commands()).runAgentEnroll(options); });
  agentDir(agent.command('inventory').description('this host\'s inventory')).option('--json', 'print it as JSON')
    .action(async (options) => { process.exitCode = (await commands()).runAgentInventory(options); });
  agentDir(agent.command('check').description('check a bundle (folder or archive) on this host').argument('<bundle>')).option('--json', 'print JSON')
    .action(async (bundle: string, options) => { process.exitCode = await (await commands()).runAgentCheck(bundle, options); });
  agentDir(agent.command('install').description('unpack a bundle archive here, check it and run its smoke command').argument('<bundle>')).option('--json', 'print JSON')
    .action(async (bundle: string, options) => { process.exitCode = await (await commands()).runAgentInstall(bundle, options); });
}
