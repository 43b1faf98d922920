// The `pyrelo` command line. Exit codes: 0 all good, 1 something would not load, 2 usage error or
// unreadable input.

import { Command, CommanderError, Option } from 'commander';
import { ElfFormatError } from '../elf/errors.js';
import { InputError } from '../elf/find-elf-files.js';
import { LdCacheFormatError } from '../loader/ld-cache.js';
import { InventoryFormatError } from '../inventory/read.js';
import { HostConfigError } from '../inventory/root-config.js';
import { runCheck } from './commands/check.js';
import { runInventory } from './commands/inventory.js';
import { BundleError } from '../bundle/errors.js';
import { BuildInputError } from '../builder/errors.js';
import { isServiceInputError, registerServiceCommands } from './service-commands.js';
import { pyreloVersion } from '../common/version.js';
import { escapeControl } from '../common/terminal-text.js';

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
    .version(pyreloVersion(), '-V, --version', 'print the version (and the commit, from a git checkout)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('check')
    .description("predict what glibc's ld.so does with every ELF file of PATH on a host")
    .argument('<path...>', 'ELF files, or folders to search for ELF files')
    .addOption(new Option('--root <dir>', 'check against the root filesystem at DIR (default: this host)').conflicts('inventory'))
    .option('--inventory <file>', 'check against a stored host inventory (pyrelo inventory --json)')
    .option('--env <name=value>', 'environment of the emulated process (LD_LIBRARY_PATH)', collect, [])
    .addOption(new Option('--no-proc', 'the host has no /proc mounted (a --root is otherwise checked as a real host, with /proc)').conflicts('inventory'))
    .option('--json', 'print the reports as JSON')
    .option('--tree', 'print the dependency tree of every file, not only of those that would not load')
    .option('--no-cache', 'read every file and check it afresh: neither use nor fill the cache of parsed files and results ($PYRELO_CACHE, else $XDG_CACHE_HOME/pyrelo or ~/.cache/pyrelo)')
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
    .action((options) => {
      process.exitCode = runInventory(options);
    });

  program
    .command('build')
    .description('build a relocatable bundle of a CPython prefix and an application (offline, from a wheelhouse)')
    .argument('[project]', 'what to install: a project folder, a wheel, or a requirement (resolved in the wheelhouse)')
    .addOption(new Option('--python <path>', 'the base CPython interpreter whose prefix is bundled (a shared-libpython build, or Debian\'s /usr/bin/python3.x)').conflicts('pythonSource'))
    .option('--python-source <tarball>', 'compile the base CPython from this source tarball instead (--enable-shared, $ORIGIN RUNPATH; cached by its hash)')
    .option('-r, --requirement <file>', 'install the requirements listed in FILE')
    .option('--wheelhouse <dir>', 'folder of wheels (and sdists) pip installs from; no index is used unless --index-url')
    .option('--index-url <url>', 'let pip also fetch from this package index (the build is offline without it)')
    .addOption(new Option('--libc <policy>', 'host: use the target\'s glibc; bundle: ship glibc and start through its loader; auto: bundle when the glibc floor exceeds --min-glibc')
      .choices(['host', 'bundle', 'auto']).default('host'))
    .option('--min-glibc <version>', 'with --libc auto: the oldest glibc the targets have', '2.17')
    .option('--entry <name=module:function>', 'write bin/NAME running module:function (repeatable)', collect, [])
    .option('--smoke <command>', 'smoke command recorded in the manifest, run by agents to verify the bundle: "PROGRAM ARGS…", PROGRAM relative to the bundle root (e.g. "bin/smoke")')
    .option('--no-slim', 'keep tests, docs, headers, static libraries and unused tkinter')
    .option('--slim-package-tests', 'also remove installed packages\' own test folders (pkg/tests, pkg/sub/test) that nothing outside them imports')
    .option('--clear', 'replace OUTPUT if it exists')
    .option('--prompt <p>', 'the bundle\'s name (default: what PROJECT installs) and bin/activate\'s prompt (default: the first --entry, else the name)')
    .option('--without-pip', 'do not install pip into the bundle (nor keep the pip wheels ensurepip would install)')
    .option('--sourceless', 'keep only bytecode: each compiled .py is replaced by its .pyc (smaller; tracebacks show no source lines)')
    .option('--allow-missing <soname>', 'ship without this library, which a file needs (never grafted, even from the build host); recorded in the manifest, and the files needing it are warnings, not failures, where a host lacks it (repeatable)', collect, [])
    .requiredOption('-o, --output <output>', 'OUTPUT: a folder, or an archive (.tar.gz, .tar.xz, .tar.zst), or a self-extracting .run')
    .action(async (project: string | undefined, options) => {
      process.exitCode = await (await import('./commands/build.js')).runBuild(project, { ...options, pip: options.pip !== false && !options.withoutPip });
    });

  program
    .command('unpack')
    .description('unpack a bundle archive into a new folder, checking every entry and every sha256 (nothing is left half-written)')
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

/** Errors that mean "the input is bad", reported in one line with exit status 2. */
function isInputError(error: unknown): error is Error {
  return error instanceof InputError || error instanceof BundleError || error instanceof BuildInputError || error instanceof ElfFormatError || error instanceof InventoryFormatError
    || error instanceof LdCacheFormatError || error instanceof HostConfigError || isServiceInputError(error)
    || (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string'
      && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code!));
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (isInputError(error)) {
      // The message may quote a name stored by the server or sent by a host: escaped.
      process.stderr.write(`pyrelo: ${escapeControl(error.message)}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

