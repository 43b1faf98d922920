// Whether this process sees a mounted /proc, judged as ld.so judges it when it looks for the
// program's $ORIGIN (README "Launchers and /proc"): readlink("/proc/self/exe") gives an absolute
// path. A deleted or anonymous executable reads as "[...]" or with " (deleted)"; only the first
// makes ld.so give up, and neither happens to the agent or the CLI, so a readable link is enough.

import { readlinkSync } from 'node:fs';

export function procSelfExeReadable(): boolean {
  try {
    const target = readlinkSync('/proc/self/exe');
    return target.length > 0 && !target.startsWith('[');
  } catch {
    return false;
  }
}
