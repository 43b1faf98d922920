// A debuginfo file (objcopy --only-keep-debug, as /usr/lib/debug/.build-id/*.debug holds) keeps its
// program headers, but its PT_DYNAMIC has nothing in the file (p_filesz 0). ld.so refuses it, on
// its own and as a dependency: "object file has no dynamic section". pyrelo used to say it loads.
// Expectations are the real loader's words on this machine (dlopen, and a program that needs it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

const DLOPEN = `#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) == NULL) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  puts("loaded");
  return 0;
}
`;

test(
  'a debuginfo-only file: refused by ld.so on its own ' + 'and as a dependency, and by pyrelo in the same words',
  async (t) => {
    const tools = await Promise.all(
      ['gcc', 'objcopy'].map((c) =>
        execa(c, ['--version'], { reject: false }).then(
          (r) => r.exitCode === 0,
          () => false,
        ),
      ),
    );
    if (tools.includes(false)) return t.skip('needs gcc and objcopy (binutils) to build the fixtures');
    const dir = await makeTempDir('pyrelo-debuginfo-');
    try {
      const library = await compileSharedLibrary({
        dir,
        file: 'lib/libdbg.so',
        soname: 'libdbg.so',
        source: 'int dbg(void) { return 1; }\n',
      });
      const debug = join(dir, 'debug', 'libdbg.so');
      mkdirSync(join(dir, 'debug'));
      await execa('objcopy', ['--only-keep-debug', library, debug]);
      const dynamic = (await execa('readelf', ['-lW', debug])).stdout
        .split('\n')
        .find((l) => l.trim().startsWith('DYNAMIC'));
      assert.match(
        dynamic ?? '',
        /^\s*DYNAMIC\s+\S+\s+\S+\s+\S+\s+0x0+\s/,
        `the fixture's PT_DYNAMIC has p_filesz 0: ${dynamic}`,
      );

      const opener = await compileExecutable({ dir, file: 'bin/opener', source: DLOPEN, needed: ['-ldl'] });
      // A program that needs libdbg.so finds the debuginfo copy first on its RUNPATH.
      const user = await compileExecutable({
        dir,
        file: 'bin/user',
        source: 'extern int dbg(void);\nint main(void) { return dbg() - 1; }\n',
        needed: [library],
        runpath: '$ORIGIN/../debug',
      });
      const view = new RootHostView('/', loaderConfigForRoot('/'));

      // On its own, as dlopen opens it.
      const real = await execa(opener, [debug], { reject: false, env: { LC_ALL: 'C' }, extendEnv: false });
      assert.equal(real.exitCode, 1, `dlopen of the debuginfo file: ${real.stdout}${real.stderr}`);
      const alone = checkFile(view, debug, {});
      assert.equal(alone.loads, false, JSON.stringify(alone.problems));
      assert.ok(
        alone.problems.some((p) => p.message === real.stderr.trim()),
        `dlerror: ${real.stderr.trim()}; pyrelo: ${JSON.stringify(alone.problems.map((p) => p.message))}`,
      );

      // As a dependency: ld.so's own error line names the object as it was asked for.
      const run = await execa(user, [], { reject: false, env: { LC_ALL: 'C' }, extendEnv: false });
      assert.equal(run.exitCode, 127, `${run.stdout}${run.stderr}`);
      const report = checkFile(view, user, {});
      assert.equal(report.loads, false, JSON.stringify(report.problems));
      const words = /error while loading shared libraries: (.*)$/m.exec(run.stderr)?.[1];
      assert.ok(words !== undefined, run.stderr);
      assert.ok(
        report.problems.some((p) => p.message === words),
        `ld.so: ${words}; pyrelo: ${JSON.stringify(report.problems.map((p) => p.message))}`,
      );

      // The real library beside it still loads: the rule is the empty dynamic segment, not the name.
      copyFileSync(library, debug);
      assert.equal((await execa(opener, [debug], { reject: false })).exitCode, 0);
      assert.equal(checkFile(new RootHostView('/', loaderConfigForRoot('/')), debug, {}).loads, true);
    } finally {
      await removeDir(dir);
    }
  },
);
