// One install or rollback at a time per prefix: P/.pyrelo/lock holds the pid of its owner. The
// file is created complete (written under a temporary name, then hard-linked to `lock`, which
// fails if it exists), so a reader never sees an empty lock. A lock whose pid is dead was left by
// a killed process (kill -9, a lost host) and is taken over; a live one is refused (exit 2).

import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { temporarySibling } from '../bundle/atomic-write.js';
import { BundleError } from '../bundle/errors.js';
import type { ReleaseLayout } from './layout.js';

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

function holder(lock: string): number | null {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export interface HeldLock {
  release(): void;
}

export function acquireLock(layout: ReleaseLayout): HeldLock {
  const lock = layout.lock;
  const temporary = temporarySibling(lock);
  writeFileSync(temporary, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        linkSync(temporary, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const pid = holder(lock);
      if (pid !== null && pid !== process.pid && processIsAlive(pid)) {
        throw new BundleError(
          lock,
          `held by process ${pid}: another install or rollback is running on ${layout.prefix} (remove the file ` +
            'if that process is not pyrelo)',
        );
      }
      // Stale (its process is gone, or the file is not ours to read): take it over, once.
      if (attempt > 0)
        throw new BundleError(lock, 'could not take over a stale lock (another process keeps taking it)');
      rmSync(lock, { force: true });
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  return {
    release(): void {
      if (holder(lock) === process.pid) rmSync(lock, { force: true });
    },
  };
}
