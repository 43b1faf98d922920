// Finds the ELF files a check is about: a file as given, or every regular ELF file under a folder.

import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isElf } from './elf-file.js';
import { UserInputError } from '../common/user-input-error.js';

export class InputError extends UserInputError {
  constructor(input: string, detail: string) {
    super(input, detail);
    this.name = 'InputError';
  }
}

function safeIsElf(path: string): boolean {
  try {
    return isElf(path);
  } catch {
    return false; // unreadable files under a folder are not ours to check
  }
}

/**
 * Walks folders without following symbolic links (a link to a file is the same file twice, a link
 * to a folder may loop). A path given directly is taken as it is, links included; a path given
 * directly that is not ELF is an error, since the user asked for it.
 */
export function findElfFiles(inputs: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const stat = lstatSync(path, { throwIfNoEntry: false });
      if (stat === undefined) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && stat.size >= 4 && safeIsElf(path)) found.push(path);
    }
  };
  for (const input of inputs) {
    const stat = statSync(input, { throwIfNoEntry: false });
    if (stat === undefined) throw new InputError(input, 'no such file or directory');
    if (stat.isDirectory()) walk(input);
    else if (!isElf(input)) throw new InputError(input, 'not an ELF file');
    else found.push(input);
  }
  return found;
}
