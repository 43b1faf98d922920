// Errors about bundles name the input (an archive, a folder, a manifest) and, where there is one,
// the entry inside it, so the user knows which file to look at.

import { UserInputError } from '../common/user-input-error.js';

export class BundleError extends UserInputError {
  constructor(
    input: string,
    detail: string,
    readonly entry?: string,
  ) {
    super(input, detail, entry === undefined ? `${input}: ${detail}` : `${input}: ${entry}: ${detail}`);
    this.name = 'BundleError';
  }
}
