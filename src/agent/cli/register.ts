// The `pyrelo agent …` subcommands, on their own so that the packed agent (src/agent/main.ts,
// bundled by `pyrelo agent pack`) registers them without importing server code (better-sqlite3).

import { Option, type Command } from 'commander';

/** The implementations load on use: `pyrelo check` should not pay for gRPC at start-up. */
const commands = () => import('./agent-commands.js');
const releaseCommands = () => import('./release-commands.js');

export function registerAgentCommands(agent: Command): void {
  const agentDir = (c: Command): Command =>
    c.option('--dir <dir>', 'agent state folder ($PYRELO_AGENT_DIR; default ~/.local/share/pyrelo/agent)');
  agentDir(agent.command('run', { isDefault: true }).description('connect to the server and carry out its orders'))
    .requiredOption('--server <addr>', "HOST:PORT of the server's agent listener")
    .option('--heartbeat <seconds>', 'heartbeat interval', '15')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (options) => {
      process.exitCode = await (await commands()).runAgentDaemon(options);
    });
  agentDir(agent.command('enroll').description('get a client certificate with a one-time token'))
    .requiredOption('--server <addr>', "HOST:PORT of the server's enrollment listener")
    .option(
      '--token-file <file>',
      'a file holding the one-time token (pyrelo hosts token HOST on the server); - reads it from stdin',
    )
    .addOption(
      new Option(
        '--token <token>',
        'the token itself: visible to every local user in the process list while enrolling; prefer --token-file',
      ).conflicts('tokenFile'),
    )
    .requiredOption('--ca <file>', "the server's CA certificate")
    .action(async (options) => {
      process.exitCode = await (await commands()).runAgentEnroll(options);
    });
  agentDir(agent.command('inventory').description("this host's inventory"))
    .option('--json', 'print it as JSON')
    .action(async (options) => {
      process.exitCode = (await commands()).runAgentInventory(options);
    });
  agentDir(agent.command('check').description('check a bundle (folder or archive) on this host').argument('<bundle>'))
    .option('--json', 'print JSON')
    .action(async (bundle: string, options) => {
      process.exitCode = await (await commands()).runAgentCheck(bundle, options);
    });
  agentDir(
    agent
      .command('install')
      .description('unpack a bundle archive here, check it and run its smoke command')
      .argument('<bundle>'),
  )
    .option('--json', 'print JSON')
    .action(async (bundle: string, options) => {
      process.exitCode = await (await commands()).runAgentInstall(bundle, options);
    });
  registerReleaseCommands(
    agent
      .command('release')
      .description('releases of a bundle under a prefix: install, switch, roll back (the host side of pyrelo deploy)'),
  );
}

function registerReleaseCommands(release: Command): void {
  const prefix = (c: Command): Command =>
    c
      .requiredOption('--prefix <dir>', 'the folder holding releases/, current and .pyrelo/')
      .option('--json', 'print JSON');
  prefix(
    release
      .command('install')
      .description(
        'install a bundle archive as a release, switch current to it, check and smoke-run it; switch back if ' +
          'it does not run',
      ),
  )
    .option('--archive <file>', 'the archive (full, or a delta with --base); omitted when the release is already there')
    .option('--sha256 <hex>', 'sha256 of the archive file (a mismatch deletes it)')
    .requiredOption('--bundle-digest <hex>', 'sha256 of the full bundle archive (names the release)')
    .requiredOption('--manifest-sha256 <hex>', "sha256 of the bundle's pyrelo.json")
    .option('--base <id>', 'the release a delta archive was made against')
    .action(async (options) => {
      process.exitCode = await (await releaseCommands()).runReleaseInstall(options);
    });
  prefix(
    release.command('list').description('the releases under the prefix, which is current and which previous'),
  ).action(async (options) => {
    process.exitCode = (await releaseCommands()).runReleaseList(options);
  });
  prefix(
    release
      .command('rollback')
      .description('switch current back to the previous release (or --to ID) after verifying its files'),
  )
    .option('--to <id>', 'the release to switch to')
    .action(async (options) => {
      process.exitCode = (await releaseCommands()).runReleaseRollback(options);
    });
  prefix(
    release
      .command('verify')
      .description('check every file of the current release (or --release ID) against its manifest'),
  )
    .option('--release <id>', 'the release to verify')
    .action(async (options) => {
      process.exitCode = (await releaseCommands()).runReleaseVerify(options);
    });
}
