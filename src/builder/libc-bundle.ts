// --libc bundle: the bundle ships glibc (its loader and libraries, from the build host) and starts
// the interpreter through the bundled loader:
//   lib/pyrelo-glibc/ld-linux-x86-64.so.2 --inhibit-cache --library-path lib/pyrelo-glibc
//     --argv0 "$0" libexec/python3.11 ARGS
// so it runs on hosts with an older glibc (or none). Why this shape:
// - --library-path, not LD_LIBRARY_PATH: it applies to this process only, so child processes
//   (sh, host tools) start with the host's own loader and libraries and inherit nothing;
// - lib/pyrelo-glibc is a folder no RUNPATH names, so nothing but the bundled loader finds it;
// - --inhibit-cache: the host's /etc/ld.so.cache lists libraries built for the host's glibc;
// - --argv0 "$0": sys.executable is the launcher, so `sys.executable -m …` children go through it
//   again; the real ELF lives in libexec/ at the same depth as bin/, so its $ORIGIN/../lib works.

import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ElfFile } from '../elf/elf-file.js';
import { checkFile } from '../loader/check.js';
import type { HostView } from '../loader/host-view.js';
import type { GraftPolicy } from './graft-policy.js';
import { GLIBC_DIR, LIBEXEC_DIR } from '../bundle/layout.js';

export { GLIBC_DIR, LIBEXEC_DIR };

/** Parts of glibc for debuggers and LD_PRELOAD debugging, never loaded by a program on its own. */
const DEBUG_ONLY = new Set(['libthread_db.so.1', 'libc_malloc_debug.so.0']);

export interface LibcBundleResult {
  readonly summary: string;
  readonly loader: string;
}

/** The launcher bin/NAME: runs libexec/NAME through the bundled loader. */
export function glibcLauncher(interpreter: string, loaderName: string): string {
  /* eslint-disable max-len -- an embedded program, kept line for line as it runs */
  return `#!/bin/sh
# Starts ${interpreter} with the glibc shipped in this bundle (pyrelo build --libc bundle).
# Nothing is exported: child processes use the host's own loader and libraries.
here=$(dirname -- "$(realpath "$0")")
top="$here/.."
exec "$top/${GLIBC_DIR}/${loaderName}" --inhibit-cache --library-path "$top/${GLIBC_DIR}" --argv0 "$0" "$top/${LIBEXEC_DIR}/${interpreter}" "$@"
`;
  /* eslint-enable max-len */
}

/**
 * Copies the loader and every glibc library the policy lists (those present next to the host's
 * libc, as `view` of the build host finds it) into lib/pyrelo-glibc, moves the interpreter to
 * libexec/ and writes the launcher.
 */
export function bundleGlibc(
  bundle: string,
  interpreterRel: string,
  view: HostView,
  policy: GraftPolicy,
): LibcBundleResult {
  const interpreter = join(bundle, interpreterRel);
  const elf = ElfFile.open(interpreter);
  let interp: string | null;
  try {
    interp = elf.interpreter();
  } finally {
    elf.close();
  }
  if (interp === null) throw new Error(`${interpreterRel}: no PT_INTERP, cannot tell which loader to bundle`);
  const report = checkFile(view, interpreter, {});
  const libc = report.objects.find((o) => o.name === 'libc.so.6')?.path;
  if (libc === undefined || libc === null) throw new Error(`${interpreterRel}: libc.so.6 not found on the build host`);
  const libcDir = dirname(realpathSync(libc));
  const target = join(bundle, GLIBC_DIR);
  mkdirSync(target, { recursive: true });
  const loaderName = basename(interp);
  copyFileSync(realpathSync(interp), join(target, loaderName));
  chmodSync(join(target, loaderName), 0o755);
  const copied = [loaderName];
  const present = new Set(readdirSync(libcDir));
  for (const soname of policy.sonames) {
    if (soname === loaderName || !present.has(soname) || soname.startsWith('ld-linux') || DEBUG_ONLY.has(soname))
      continue;
    copyFileSync(realpathSync(join(libcDir, soname)), join(target, soname));
    chmodSync(join(target, soname), 0o644);
    copied.push(soname);
  }
  // The interpreter moves to libexec/ (same depth, so $ORIGIN/../lib still finds libpython).
  const name = basename(interpreterRel);
  mkdirSync(join(bundle, LIBEXEC_DIR), { recursive: true });
  renameSync(interpreter, join(bundle, LIBEXEC_DIR, name));
  writeFileSync(interpreter, glibcLauncher(name, loaderName));
  chmodSync(interpreter, 0o755);
  if (!existsSync(join(target, 'libc.so.6'))) throw new Error(`libc.so.6 was not copied from ${libcDir}`);
  return {
    summary:
      `bundled glibc from ${libcDir} (${copied.length} files: ${copied.join(' ')}) into ${GLIBC_DIR}; bin/${name}` +
      ` starts libexec/${name} through the bundled loader`,
    loader: `${GLIBC_DIR}/${loaderName}`,
  };
}
