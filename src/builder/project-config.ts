// The build options a project keeps in its own pyproject.toml, `[tool.pyrelo]` (README, "Options in
// pyproject.toml"): with them `pyrelo build .` gives the same bundle every time, and a flag given
// on the command line wins over the table. An unknown key or a value of the wrong kind is an error
// naming the file and the key: a misspelt option silently ignored would build another bundle.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { BuildOptions } from './build-options.js';
import { BuildInputError } from './errors.js';
import { splitCommand } from './split-command.js';

type Kind = 'text' | 'list' | 'command' | 'boolean';

/** Table key -> the BuildOptions key it sets and the kind of value it takes. */
const TABLE_KEYS: Readonly<Record<string, readonly [keyof BuildOptions, Kind]>> = {
  python: ['python', 'text'],
  mirror: ['mirror', 'text'],
  libc: ['libc', 'text'],
  'min-glibc': ['minGlibc', 'text'],
  entries: ['entries', 'list'],
  smoke: ['smoke', 'command'],
  slim: ['slim', 'boolean'],
  'slim-package-tests': ['slimPackageTests', 'boolean'],
  sourceless: ['sourceless', 'boolean'],
  prompt: ['prompt', 'text'],
  locales: ['locales', 'list'],
};

/** The pyproject.toml of PROJECT when PROJECT is a folder that has one, else null. */
export function projectPyproject(project: string | null): string | null {
  if (project === null || !existsSync(project) || !statSync(project).isDirectory()) return null;
  const file = join(project, 'pyproject.toml');
  return existsSync(file) ? file : null;
}

/** The options `[tool.pyrelo]` sets, checked; {} without a table. */
export function projectOptions(project: string | null): Partial<Record<keyof BuildOptions, unknown>> {
  const file = projectPyproject(project);
  if (file === null) return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    // The same words and absolute path as the project's name reader (project-name.ts).
    throw new BuildInputError(resolve(file), `not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  const tool = parsed.tool as Record<string, unknown> | undefined;
  const table = tool?.pyrelo;
  if (table === undefined) return {};
  if (typeof table !== 'object' || table === null || Array.isArray(table))
    throw new BuildInputError(file, '[tool.pyrelo] must be a table');
  const out: Partial<Record<keyof BuildOptions, unknown>> = {};
  for (const [key, value] of Object.entries(table)) {
    const known = TABLE_KEYS[key];
    if (known === undefined)
      throw new BuildInputError(
        file,
        `[tool.pyrelo] has an unknown key ${JSON.stringify(key)} (known: ${Object.keys(TABLE_KEYS).join(', ')})`,
      );
    const [option, kind] = known;
    const wrong = (expected: string): never => {
      throw new BuildInputError(file, `[tool.pyrelo] ${key}: expected ${expected}, got ${JSON.stringify(value)}`);
    };
    switch (kind) {
      case 'text':
        if (typeof value !== 'string' || value === '') wrong('a string');
        // A path in the table is the project's: relative to its folder, not to where pyrelo runs.
        out[option] = key === 'python' && (value as string).includes('/') ? resolve(project!, value as string) : value;
        break;
      case 'list':
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) wrong('a list of strings');
        out[option] = value;
        break;
      case 'command':
        if (typeof value === 'string') out[option] = splitCommand(value);
        else if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))
          out[option] = value;
        else wrong('a command line (a string) or a list of its words');
        break;
      case 'boolean':
        if (typeof value !== 'boolean') wrong('true or false');
        out[option] = value;
        break;
    }
  }
  return out;
}

/**
 * OPTIONS with what `[tool.pyrelo]` sets wherever the command line did not give the flag
 * (`given(key)`); --python-source on the command line also overrides the table's python.
 */
export function withProjectOptions(options: BuildOptions, given: (key: keyof BuildOptions) => boolean): BuildOptions {
  const table = projectOptions(options.project);
  const merged: Record<string, unknown> = { ...options };
  for (const [key, value] of Object.entries(table) as Array<[keyof BuildOptions, unknown]>) {
    if (given(key)) continue;
    if (key === 'python' && (options.pythonSource ?? null) !== null) continue;
    merged[key] = value;
  }
  return merged as unknown as BuildOptions;
}
