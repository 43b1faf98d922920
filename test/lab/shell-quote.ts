// The namespace setup is a generated /bin/sh script; every value put into it goes through here.

/** Quotes one word for POSIX sh: the result is always a single literal word. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
