// Processes and scratch folders the lab must not leave behind when the test run is
// interrupted. Mounts need no entry here: they live in private mount namespaces and
// vanish with their processes. The handlers are installed only while something is live,
// so a process with nothing running keeps Node's default SIGINT/SIGTERM behaviour.
import { rmSync } from 'node:fs';

interface Killable {
  kill(signal: NodeJS.Signals): boolean;
}

const liveProcesses = new Set<Killable>();
const scratchFolders = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(signal: NodeJS.Signals): void {
  cleanUpNow();
  uninstall();
  process.kill(process.pid, signal); // re-raise: exit as the signal intended
}

function cleanUpNow(): void {
  for (const child of liveProcesses) child.kill('SIGKILL');
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true });
}

let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', cleanUpNow);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
  process.off('exit', cleanUpNow);
}

function uninstallWhenIdle(): void {
  if (liveProcesses.size === 0 && scratchFolders.size === 0) uninstall();
}

export function trackProcess(child: Killable): () => void {
  liveProcesses.add(child);
  install();
  return () => {
    liveProcesses.delete(child);
    uninstallWhenIdle();
  };
}

export function trackScratchFolder(folder: string): () => void {
  scratchFolders.add(folder);
  install();
  return () => {
    scratchFolders.delete(folder);
    uninstallWhenIdle();
  };
}
