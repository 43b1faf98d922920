// Errors about bundles name the input (an archive, a folder, a manifest) and, where there is one,
// the entry inside it, so the user knows which file to look at.

export class BundleError extends Error {
  constructor(readonly input: string, detail: string, readonly entry?: string) {
    super(entry === undefined ? `${input}: ${detail}` : `${input}: ${entry}: ${detail}`);
    this.name = 'BundleError';
  }
}
