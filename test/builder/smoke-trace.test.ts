// The build's smoke run (build-smoke.ts) read from real LD_DEBUG=files output: a program of a
// "bundle" (a folder) dlopens glibc's libm by name, a library by absolute path outside the folder,
// starts host programs (sh, and the host's python3 loading a library of the folder that dlopens
// libbz2 by name) and a child of itself
// that dlopens libmagic by name. Run-time needs are
// the child's libmagic (to graft) and the absolute path (for the host to provide); libm, the host
// programs and the objects they load are not. Where ld.so found each library is taken from the
// build host's own ld.so cache (`ldconfig -p`), not written here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { plannedNeeds, runTracedSmoke } from '../../src/builder/build-smoke.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

const PROGRAM = `#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc == 2) return dlopen(argv[1], RTLD_NOW) != NULL ? 0 : 11; /* the child */
  if (dlopen("libm.so.6", RTLD_NOW) == NULL) return 12;
  if (dlopen(argv[2], RTLD_NOW) == NULL) return 13;                 /* an absolute path */
  if (system(argv[3]) != 0) return 14;                              /* host programs */
  pid_t pid = fork();
  if (pid == 0) { execl(argv[0], argv[0], argv[1], (char *)NULL); _exit(15); }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 16;
}
`;

const PLUGIN = `#include <dlfcn.h>
__attribute__((constructor)) static void open_bz2(void) { dlopen("libbz2.so.1.0", RTLD_NOW); }
`;

/** Where this host's ld.so cache says a soname lies. */
async function cached(soname: string): Promise<string | null> {
  const r = await execa('ldconfig', ['-p'], { reject: false });
  const line = r.stdout.split('\n').find((l) => l.trim().startsWith(`${soname} (`) && l.includes('x86-64'));
  return line?.split(' => ')[1]?.trim() ?? null;
}

test(
  "the smoke trace: a child's dlopen by name and an absolute path outside the bundle are run-time needs; glibc's " +
    "and host programs' are not",
  async (t) => {
    const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    if (!hasGcc) return t.skip('needs gcc to build the fixture');
    const magic = await cached('libmagic.so.1');
    const zlib = await cached('libz.so.1');
    if (magic === null || zlib === null)
      return t.skip('needs libmagic1 and zlib1g in the ld.so cache (scripts/install-system-deps.sh)');
    if (!existsSync('/usr/bin/python3'))
      return t.skip("needs the host's /usr/bin/python3 (scripts/install-system-deps.sh)");
    const bundle = await makeTempDir('pyrelo-smoke-trace-');
    try {
      await compileExecutable({ dir: bundle, file: 'bin/app', source: PROGRAM, needed: ['-ldl'] });
      // A host program that loads a library of the bundle which dlopens by name (the host's python3 with
      // ctypes): the caller lies in the bundle, the process is not the bundle's.
      const plugin = await compileSharedLibrary({
        dir: bundle,
        file: 'lib/plugin.so',
        needed: ['-ldl'],
        source: PLUGIN,
      });
      const hostTool =
        "sh -c 'exit 0' && /usr/bin/python3 -I -c " + `'import ctypes, sys; ctypes.CDLL(sys.argv[1])' ${plugin}`;
      const { trace } = await runTracedSmoke(bundle, ['bin/app', 'libmagic.so.1', zlib, hostTool]);
      const needs = plannedNeeds(trace, bundle, loadGraftPolicy());
      assert.deepEqual(
        needs,
        [
          { name: zlib, caller: 'bin/app', grafted: null, origin: zlib },
          { name: 'libmagic.so.1', caller: 'bin/app', grafted: 'lib/pyrelo-grafted/libmagic.so.1', origin: magic },
        ].sort((a, b) => (a.name < b.name ? -1 : 1)),
      );
      // The host programs ran and were traced too, then left out.
      assert.ok(
        trace.processes.some((p) => p.program === 'sh' || p.program.endsWith('/sh')),
        JSON.stringify(trace.processes),
      );
      assert.ok(
        trace.dlopens.some((d) => d.name === 'libm.so.6'),
        "glibc's libm was dlopened and traced",
      );
      assert.ok(
        trace.dlopens.some(
          (d) => d.name === 'libbz2.so.1.0' && d.program === '/usr/bin/python3' && d.caller === plugin,
        ),
        "the host python3's dlopen was traced",
      );
    } finally {
      await removeDir(bundle);
    }
  },
);

test('a smoke command that fails: one error with its exit status and output', async () => {
  const bundle = await makeTempDir('pyrelo-smoke-trace-');
  try {
    mkdirSync(join(bundle, 'bin'));
    writeFileSync(join(bundle, 'bin/fail'), '#!/bin/sh\necho broken >&2\nexit 4\n', { mode: 0o755 });
    await assert.rejects(runTracedSmoke(bundle, ['bin/fail']), {
      message: '--smoke bin/fail: exited with 4 in the staged bundle:\nbroken',
    });
  } finally {
    await removeDir(bundle);
  }
});

test('what the smoke command writes into the bundle is removed, and named', async () => {
  const bundle = await makeTempDir('pyrelo-smoke-trace-');
  try {
    mkdirSync(join(bundle, 'bin'));
    writeFileSync(
      join(bundle, 'bin/write'),
      '#!/bin/sh\nmkdir -p cache/deep && echo x > cache/deep/file && echo y > bin/left\n',
      { mode: 0o755 },
    );
    const { created } = await runTracedSmoke(bundle, ['bin/write']);
    assert.deepEqual(created, ['bin/left', 'cache/deep/file']);
    assert.deepEqual(readdirSync(bundle), ['bin']);
    assert.deepEqual(readdirSync(join(bundle, 'bin')), ['write']);
  } finally {
    await removeDir(bundle);
  }
});
