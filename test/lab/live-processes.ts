// Processes and scratch folders the lab must not leave behind when the test run is
// interrupted. Mounts need no entry here: they live in private mount namespaces and
// vanish with their processes. The handlers are installed only while something is live,
// so a process with nothing running keeps Node's default SIGINT/SIGTERM behaviour.
import { rmSync } from 'node:fs';
import { constants } from 'node:os';

interface Killable {
  kill(signal: NodeJS.Signals): boolean;
}

const liveProcesses = new Set<Killable>();
const scratchFolders = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(signal: NodeJS.Signals): void {
  cleanUpNow();
  uninstall();
  // Re-raise so the process ends as the signal intended (other listeners, e.g. execa's
  // exit hook, do not mean someone handles it), unless the program said it does.
  if (signalsLeftToCaller) return;
  process.kill(process.pid, signal);
  // The re-raised signal can be swallowed (execa's signal-exit hook stays registered and,
  // seeing itself not alone, does nothing), and meanwhile the killed runs settle and the
  // event loop would drain into a normal exit 0. This timer keeps the loop alive and
  // exits with the status a shell reports for that signal.
  setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 200);
}

let signalsLeftToCaller = false;

/** For a program that handles SIGINT/SIGTERM itself (the CLI's ssh-up): clean up, don't exit. */
export function leaveSignalsToCaller(): void {
  signalsLeftToCaller = true;
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
