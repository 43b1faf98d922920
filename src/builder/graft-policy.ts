// Which libraries a bundle may take from the target instead of carrying them: data/graft-policy.json.

import { readFileSync } from 'node:fs';
import { dataFile } from '../common/package-files.js';

export interface GraftPolicy {
  /** True when the target is assumed to provide this soname (glibc's own libraries). */
  assumed(soname: string): boolean;
  readonly sonames: readonly string[];
}

interface PolicyFile {
  readonly assumeOnTarget: ReadonlyArray<{ readonly soname: string; readonly reason: string }>;
}

export function loadGraftPolicy(path = dataFile('graft-policy.json')): GraftPolicy {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as PolicyFile;
  if (!Array.isArray(parsed.assumeOnTarget) || parsed.assumeOnTarget.some((e) => typeof e?.soname !== 'string')) {
    throw new Error(`${path}: assumeOnTarget: expected a list of { soname, reason }`);
  }
  const sonames = parsed.assumeOnTarget.map((e) => e.soname);
  const set = new Set(sonames);
  return { sonames, assumed: (soname) => set.has(soname.replace(/^.*\//, '')) };
}
