// A run-time need (manifest `runtimeNeeds`: a library the bundle's code dlopens by name) whose
// soname was allowed missing at build (`--allow-missing`) is excused like a DT_NEEDED entry of the
// bundle's own files (src/compat/runtime-need-check.ts, allowed-missing.ts): where the host lacks
// it, the report keeps ld.so's words, as a warning that names the excuse; without the excuse, the
// same need is an error. The words are the real loader's: a small interpreter, built here, asks
// the real dlopen for the same name on this machine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execa } from 'execa';
import { bundleContext } from '../../src/compat/bundle-rules.js';
import { allowedMissingLines, failsBundle, problemWords } from '../../src/compat/allowed-missing.js';
import { runtimeNeedReports } from '../../src/compat/runtime-need-check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

const INTERPRETER = 'bin/python3.99';
const CALLER = 'lib/python3.99/site-packages/odbclike/_caller.so';
const ABSENT = 'libpyrelo-absent.so.3';

const HOST = `#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) == NULL) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  puts("loaded");
  return 0;
}
`;

test(
  'a run-time need allowed missing at build is a ' + "warning in ld.so's words, and an error without the excuse",
  async () => {
    const dir = await makeTempDir('pyrelo-need-allowed-');
    try {
      const interpreter = await compileExecutable({
        dir,
        file: INTERPRETER,
        source: HOST,
        needed: ['-ldl'],
        linkArgs: ['-rdynamic'],
      });
      await compileSharedLibrary({ dir, file: CALLER, source: 'int caller(void) { return 1; }\n' });
      const real = await execa(interpreter, [ABSENT], { reject: false });
      assert.equal(real.exitCode, 1, `the real dlopen of ${ABSENT} fails here: ${real.stdout}${real.stderr}`);

      const view = new RootHostView('/', loaderConfigForRoot('/'));
      const needs = [{ name: ABSENT, caller: CALLER, grafted: null }];
      const excused = bundleContext(dir, 'host', INTERPRETER, [ABSENT]);
      const plain = bundleContext(dir, 'host', INTERPRETER);

      const [warned] = runtimeNeedReports(view, excused, [excused], { needs });
      assert.ok(warned);
      assert.equal(warned.file, `dlopen("${ABSENT}") by ${join(dir, CALLER)}`);
      assert.equal(warned.loads, false, 'the need still does not load');
      assert.equal(failsBundle(warned), false, 'an allowed-missing soname does not fail the bundle');
      const missing = warned.problems.find((p) => p.kind === 'missing-library');
      assert.ok(missing, JSON.stringify(warned.problems));
      assert.equal(missing.severity, 'warning');
      assert.equal(missing.allowedMissing, ABSENT);
      assert.equal(missing.message, real.stderr.trim(), "the words are the real dlopen's");
      assert.equal(problemWords(missing), `${real.stderr.trim()} (${ABSENT} was allowed missing at build)`);
      assert.deepEqual(allowedMissingLines(excused, [warned], 'this host'), [
        `${dir}: ${ABSENT} was allowed missing at build and is not on this host: 1 file that needs it will not ` +
          'load (warnings above)',
      ]);

      const [refused] = runtimeNeedReports(view, plain, [plain], { needs });
      assert.ok(refused);
      assert.equal(failsBundle(refused), true, 'without the excuse the need fails the bundle');
      assert.deepEqual(
        refused.problems.filter((p) => p.severity === 'error').map((p) => p.message),
        [real.stderr.trim()],
      );
    } finally {
      removeDir(dir);
    }
  },
);
