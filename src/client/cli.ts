// The `pyrelo` command line. Exit codes: 0 all good, 1 something would not load, 2 usage error or
// unreadable input.

import { Command, CommanderError, Option } from 'commander';
import { runCheck } from './commands/check.js';
import { runInventory } from './commands/inventory.js';
import { buildOptionsFromCommand, declareBuildOptions } from '../builder/build-options.js';
import { registerServiceCommands } from './service-commands.js';
import { pyreloVersion } from '../common/version.js';
import { escapeControl } from '../common/terminal-text.js';
import { isUserInputError } from '../common/user-input-error.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('pyrelo')
    .description('Relocatable Python bundles for offline Linux hosts, and a loader check that proves where they run')
    // Not .version(string): the version is looked up only when asked for, since from a git checkout
    // that runs git (common/version.ts), which every `pyrelo check` would otherwise wait for.
    .addOption(new Option('-V, --version', 'print the version (and the commit, from a git checkout)'))
    .on('option:version', () => {
      const version = pyreloVersion();
      process.stdout.write(`${version}\n`);
      throw new CommanderError(0, 'commander.version', version);
    })
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('check')
    .description("predict what glibc's ld.so does with every ELF file of PATH on a host")
    .argument('<path...>', 'ELF files, or folders to search for ELF files')
    .addOption(
      new Option('--root <dir>', 'check against the root filesystem at DIR (default: this host)').conflicts(
        'inventory',
      ),
    )
    .addOption(
      new Option('--inventory <file>', 'check against a stored host inventory (pyrelo inventory --json)').conflicts(
        'platform',
      ),
    )
    .addOption(
      new Option(
        '--platform <name>',
        'check against a reference platform (data/platforms/: debian:12, rhel:8, rhel:9/aarch64, …): ' +
          'its stored inventory where there is one, else its facts ("predicted from reference")',
      ).conflicts(['root', 'proc']),
    )
    .option('--env <name=value>', 'environment of the emulated process (LD_LIBRARY_PATH)', collect, [])
    .addOption(
      new Option(
        '--no-proc',
        'the host has no /proc mounted (a --root is otherwise checked as a real host, with /proc)',
      ).conflicts('inventory'),
    )
    .addOption(
      new Option(
        '--page-size <bytes>',
        "check as on a kernel with pages of BYTES (e.g. 65536 for an aarch64 host); default: this machine's",
      ).conflicts(['inventory', 'platform']),
    )
    .option('--json', 'print the reports as JSON')
    .option('--tree', 'print the dependency tree of every file, not only of those that would not load')
    .option(
      '--no-cache',
      'read every file and check it afresh: neither use nor fill the cache of parsed files and results ' +
        '($PYRELO_CACHE, else $XDG_CACHE_HOME/pyrelo or ~/.cache/pyrelo)',
    )
    .action((paths: string[], options) => {
      process.exitCode = runCheck(paths, options);
    });

  program
    .command('inventory')
    .description('print the facts about a host that a check needs')
    .option('--root <dir>', 'the root filesystem to inventory (default: /)')
    .option('--no-proc', 'record that the host has no /proc mounted (default: a --root has it; / is looked at)')
    .option('--json', 'print the whole inventory as JSON (for --inventory and the server)')
    .option('-o, --output <file>', 'write the JSON inventory to FILE (gzip when FILE ends in .gz)')
    .option('--page-size <bytes>', "record this kernel page size instead of this machine's (e.g. 65536)")
    .action((options) => {
      process.exitCode = runInventory(options);
    });

  // Its argument and options are declared once, with the server's BuildRequest (builder/build-options.ts).
  declareBuildOptions(
    program
      .command('build')
      .description('build a relocatable bundle of a CPython prefix and an application (offline, from a wheelhouse)'),
  ).action(async (project: string | undefined, options: Record<string, unknown>, command: Command) => {
    const buildOptions = buildOptionsFromCommand(project, options, command);
    process.exitCode = await (await import('../builder/build-command.js')).runBuild(buildOptions);
  });

  program
    .command('unpack')
    .description(
      'unpack a bundle archive into a new folder, checking every entry and every sha256 (nothing is left half-written)',
    )
    .argument('<archive>', 'a packed bundle (.tar.gz, .tar.xz, .tar.zst)')
    .argument('<dir>', 'the folder to create')
    .option('--force', 'replace DIR if it exists (only once the new one is complete)')
    .option('--json', 'print what was unpacked as JSON')
    .action(async (archive: string, dir: string, options) => {
      process.exitCode = await (await import('./commands/unpack.js')).runUnpack(archive, dir, options);
    });

  registerServiceCommands(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (isUserInputError(error)) {
      // The message may quote a name stored by the server or sent by a host: escaped.
      process.stderr.write(`pyrelo: ${escapeControl(error.message)}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}
