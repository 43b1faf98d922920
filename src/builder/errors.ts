// Build failures that are the input's fault (a bad option, a missing interpreter, a wheel pip
// cannot find): reported in one line naming the input, exit status 2.

import { UserInputError } from '../common/user-input-error.js';

export class BuildInputError extends UserInputError {
  constructor(input: string, detail: string) {
    super(input, detail);
    this.name = 'BuildInputError';
  }
}
