// `pyrelo build [PROJECT] (--python PATH | --python-source TARBALL) [-r FILE] [--wheelhouse DIR] [--index-url URL] [--libc host]
//   [--entry NAME=module:function]… [--smoke "CMD ARGS…"] [--no-slim | --slim-package-tests] [--allow-missing SONAME]… [--clear] [--prompt P] [--without-pip] -o OUTPUT`

import { build } from '../../builder/build.js';
import { BuildInputError } from '../../builder/errors.js';
import { BundleError } from '../../bundle/errors.js';

export interface BuildCommandOptions {
  readonly python?: string;
  /** A CPython source tarball compiled (cached) into the base prefix; excludes python. */
  readonly pythonSource?: string;
  readonly requirement?: string;
  readonly wheelhouse?: string;
  readonly indexUrl?: string;
  readonly libc: 'host' | 'bundle' | 'auto';
  readonly minGlibc: string;
  readonly entry: readonly string[];
  /** The smoke command as one string, split like a shell would (quotes, backslashes; no expansion). */
  readonly smoke?: string;
  readonly slim: boolean;
  readonly slimPackageTests?: boolean;
  readonly clear?: boolean;
  readonly prompt?: string;
  readonly pip: boolean;
  readonly sourceless?: boolean;
  /** --allow-missing SONAME, repeatable. */
  readonly allowMissing?: readonly string[];
  readonly output: string;
}

/** Splits a command line into words as sh does for quoting alone: '…', "…" (with \\ \" \$ \`), \x. */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new BuildInputError(`--smoke ${text}`, 'unterminated single quote');
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      word ??= '';
      for (i += 1; ; i += 1) {
        if (i >= text.length) throw new BuildInputError(`--smoke ${text}`, 'unterminated double quote');
        const c = text[i]!;
        if (c === '"') break;
        if (c === '\\' && i + 1 < text.length && '\\"$`'.includes(text[i + 1]!)) i += 1;
        word += text[i];
      }
    } else if (ch === '\\') {
      if (i + 1 < text.length) i += 1;
      word = (word ?? '') + text[i];
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

export async function runBuild(project: string | undefined, options: BuildCommandOptions): Promise<number> {
  if (options.libc !== 'host' && options.libc !== 'bundle' && options.libc !== 'auto') {
    throw new BuildInputError(`--libc ${options.libc}`, 'expected host, bundle or auto');
  }
  let result;
  try {
    result = await build({
    project: project ?? null,
    python: options.python ?? null,
    pythonSource: options.pythonSource ?? null,
    requirements: options.requirement ?? null,
    wheelhouse: options.wheelhouse ?? null,
    indexUrl: options.indexUrl ?? null,
    libc: options.libc,
    minGlibc: options.minGlibc,
    entries: options.entry,
    smoke: options.smoke !== undefined ? splitCommand(options.smoke) : null,
    slim: options.slim,
    slimPackageTests: options.slimPackageTests === true,
    clear: options.clear ?? false,
    prompt: options.prompt ?? null,
    withPip: options.pip,
    sourceless: options.sourceless === true,
    allowMissing: options.allowMissing ?? [],
    output: options.output,
    });
  } catch (error) {
    if (error instanceof BuildInputError || error instanceof BundleError) throw error;
    // Anything else is a failed step: say which and why, in one message; nothing was written.
    process.stderr.write(`pyrelo build: failed: ${(error as Error).message}\n`);
    return 1;
  }
  const m = result.manifest;
  const installed = m.files.reduce((a, f) => a + (f.size ?? 0), 0);
  process.stdout.write(`${result.output}: ${m.name}${m.version !== undefined ? ` ${m.version}` : ''}, Python ${m.python.version}, ${m.python.packages.length} packages, ${m.grafted.length} grafted libraries, `
    + `${(installed / 1e6).toFixed(1)} MB installed, ${m.libc === 'bundle' ? `glibc bundled (kernel >= ${m.kernelFloor ?? 'any'})` : `glibc >= ${m.glibcFloor ?? 'any'}`}, built in ${result.seconds.toFixed(1)} s\n`);
  return 0;
}
