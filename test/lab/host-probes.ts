// What the tests look at on the HOST side to prove a run left nothing behind.
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** The host's mount table, as this (host-namespace) process sees it. */
export async function hostMounts(): Promise<string> {
  return readFile('/proc/self/mounts', 'utf8');
}

/** Host pids whose argv is exactly `argv` (matched on /proc/PID/cmdline). */
export async function pidsRunning(argv: string[]): Promise<number[]> {
  const wanted = `${argv.join('\0')}\0`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline === wanted) pids.push(Number(entry));
  }
  return pids;
}

/** Polls until `check` holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}
