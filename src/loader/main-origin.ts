// Whether the main program's $ORIGIN has a value (docs/loader.md sections 2 and 9; README "Launchers
// and /proc"). ld.so gives a map its $ORIGIN from the path it opened it under, except the main
// program of a normal exec: the kernel mapped that one, so ld.so reads /proc/self/exe. Without
// /proc it has no value, and every search path element using it is dropped (a DT_NEEDED entry
// using it is skipped). A program started as `ld.so PROGRAM` (--libc bundle launchers) and a
// library checked on its own (as ldd runs it) are opened by ld.so under their path: /proc plays
// no part. Observed with the real loaders of glibc 2.31, 2.36 and 2.41 (test/loader/proc-origin.test.ts).

import type { LoaderConfig } from './host-view.js';
import type { LoadableObject } from './loadable.js';

export function mainOriginUnknown(config: LoaderConfig, main: LoadableObject, throughLoader: boolean): boolean {
  return !config.procMounted && !throughLoader && main.interpreter !== null;
}
