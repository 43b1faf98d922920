// Where the lab keeps its root filesystems. The cache lives OUTSIDE the checkout
// so that a fresh clone (CI) reuses roots made by an earlier run on the same machine.
import { join } from 'node:path';

export const DEFAULT_LAB_CACHE = '/var/cache/pyrelo/lab';

export interface LabLayout {
  /** The cache folder itself (env PYRELO_LAB_CACHE, else /var/cache/pyrelo/lab). */
  cache: string;
  /** Finished roots: roots/<name>-<key>/{rootfs/, stamp.json}. */
  roots: string;
  /** In-progress builds; a folder here is never used as a root. */
  building: string;
  /** Damaged roots are renamed here before deletion, so deletion is never half-visible. */
  trash: string;
  /** One lock folder per root key, so two processes never build the same root at once. */
  locks: string;
  /** Mount point for the per-run tmpfs/overlay; only ever mounted inside private namespaces. */
  stage: string;
}

/** Read on every call so tests can point the lab at a scratch cache via the environment. */
export function labLayout(): LabLayout {
  const cache = process.env.PYRELO_LAB_CACHE || DEFAULT_LAB_CACHE;
  return {
    cache,
    roots: join(cache, 'roots'),
    building: join(cache, 'building'),
    trash: join(cache, 'trash'),
    locks: join(cache, 'locks'),
    stage: join(cache, 'stage'),
  };
}
