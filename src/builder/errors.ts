// Build failures that are the input's fault (a bad option, a missing interpreter, a wheel pip
// cannot find): reported in one line naming the input, exit status 2.

export class BuildInputError extends Error {
  constructor(readonly input: string, detail: string) {
    super(`${input}: ${detail}`);
    this.name = 'BuildInputError';
  }
}
