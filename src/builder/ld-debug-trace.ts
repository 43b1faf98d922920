// Reads what ld.so wrote with LD_DEBUG=files and LD_DEBUG_OUTPUT=DIR/trace during the build's smoke
// run (README, `--smoke`): one file DIR/trace.PID per process image ld.so started (an exec in the
// same process appends to the same file: ld.so opens it with O_APPEND; a fork without exec keeps
// writing to its parent's file under its own PID). The lines it reads (glibc 2.36):
//   PID: file=NAME [0];  needed by OBJECT [0]          a DT_NEEDED (not read: the loader check sees those)
//   PID: file=NAME [0];  dynamically loaded by CALLER [0]   a dlopen that maps a new object
//   PID: opening file=PATH [0]; direct_opencount=N     the end of a dlopen, with the path it opened
//   PID: initialize program: PROGRAM                   the program (its argv[0]) is about to run
// A dlopen that fails or finds an object already loaded prints no "dynamically loaded by" line
// followed by its "opening file"; only dlopens that mapped a new object count.

import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** One successful dlopen that mapped a new object. */
export interface TracedDlopen {
  /** What dlopen was asked for: a name without a slash (searched) or a path. */
  readonly name: string;
  /** The object whose code called dlopen (absolute, as ld.so names it). */
  readonly caller: string;
  /** Where ld.so found it (l_name). */
  readonly path: string;
  /** The program of the process (its argv[0] as ld.so saw it). */
  readonly program: string;
}

export interface TracedProcess {
  readonly pid: number;
  readonly program: string;
}

export interface SmokeTrace {
  /** Every process image that reached its program's start. */
  readonly processes: readonly TracedProcess[];
  readonly dlopens: readonly TracedDlopen[];
}

const LINE = /^\s*(\d+):\s(.*)$/;
const DLOPEN = /^file=(.+) \[\d+\];\s+dynamically loaded by (.+) \[\d+\]$/;
const OPENING = /^opening file=(.+) \[\d+\]; direct_opencount=\d+$/;
const PROGRAM = /^initialize program: (.+)$/;

/**
 * Parses one trace file. A dlopen belongs to the image its process runs at that moment: the last
 * "initialize program" of its PID (after an exec, the new one), or for a forked child that has not
 * exec'd, its parent's, the file's own PID. (A dlopen from a library constructor of an image that
 * has not reached "initialize program" yet is counted with the image before the exec.)
 */
export function parseTraceFile(text: string, ownPid: number): SmokeTrace {
  const programs = new Map<number, string>();
  const processes: TracedProcess[] = [];
  const pending = new Map<number, { name: string; caller: string }>();
  const dlopens: TracedDlopen[] = [];
  for (const raw of text.split('\n')) {
    const line = LINE.exec(raw);
    if (line === null) continue;
    const pid = Number(line[1]);
    const body = line[2]!.trim();
    const program = PROGRAM.exec(body);
    if (program !== null) {
      // ld.so may print it twice for one start (dash does); one image per PID and program.
      if (programs.get(pid) !== program[1]) processes.push({ pid, program: program[1]! });
      programs.set(pid, program[1]!);
      continue;
    }
    const dlopen = DLOPEN.exec(body);
    if (dlopen !== null) {
      pending.set(pid, { name: dlopen[1]!, caller: dlopen[2]! });
      continue;
    }
    const opening = OPENING.exec(body);
    if (opening !== null) {
      const asked = pending.get(pid);
      const path = opening[1]!;
      // The "opening" of another dlopen (one that found an object already loaded) is not this one's.
      if (asked === undefined || !(path === asked.name || basename(path) === asked.name)) continue;
      pending.delete(pid);
      const image = programs.get(pid) ?? programs.get(ownPid);
      if (image !== undefined) dlopens.push({ ...asked, path, program: image });
    }
  }
  return { processes, dlopens };
}

/** Every trace file ld.so wrote as `${prefix}.PID` in `dir`. */
export function readTraces(dir: string, prefix = 'trace'): SmokeTrace {
  const processes: TracedProcess[] = [];
  const dlopens: TracedDlopen[] = [];
  for (const name of readdirSync(dir).sort()) {
    const match = new RegExp(`^${prefix}\\.(\\d+)$`).exec(name);
    if (match === null) continue;
    const one = parseTraceFile(readFileSync(join(dir, name), 'utf8'), Number(match[1]));
    processes.push(...one.processes);
    dlopens.push(...one.dlopens);
  }
  return { processes, dlopens };
}

/**
 * Whether a traced program is the bundle's: ld.so names it by its argv[0], which the bundle's
 * launchers and sys.executable make absolute; a relative one is taken from `cwd` (the smoke run's),
 * and a bare name was searched on PATH, which names no folder of the bundle in the smoke run.
 */
export function programInBundle(program: string, bundle: string, cwd: string): boolean {
  if (!program.includes('/')) return false;
  let path = resolve(cwd, program);
  try {
    path = realpathSync(path);
  } catch {
    // Gone since (a temporary program): judge by the name.
  }
  return path.startsWith(`${realpathSync(bundle)}/`) || path.startsWith(`${bundle}/`);
}
