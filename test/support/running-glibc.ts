// The glibc this test process runs on, as Node itself reports it: the tests that compare with this
// host's ld.so decide from it which of ld.so's outputs must exist (glibc 2.33 added the hwcaps and
// search-path sections of `ld.so --help`, 2.34 `--list-diagnostics`).

import type { TestContext } from 'node:test';

/** [major, minor] of the running glibc; null off glibc (musl, macOS). */
export function runningGlibc(): [number, number] | null {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  const m = /^(\d+)\.(\d+)/.exec(header?.glibcVersionRuntime ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Skips `t`, with the reason, unless the running glibc is at least major.minor. True when skipped. */
export function skipBeforeGlibc(t: TestContext, major: number, minor: number, what: string): boolean {
  const glibc = runningGlibc();
  if (glibc === null) {
    t.skip(`not running on glibc: no ${what}`);
    return true;
  }
  if (glibc[0] < major || (glibc[0] === major && glibc[1] < minor)) {
    t.skip(`glibc ${glibc.join('.')} has no ${what} (${major}.${minor}+)`);
    return true;
  }
  return false;
}
