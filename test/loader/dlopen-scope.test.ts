// A library dlopened into a program (as Python loads extension modules and ctypes loads libraries)
// binds its undefined symbols in the program's global scope first, then in its own local scope.
// pyrelo's answer for each fixture is compared with what dlopen(RTLD_NOW | RTLD_LOCAL) really does
// in a process of the same program on this machine: the verdict, and dlerror()'s words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { checkDlopenByName, checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { runCheck } from '../../src/client/commands/check.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

/** The program: links libm and lib/libhost.so, exports host_api (-rdynamic), dlopens argv[1]. */
const HOST = `#include <dlfcn.h>
#include <stdio.h>
int host_api(int x) { return x + 1; }
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  void *module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (module == NULL) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  if (argc > 2) {
    /* The module itself dlopens a library by name, as a ctypes user or a plugin loader does. */
    const char *(*open_named)(const char *) = (const char *(*)(const char *))dlsym(module, "open_named");
    const char *error = open_named == NULL ? "no open_named" : open_named(argv[2]);
    if (error != NULL) { fprintf(stderr, "%s\\n", error); return 1; }
  }
  puts("loaded");
  return 0;
}
`;

interface Fixture {
  readonly dir: string;
  readonly program: string;
  /** name -> path of each library to dlopen. */
  readonly libraries: Record<string, string>;
  /** A library that dlopens a name given to it, found through its RUNPATH. */
  readonly caller: string;
}

async function fixture(dir: string): Promise<Fixture> {
  const libhost = await compileSharedLibrary({
    dir,
    file: 'lib/libhost.so',
    soname: 'libhost.so',
    source: 'int host_lib_api(void) { return 7; }\n',
  });
  const program = await compileExecutable({
    dir,
    file: 'bin/python3.99',
    source: HOST,
    needed: ['-lm', '-ldl', libhost],
    runpath: '$ORIGIN/../lib',
    linkArgs: ['-rdynamic'],
  });
  const calls = (names: string[]): string =>
    `${names.map((n) => `extern int ${n}();`).join('\n')}\ndouble nextafter(double, double);\n` +
    `int f(void) { return ${names.map((n) => `${n}()`).join(' + ')}; }\n`;
  const libdep = await compileSharedLibrary({
    dir,
    file: 'ext/libdep.so',
    soname: 'libdep.so',
    source: `${calls(['host_api'])}double g(double x) { return nextafter(x, 1.0); }\n`,
  });
  const libabsent = await compileSharedLibrary({
    dir: join(dir, 'elsewhere'),
    file: 'libabsent.so',
    soname: 'libabsent.so',
    source: 'int absent(void) { return 0; }\n',
  });
  const libraries: Record<string, string> = {
    // libm's nextafter and the program's and libhost's exports, none of them NEEDED: global scope.
    global: await compileSharedLibrary({
      dir,
      file: 'ext/global.so',
      source: `${calls(['host_api', 'host_lib_api'])}double g(double x) { return nextafter(x, 1.0); }\n`,
    }),
    // A dependency of the dlopened library binds in the global scope too.
    dependency: await compileSharedLibrary({
      dir,
      file: 'ext/dependency.so',
      source: 'extern double g(double);\ndouble h(void) { return g(0.5); }\n',
      needed: [libdep],
      runpath: '$ORIGIN',
    }),
    // Found nowhere: dlopen fails with RTLD_NOW.
    undefined: await compileSharedLibrary({ dir, file: 'ext/undefined.so', source: calls(['nowhere_defined']) }),
    // A DT_NEEDED that no search finds.
    missing: await compileSharedLibrary({
      dir,
      file: 'ext/missing.so',
      source: 'extern int absent(void);\nint m(void) { return absent(); }\n',
      needed: [libabsent],
    }),
  };
  await compileSharedLibrary({
    dir,
    file: 'named/libnamed.so.3',
    soname: 'libnamed.so.3',
    source: 'extern int host_api(int);\nint named(void) { return host_api(1); }\n',
  });
  const caller = await compileSharedLibrary({
    dir,
    file: 'ext/caller.so',
    runpath: '$ORIGIN/../named',
    needed: ['-ldl'],
    source:
      '#include <dlfcn.h>\nconst char *open_named(const char *name) { return dlopen(name, RTLD_NOW) != 0 ? 0 : ' +
      'dlerror(); }\n',
  });
  return { dir, program, libraries, caller };
}

async function realDlopen(
  program: string,
  library: string,
  byName?: string,
): Promise<{ loads: boolean; message: string }> {
  const r = await execa(program, [library, ...(byName === undefined ? [] : [byName])], {
    reject: false,
    env: { LC_ALL: 'C' },
    extendEnv: false,
  });
  if (r.exitCode === 0 && r.stdout.trim() === 'loaded') return { loads: true, message: '' };
  assert.equal(r.exitCode, 1, `${program} ${library}: unexpected exit ${r.exitCode}: ${r.stderr}`);
  return { loads: false, message: r.stderr.trim() };
}

test('a library dlopened into a program: pyrelo predicts what dlopen(RTLD_NOW|RTLD_LOCAL) does', async (t) => {
  const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  if (!hasGcc) return t.skip('needs gcc to build the fixtures');
  const dir = await makeTempDir('pyrelo-dlopen-');
  try {
    const f = await fixture(dir);
    const view = new RootHostView('/', loaderConfigForRoot('/'));
    const verdicts: Record<string, boolean> = {};
    for (const [name, library] of Object.entries(f.libraries)) {
      const real = await realDlopen(f.program, library);
      const report = checkFile(view, library, { dlopenInto: f.program, cwd: dir });
      verdicts[name] = real.loads;
      assert.equal(
        report.loads,
        real.loads,
        `${name}: pyrelo says ${report.loads ? 'loads' : 'fails'}, dlopen ` +
          `${real.loads ? 'loaded it' : `failed: ${real.message}`}\n${JSON.stringify(report.problems, null, 2)}`,
      );
      assert.equal(report.loadedInto, f.program);
      if (!real.loads) {
        // RTLD_NOW stops at the first failure; pyrelo lists them all, dlerror's among them, word for word.
        assert.ok(
          report.problems.some((p) => p.message === real.message),
          `${name}: dlerror said ${JSON.stringify(real.message)}; pyrelo: ` +
            `${JSON.stringify(report.problems.map((p) => p.message))}`,
        );
      }
    }
    // The fixtures cover both outcomes, or they prove nothing.
    assert.deepEqual(verdicts, { global: true, dependency: true, undefined: false, missing: false });
    // Checked on its own, as ldd -r checks a file, the global-scope library leaves nextafter and
    // the program's exports undefined: the rule above is what makes it load.
    const alone = checkFile(view, f.libraries.global!, { cwd: dir });
    assert.deepEqual(
      alone.problems
        .filter((p) => p.kind === 'undefined-symbol')
        .map((p) => p.symbol)
        .sort(),
      ['host_api', 'host_lib_api', 'nextafter'],
    );
  } finally {
    await removeDir(dir);
  }
});

test(
  'a library dlopened by name from a module: found ' + "through the module's RUNPATH, or missing, as dlopen says",
  async (t) => {
    const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    if (!hasGcc) return t.skip('needs gcc to build the fixtures');
    const dir = await makeTempDir('pyrelo-dlopen-name-');
    try {
      const f = await fixture(dir);
      const view = new RootHostView('/', loaderConfigForRoot('/'));
      const verdicts: Record<string, boolean> = {};
      for (const name of ['libnamed.so.3', 'libnotthere.so.9']) {
        const real = await realDlopen(f.program, f.caller, name);
        const report = checkDlopenByName(view, name, f.caller, { dlopenInto: f.program, cwd: dir });
        verdicts[name] = real.loads;
        assert.equal(report.loads, real.loads, `${name}: ${JSON.stringify(report.problems)} / ${real.message}`);
        if (!real.loads)
          assert.ok(
            report.problems.some((p) => p.message === real.message),
            `${real.message} / ${JSON.stringify(report.problems)}`,
          );
        else assert.equal(resolve(report.objects[0]?.path ?? ''), join(dir, 'named/libnamed.so.3'));
      }
      assert.deepEqual(verdicts, { 'libnamed.so.3': true, 'libnotthere.so.9': false });
    } finally {
      await removeDir(dir);
    }
  },
);

test('pyrelo check on a bundle checks its libraries as dlopened into the bundle interpreter', async (t) => {
  const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  if (!hasGcc) return t.skip('needs gcc to build the fixtures');
  const dir = await makeTempDir('pyrelo-dlopen-bundle-');
  try {
    const f = await fixture(dir);
    // An unreadable manifest still marks a bundle; its interpreter is then found as bin/python3.N.
    writeFileSync(join(dir, 'pyrelo.json'), '{}\n');
    mkdirSync(join(dir, 'out'), { recursive: true });
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array): boolean => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = runCheck([f.libraries.global!, f.libraries.dependency!, f.libraries.undefined!], { env: [], json: true });
    } finally {
      process.stdout.write = original;
    }
    const json = JSON.parse(written.join('')) as { files: { file: string; loads: boolean }[] };
    const loads = Object.fromEntries(json.files.map((file) => [file.file.slice(dir.length + 1), file.loads]));
    assert.deepEqual(loads, { 'ext/global.so': true, 'ext/dependency.so': true, 'ext/undefined.so': false });
    assert.equal(code, 1);
  } finally {
    await removeDir(dir);
  }
});
