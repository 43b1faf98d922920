// The compatibility service's commands (server, agent, hosts, bundles, compat), registered on the
// `pyrelo` program by cli.ts, and the errors they report as bad input (exit status 2).

import { Command, Option } from 'commander';
import { registerAgentCommands } from '../agent/cli/register.js';

// The implementations load on use: `pyrelo check` should not pay for gRPC, SQLite and pino at
// start-up.
const serverCommands = () => import('./commands/server.js');
const hostsCommands = () => import('./commands/hosts.js');
const bundlesCommands = () => import('./commands/bundles.js');
const compatCommands = () => import('./commands/compat.js');

const control = (): Option =>
  new Option('--control <addr>', "the server's control address (default: unix:DATA/control.sock, $PYRELO_CONTROL)");

function serverOptions(command: Command): Command {
  return command
    .option(
      '--data <dir>',
      'data folder: database, bundle store, CA, control socket ($PYRELO_DATA; default ~/.local/share/pyrelo/server)',
    )
    .option('--listen <addr>', 'address agents connect to, mutual TLS ($PYRELO_LISTEN; default 0.0.0.0:7443)')
    .option('--enroll-listen <addr>', 'address agents enroll on ($PYRELO_ENROLL_LISTEN; default 0.0.0.0:7444)')
    .option('--control <addr>', 'control address for the CLI ($PYRELO_CONTROL; default unix:DATA/control.sock)')
    .option('--config <file>', 'JSON settings file ($PYRELO_CONFIG; default DATA/server.json)')
    .option('--log-level <level>', 'pino log level ($PYRELO_LOG_LEVEL; default info)')
    .option(
      '--dashboard-listen <addr>',
      'address of the read-only web dashboard, or off ($PYRELO_DASHBOARD_LISTEN; default 127.0.0.1:7480)',
    );
}

export function registerServiceCommands(program: Command): void {
  const server = program
    .command('server')
    .description('the compatibility server (pyrelo server init, then pyrelo server)');
  serverOptions(server.command('run', { isDefault: true }).description('run the server until SIGTERM')).action(
    async (options) => {
      process.exitCode = await (await serverCommands()).runServer(options);
    },
  );
  serverOptions(server.command('init').description('create the CA and the server certificate'))
    .option(
      '--name <name>',
      'another DNS name or IP address agents reach the server by (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .action(async (options) => {
      process.exitCode = await (await serverCommands()).runServerInit(options);
    });

  serverOptions(
    server
      .command('dashboard-token')
      .description('make a new token for the web dashboard (the old one stops working) and print its login link'),
  ).action(async (options) => {
    process.exitCode = await (await serverCommands()).runDashboardToken(options);
  });

  const agent = program
    .command('agent')
    .description('the agent: a daemon connected to the server, or one-shot checks on this host');
  registerAgentCommands(agent);
  agent
    .command('pack')
    .description('a relocatable agent bundle: node, its libraries, glibc, the agent in one JavaScript file')
    .requiredOption('-o, --output <output>', 'OUTPUT: a folder, or an archive (.tar.gz, .tar.xz, .tar.zst)')
    .option('--clear', 'replace OUTPUT if it exists')
    .action(async (options) => {
      process.exitCode = await (await import('./commands/agent-pack.js')).runAgentPack(options);
    });

  const hosts = program.command('hosts').description('hosts in the compatibility database');
  hosts
    .command('add')
    .description('add a host, or change how pyrelo deploy reaches it')
    .argument('<name>')
    .option('--ssh <user@host[:port]>', 'reach it over SSH (~/.ssh/config, ssh-agent and known_hosts are honoured)')
    .option('--key <file>', "SSH private key (default: ssh-agent, then ~/.ssh/config's identities)")
    .option('--jump <user@host[:port]>', 'through this jump host (comma-separated: a chain), as ssh -J')
    .option('--chroot <dir>', 'a root filesystem on this machine, reached by chroot (a staging root with no sshd)')
    .option(
      '--group <name>',
      'put it in group NAME; pyrelo deploy --host NAME means every member (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--prefix <dir>', 'where bundles are installed (default /opt/pyrelo/BUNDLE-NAME)')
    .addOption(control())
    .option('--json')
    .action(async (n: string, o) => {
      process.exitCode = await (await hostsCommands()).hostsAdd(n, o);
    });
  hosts
    .command('trust')
    .description('show the SSH host key of a host and, when confirmed, add it to known_hosts')
    .argument('<name>')
    .option('--yes', 'trust without asking (after printing the fingerprint)')
    .option('--fingerprint <SHA256:…>', 'trust only when the key has this fingerprint (checked out of band)')
    .addOption(control())
    .option('--json')
    .action(async (n: string, o) => {
      process.exitCode = await (await import('./commands/trust.js')).hostsTrust(n, o);
    });
  hosts
    .command('list')
    .addOption(control())
    .option('--json')
    .action(async (o) => {
      process.exitCode = await (await hostsCommands()).hostsList(o);
    });
  hosts
    .command('show')
    .argument('<name>')
    .addOption(control())
    .option('--json')
    .action(async (n: string, o) => {
      process.exitCode = await (await hostsCommands()).hostsShow(n, o);
    });
  hosts
    .command('remove')
    .argument('<name>')
    .addOption(control())
    .option('--json')
    .action(async (n: string, o) => {
      process.exitCode = await (await hostsCommands()).hostsRemove(n, o);
    });
  hosts
    .command('import')
    .description('store an inventory carried from a host the server cannot reach (pyrelo inventory -o FILE)')
    .argument('<file>')
    .option('--name <name>', "the host's name (default: ID-VERSION_ID of the inventory)")
    .addOption(control())
    .option('--json')
    .action(async (f: string, o) => {
      process.exitCode = await (await hostsCommands()).hostsImport(f, o);
    });
  hosts
    .command('token')
    .description('one-time enrollment token for an agent')
    .argument('<name>')
    .addOption(control())
    .option('--json')
    .action(async (n: string, o) => {
      process.exitCode = await (await hostsCommands()).hostsToken(n, o);
    });
  hosts
    .command('check')
    .description('a bundle on a host: prediction, and with --verify a run by its agent')
    .argument('<bundle>')
    .argument('<host>')
    .option('--verify', "order the host's agent to install, check and smoke-run it")
    .addOption(control())
    .option('--json')
    .action(async (b: string, h: string, o) => {
      process.exitCode = await (await compatCommands()).runHostCheck(b, h, o);
    });

  const deploy = () => import('./commands/deploy.js');
  program
    .command('deploy')
    .description(
      'install a bundle on hosts over SSH: agent, prediction, resumable transfer, atomic switch, smoke run, recorded',
    )
    .argument('<bundle>', 'a packed bundle (pyrelo build -o NAME.tar.gz)')
    .requiredOption('--host <names>', 'hosts or groups, comma-separated')
    .option('--prefix <dir>', "install folder on the host (default: the host's --prefix, else /opt/pyrelo/BUNDLE-NAME)")
    .option('--force', 'deploy even where the check predicts it will not run')
    .option('--parallel <n>', 'hosts deployed at once', '4')
    .option('--inventory-max-age <hours>', "take the host's inventory again when the stored one is older", '24')
    .addOption(control())
    .option('--json', 'print the results as JSON')
    .action(async (b: string, o) => {
      process.exitCode = await (await deploy()).runDeploy(b, o);
    });
  program
    .command('releases')
    .description('the releases installed on hosts, and which is current')
    .requiredOption('--host <names>', 'hosts or groups, comma-separated')
    .option('--prefix <dir>', 'install folder on the host (default: every folder pyrelo deployed to there)')
    .option('--bundle <name>', 'only the folder the bundle of this name was deployed to')
    .addOption(control())
    .option('--json')
    .action(async (o) => {
      process.exitCode = await (await deploy()).runReleases(o);
    });
  program
    .command('rollback')
    .description('switch hosts back to their previous release')
    .requiredOption('--host <names>', 'hosts or groups, comma-separated')
    .option('--prefix <dir>', 'install folder on the host (default: the one pyrelo deployed to there)')
    .option('--bundle <name>', 'when pyrelo deployed several bundles there: the folder of this one')
    .option('--to <release>', 'a release id instead of the previous one')
    .addOption(control())
    .option('--json')
    .action(async (o) => {
      process.exitCode = await (await deploy()).runRollback(o);
    });

  const bundles = program.command('bundles').description("bundles in the server's store");
  bundles
    .command('add')
    .argument('<archive>')
    .addOption(control())
    .option('--json')
    .action(async (a: string, o) => {
      process.exitCode = await (await bundlesCommands()).bundlesAdd(a, o);
    });
  bundles
    .command('build')
    .description(
      "have the server build a bundle (pyrelo build on the server's machine), store it and predict it everywhere",
    )
    .argument('[project]', 'a project folder, a wheel, or a requirement resolved in the wheelhouse')
    .addOption(new Option('--python <path>', "base CPython on the server's machine").conflicts('pythonSource'))
    .option('--python-source <tarball>', "CPython source tarball on the server's machine")
    .option('-r, --requirement <file>', 'requirements file')
    .option('--wheelhouse <dir>', 'wheels pip may install from')
    .addOption(new Option('--libc <policy>', 'host, bundle or auto').choices(['host', 'bundle', 'auto']))
    .option('--min-glibc <version>', 'with --libc auto: the oldest glibc the targets have')
    .option(
      '--entry <name=module:function>',
      'a command of the bundle (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--smoke <command>', 'smoke command recorded in the manifest')
    .option('--prompt <p>', 'prompt name')
    .option('--no-slim', 'keep tests, docs, headers')
    .option('--without-pip', 'no pip in the bundle')
    .option('--index-url <url>', 'a package index pip may use besides the wheelhouse (offline without it)')
    .option('--sourceless', 'keep only bytecode')
    .option(
      '--allow-missing <soname>',
      'ship without this library (repeatable; pyrelo build --allow-missing)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(
      '--preload-only <path>',
      'a library of the bundle only ever loaded with LD_PRELOAD (repeatable; pyrelo build --preload-only)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(
      '--locale <name>',
      'a locale the application sets (repeatable; pyrelo build --locale)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .addOption(control())
    .option('--json')
    .action(async (p: string | undefined, o) => {
      process.exitCode = await (await bundlesCommands()).bundlesBuild(p, o);
    });
  bundles
    .command('list')
    .addOption(control())
    .option('--json')
    .action(async (o) => {
      process.exitCode = await (await bundlesCommands()).bundlesList(o);
    });
  bundles
    .command('show')
    .argument('<bundle>')
    .addOption(control())
    .option('--json')
    .action(async (b: string, o) => {
      process.exitCode = await (await bundlesCommands()).bundlesShow(b, o);
    });

  program
    .command('compat')
    .description('where a bundle runs, by distro and by host, and why not; or --distro: what runs there')
    .argument('[bundle]', 'name (latest) or digest prefix')
    .option(
      '--distro <id:version[/arch]>',
      'list the bundles that run on ID:VERSION_ID (debian:11, debian:12/aarch64); with no host of it enrolled, ' +
        'from its reference platform',
    )
    .addOption(control())
    .option('--json', 'print JSON')
    .action(async (b: string | undefined, o) => {
      process.exitCode = await (await compatCommands()).runCompat(b, o);
    });

  program
    .command('fleet')
    .description(
      'what the enrolled hosts are made of: distros, libcs, kernels, architectures, x86-64 ISA levels, page ' +
        'sizes, and stale inventories',
    )
    .option('--stale-days <days>', 'an inventory collected longer ago is stale (default 30)')
    .addOption(control())
    .option('--json', 'print JSON')
    .action(async (o) => {
      process.exitCode = await (await import('./commands/fleet.js')).runFleet(o);
    });
}
