// One build command of a compile from source (python-source.ts, base-libraries.ts): its output
// appended to the build's log file, a progress line when it starts, a heartbeat while it runs, and
// its seconds when it ends. A failure names the log.

import { createWriteStream } from 'node:fs';
import { execa } from 'execa';
import type { Progress } from './progress.js';

/** A compile command as make echoes it: gcc, cc or pyrelo's zig wrapper (…/cc). */
const COMPILE_LINE = /^(\S*\/)?(gcc|cc|clang) (.* )?-c /;

/**
 * Runs FILE ARGS in CWD with exactly ENV. Progress lines read "WHO: LABEL …" ("python-source:
 * configure done (12.3 s)"), a failure "LABEL failed (exit N); its output is in LOG".
 */
export async function runLogged(
  progress: Progress,
  who: string,
  label: string,
  log: string,
  file: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
): Promise<number> {
  const t0 = Date.now();
  progress.note(`${who}: ${label} ...`);
  const out = createWriteStream(log, { flags: 'a' });
  out.write(`\n$ ${file} ${args.join(' ')}\n`);
  let compiled = 0;
  const child = execa(file, args, { cwd, env, extendEnv: false, reject: false, all: true, buffer: false });
  child.all?.on('data', (chunk: Buffer) => {
    out.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (COMPILE_LINE.test(line)) compiled += 1;
  });
  const timer = setInterval(() => {
    progress.note(
      `${who}: ${label}: ${((Date.now() - t0) / 1000).toFixed(0)} s` +
        `${compiled > 0 ? `, ${compiled} files compiled` : ''}`,
    );
  }, 20_000);
  let result;
  try {
    result = await child;
  } finally {
    clearInterval(timer);
    await new Promise<void>((done) => out.end(done));
  }
  if (result.exitCode !== 0) {
    throw new Error(`${label} failed (exit ${result.exitCode ?? result.signal}); its output is in ${log}`);
  }
  const seconds = (Date.now() - t0) / 1000;
  progress.note(`${who}: ${label} done (${seconds.toFixed(1)} s)`);
  return seconds;
}
