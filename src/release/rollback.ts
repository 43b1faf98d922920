// `release rollback`: `current` back to the previous release (or the one named), after checking
// every file of it against its manifest; a release that does not verify is not switched to.

import { existsSync } from 'node:fs';
import { BundleError } from '../bundle/errors.js';
import { readCurrent, switchCurrent } from './current.js';
import { ReleaseLayout } from './layout.js';
import { acquireLock } from './lock.js';
import { securePrefix } from './secure-prefix.js';
import { installedIds } from './prune.js';
import { readState, writeState } from './state.js';
import type { ReleaseRollbackResult } from './types.js';
import { checkReleaseIntegrity } from './integrity.js';

export function rollbackRelease(prefix: string, to?: string): ReleaseRollbackResult {
  if (!existsSync(new ReleaseLayout(prefix).meta))
    throw new BundleError(prefix, 'no releases here (nothing was installed under this prefix)');
  // Held to the installer's rule: `current` is switched here too (secure-prefix.ts).
  const layout = securePrefix(prefix);
  const lock = acquireLock(layout);
  try {
    const state = readState(layout);
    const current = readCurrent(layout);
    const target = to ?? state.previous;
    if (target === null || target === current) {
      throw new BundleError(
        prefix,
        to === undefined ? 'no previous release to roll back to' : `${to} is already current`,
      );
    }
    layout.release(target); // a release id, or refused naming it
    if (!installedIds(layout).includes(target))
      throw new BundleError(prefix, `no release ${target} (pyrelo agent release list shows what there is)`);
    const verification = checkReleaseIntegrity(layout, target, state.releases[target]?.manifestSha256 || undefined);
    if (!verification.ok) return { prefix, current, previous: current, ok: false, problems: verification.problems };
    switchCurrent(layout, target);
    const record = state.releases[target];
    writeState(layout, {
      ...state,
      previous: current,
      activations: [
        ...state.activations,
        {
          at: new Date().toISOString(),
          action: 'rollback',
          release: target,
          previous: current,
          status: record?.status ?? 'installed',
        },
      ],
    });
    return { prefix, current: target, previous: current, ok: true, problems: [] };
  } finally {
    lock.release();
  }
}
