// --smoke "PROGRAM ARGS…" as one string (a flag of `pyrelo build`, a field of the server's
// BuildRequest), split into words the way sh splits them, without any expansion.

import { BuildInputError } from './errors.js';

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
