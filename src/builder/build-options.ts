// The options of `pyrelo build`, each named once: its BuildOptions key, its flag and help on the
// command line, the field of the server's BuildRequest that carries it (proto/pyrelo/v1/control.proto;
// test/builder/build-options.test.ts holds the two to each other) and its default. The command
// line (declareBuildOptions, buildOptionsFromCommand) and the server's request (buildRequestArgs)
// are derived from BUILD_OPTIONS.

import { Option, type Command } from 'commander';
import type { BuildRequest } from '../proto/messages.js';
import { BuildInputError } from './errors.js';
import { withProjectOptions } from './project-config.js';
import { splitCommand } from './split-command.js';

export type LibcChoice = 'host' | 'bundle' | 'auto';
export const LIBC_CHOICES: readonly LibcChoice[] = ['host', 'bundle', 'auto'];

export interface BuildOptions {
  readonly project: string | null;
  /**
   * The base interpreter, or a CPython version number (3.13, 3.13.5: compiled from Debian's source
   * of it, python-version.ts); null with pythonSource.
   */
  readonly python: string | null;
  /** A CPython source tarball compiled (once, cached) into the base prefix instead of --python. */
  readonly pythonSource?: string | null;
  /** The Debian mirror a --python VERSION's source comes from (else PYRELO_MIRROR, else Debian's). */
  readonly mirror?: string | null;
  readonly requirements: string | null;
  readonly wheelhouse: string | null;
  /** A package index pip may use besides the wheelhouse; null (the default): no network at all. */
  readonly indexUrl?: string | null;
  /** host: use the target's glibc; bundle: ship it; auto: ship it when the glibc floor exceeds minGlibc. */
  readonly libc: LibcChoice;
  readonly minGlibc: string;
  readonly entries: readonly string[];
  /**
   * The smoke command: a program relative to the bundle root and its arguments, run once by the
   * build (step "smoke", build-smoke.ts) and recorded in the manifest.
   */
  readonly smoke?: readonly string[] | null;
  readonly slim: boolean;
  /** --slim-package-tests: slim also removes installed packages' own test folders nothing else imports. */
  readonly slimPackageTests?: boolean;
  readonly clear: boolean;
  readonly prompt: string | null;
  readonly withPip: boolean;
  /** Keep only bytecode: every compiled .py is replaced by its .pyc (smaller; no source in tracebacks). */
  readonly sourceless?: boolean;
  /**
   * --allow-missing: sonames the bundle ships without, never grafted; recorded in the manifest, and
   * the files needing them are warnings, not failures, where a host lacks them (compat/allowed-missing.ts).
   */
  readonly allowMissing?: readonly string[];
  /**
   * --preload-only: library files of the bundle (relative to its root) that are only ever loaded
   * with LD_PRELOAD, never dlopened; the check judges them as preloaded into the interpreter
   * (loader/check.ts, CheckOptions.preloaded). Recorded in the manifest.
   */
  readonly preloadOnly?: readonly string[];
  /**
   * --locale: locales the application needs from the target (de_DE.UTF-8), recorded in the manifest
   * with those the smoke run sets; the checks compare them with the host's compiled locales.
   */
  readonly locales?: readonly string[];
  readonly output: string;
}

/**
 * How an option's value is given and read:
 * - argument: PROJECT, the command's optional argument; null when absent;
 * - path, text: a flag with a value; null when absent (path: the server takes only absolute ones);
 * - choice: a flag with one of `choices`;
 * - repeated: a flag given any number of times; its values in order;
 * - command: a flag whose value is split like sh splits words (split-command.ts);
 * - switch: a flag that turns something on; false when absent;
 * - negated: a flag that turns something off (--no-slim, --without-pip); true when absent.
 */
export type OptionValue = 'argument' | 'path' | 'text' | 'choice' | 'repeated' | 'command' | 'switch' | 'negated';

export interface BuildOptionRow {
  readonly key: keyof BuildOptions;
  readonly value: OptionValue;
  /** commander's flags ('-r, --requirement <file>'); for the argument, its name ('[project]'). */
  readonly flags: string;
  readonly help: string;
  readonly choices?: readonly string[];
  /** The value when the flag is absent, where it is not null, [] or what `value` implies. */
  readonly default?: string;
  /** Another option this one cannot be combined with. */
  readonly conflicts?: keyof BuildOptions;
  readonly required?: true;
  /** The BuildRequest field carrying it (as the TypeScript type names it); null: not part of a request. */
  readonly request: keyof BuildRequest | null;
}

export const BUILD_OPTIONS: readonly BuildOptionRow[] = [
  {
    key: 'project',
    value: 'argument',
    flags: '[project]',
    help: 'what to install: a project folder, a wheel, or a requirement (resolved in the wheelhouse)',
    request: 'project',
  },
  {
    key: 'python',
    value: 'path',
    flags: '--python <path>',
    conflicts: 'pythonSource',
    request: 'python',
    help:
      "the base CPython: an interpreter whose prefix is bundled (a shared-libpython build, or Debian's " +
      "/usr/bin/python3.x), or a version number (3.13, 3.13.5) compiled from Debian's pristine source of it",
  },
  {
    key: 'pythonSource',
    value: 'path',
    flags: '--python-source <tarball>',
    help:
      'compile the base CPython from this source tarball instead (--enable-shared, $ORIGIN RUNPATH; cached by ' +
      'its hash)',
    request: 'pythonSource',
  },
  {
    key: 'mirror',
    value: 'text',
    flags: '--mirror <url>',
    help: 'with --python VERSION: the Debian mirror its source comes from (default: PYRELO_MIRROR, else http://deb.debian.org/debian)',
    request: null,
  },
  {
    key: 'requirements',
    value: 'path',
    flags: '-r, --requirement <file>',
    help: 'install the requirements listed in FILE',
    request: 'requirements',
  },
  {
    key: 'wheelhouse',
    value: 'path',
    flags: '--wheelhouse <dir>',
    help: 'folder of wheels (and sdists) pip installs from; no index is used unless --index-url',
    request: 'wheelhouse',
  },
  {
    key: 'indexUrl',
    value: 'text',
    flags: '--index-url <url>',
    help: 'let pip also fetch from this package index (the build is offline without it)',
    request: 'indexUrl',
  },
  {
    key: 'libc',
    value: 'choice',
    flags: '--libc <policy>',
    choices: LIBC_CHOICES,
    default: 'host',
    request: 'libc',
    help:
      "host: use the target's glibc; bundle: ship glibc and start through its loader; auto: bundle when the " +
      'glibc floor exceeds --min-glibc',
  },
  {
    key: 'minGlibc',
    value: 'text',
    flags: '--min-glibc <version>',
    default: '2.17',
    help: 'with --libc auto: the oldest glibc the targets have',
    request: 'minGlibc',
  },
  {
    key: 'entries',
    value: 'repeated',
    flags: '--entry <name=module:function>',
    help: 'write bin/NAME running module:function (repeatable)',
    request: 'entries',
  },
  {
    key: 'smoke',
    value: 'command',
    flags: '--smoke <command>',
    request: 'smoke',
    help:
      'smoke command recorded in the manifest, run by agents to verify the bundle: "PROGRAM ARGS…", PROGRAM ' +
      'relative to the bundle root (e.g. "bin/smoke")',
  },
  {
    key: 'slim',
    value: 'negated',
    flags: '--no-slim',
    help: 'keep tests, docs, headers, static libraries and unused tkinter',
    request: 'noSlim',
  },
  {
    key: 'slimPackageTests',
    value: 'switch',
    flags: '--slim-package-tests',
    request: null,
    help:
      "also remove installed packages' own test folders " +
      '(pkg/tests, pkg/sub/test) that nothing outside them imports',
  },
  { key: 'clear', value: 'switch', flags: '--clear', help: 'replace OUTPUT if it exists', request: null },
  {
    key: 'prompt',
    value: 'text',
    flags: '--prompt <p>',
    help:
      "the bundle's name (default: what PROJECT installs) and bin/activate's prompt (default: the first --entry, " +
      'else the name)',
    request: 'prompt',
  },
  {
    key: 'withPip',
    value: 'negated',
    flags: '--without-pip',
    help: 'do not install pip into the bundle (nor keep the pip wheels ensurepip would install)',
    request: 'withoutPip',
  },
  {
    key: 'sourceless',
    value: 'switch',
    flags: '--sourceless',
    help: 'keep only bytecode: each compiled .py is replaced by its .pyc (smaller; tracebacks show no source lines)',
    request: 'sourceless',
  },
  {
    key: 'allowMissing',
    value: 'repeated',
    flags: '--allow-missing <soname>',
    request: 'allowMissing',
    help:
      'ship without this library, which a file needs (never grafted, even from the build host); recorded in the ' +
      'manifest, and the files needing it are warnings, not failures, where a host lacks it (repeatable)',
  },
  {
    key: 'preloadOnly',
    value: 'repeated',
    flags: '--preload-only <path>',
    request: 'preloadOnly',
    help:
      'a library of the bundle (path relative to its root) that is only ever loaded with LD_PRELOAD, never ' +
      'dlopened, such as a malloc an application preloads into its workers: checked as preloaded into the ' +
      'interpreter; recorded in the manifest (repeatable)',
  },
  {
    key: 'locales',
    value: 'repeated',
    flags: '--locale <name>',
    request: 'locales',
    help:
      'a locale the application sets (de_DE.UTF-8): recorded in the manifest, and checks warn where a host has ' +
      'not compiled it, or fail when the smoke command sets it (repeatable)',
  },
  // The server writes the archive where it adopts it from: never part of a request.
  {
    key: 'output',
    value: 'text',
    flags: '-o, --output <output>',
    required: true,
    help: 'OUTPUT: a folder, or an archive (.tar.gz, .tar.xz, .tar.zst), or a self-extracting .run',
    request: null,
  },
];

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function rowOf(key: keyof BuildOptions): BuildOptionRow {
  const row = BUILD_OPTIONS.find((r) => r.key === key);
  if (row === undefined) throw new Error(`build option ${key} is not in BUILD_OPTIONS`);
  return row;
}

/** The commander Option of a flag row. */
function optionOf(row: BuildOptionRow): Option {
  const option = new Option(row.flags, row.help);
  if (row.choices !== undefined) option.choices(row.choices);
  if (row.default !== undefined) option.default(row.default);
  if (row.value === 'repeated') option.argParser(collect).default([]);
  if (row.conflicts !== undefined) option.conflicts(new Option(rowOf(row.conflicts).flags).attributeName());
  if (row.required === true) option.makeOptionMandatory();
  return option;
}

/** Declares PROJECT and every option of BUILD_OPTIONS on `command` (`pyrelo build` and the build process alike). */
export function declareBuildOptions(command: Command): Command {
  for (const row of BUILD_OPTIONS) {
    if (row.value === 'argument') command.argument(row.flags, row.help);
    else command.addOption(optionOf(row));
  }
  return command;
}

/** BuildOptions from what commander parsed (declareBuildOptions): PROJECT and its options object. */
export function buildOptionsFromCommand(
  project: string | undefined,
  parsed: Readonly<Record<string, unknown>>,
  command?: Command,
): BuildOptions {
  const options: Partial<Record<keyof BuildOptions, unknown>> = {};
  for (const row of BUILD_OPTIONS) {
    if (row.value === 'argument') {
      options[row.key] = project ?? null;
      continue;
    }
    const option = new Option(row.flags);
    const given = parsed[option.attributeName()];
    switch (row.value) {
      case 'path':
      case 'text':
      case 'choice':
        options[row.key] = typeof given === 'string' ? given : null;
        break;
      case 'repeated':
        options[row.key] = Array.isArray(given) ? given : [];
        break;
      case 'command':
        options[row.key] = typeof given === 'string' ? splitCommand(given) : null;
        break;
      case 'switch':
        options[row.key] = given === true;
        break;
      // commander reads --no-X as X (false when given); any other flag that turns something off as
      // itself (true when given).
      case 'negated':
        options[row.key] = option.negate ? given !== false : given !== true;
        break;
    }
  }
  // Every key of BuildOptions has its row (test/builder/build-options.test.ts), read above as its kind says.
  // PROJECT's [tool.pyrelo] fills in what the command line did not give (project-config.ts).
  const merged =
    command === undefined
      ? (options as BuildOptions)
      : withProjectOptions(options as BuildOptions, (key) => {
          const row = rowOf(key);
          return command.getOptionValueSource(new Option(row.flags).attributeName()) === 'cli';
        });
  if (!LIBC_CHOICES.includes(merged.libc))
    throw new BuildInputError(`--libc ${String(merged.libc)}`, 'expected host, bundle or auto');
  return merged;
}

/** The long flag of a row, as the command line spells it (--requirement for '-r, --requirement <file>'). */
export function longFlag(row: BuildOptionRow): string {
  const long = new Option(row.flags).long;
  if (long === undefined) throw new Error(`build option ${row.key} has no long flag`);
  return long;
}
