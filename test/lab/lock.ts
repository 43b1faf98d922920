// A cross-process lock: a folder created with mkdir (atomic) holding the owner's pid.
// A lock whose owner is dead (an interrupted build) is taken over, not waited on forever.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 500;
/** Between mkdir and writing the pid file the owner is unknown; only then is age used. */
const OWNERLESS_GRACE_MS = 10_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(lockDir: string): Promise<boolean> {
  const pid = Number.parseInt(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => ''), 10);
  if (Number.isInteger(pid) && pid > 0) return !isAlive(pid);
  const info = await stat(lockDir).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > OWNERLESS_GRACE_MS;
}

export async function withLock<T>(lockDir: string, onWait: () => void, work: () => Promise<T>): Promise<T> {
  let waited = false;
  for (;;) {
    try {
      await mkdir(lockDir, { recursive: false });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(lockDir)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!waited) onWait();
    waited = true;
    await sleep(POLL_MS);
  }
  try {
    await writeFile(join(lockDir, 'pid'), `${process.pid}\n`);
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
