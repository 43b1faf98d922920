// LD_PRELOAD (docs/loader-model.md, "LD_PRELOAD") against the real loader, on this machine and in
// the Debian lab roots: libraries preloaded into perl (perl-base is Essential, so every Debian root
// has it). A library whose TLS is reached with the initial-exec model and is larger than any
// dlopen's surplus cannot be dlopened, but starts fine as a preload, because the start-up objects'
// TLS is laid out in the initial static block; a preload whose DT_NEEDED is missing stops the
// program. pyrelo's verdict for each, checked as preloaded (CheckOptions.preloaded), must equal the
// real start's, and the objects it lists must be ld.so's trace, in ld.so's order.

import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { checkFile } from '../../src/loader/check.js';
import type { HostView } from '../../src/loader/host-view.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { DEBIAN_ROOT_NAMES, ensureRoot, skipUnlessLab } from '../lab/lab.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { rootWithFixtures } from '../support/root-with-fixtures.js';
import { hostRunner, traceWithRealLoader, type CommandRunner } from '../support/real-loader.js';

const PERL = '/usr/bin/perl';
const LAB_TIMEOUT = 20 * 60_000;

let dir = '';
let cannotBuild: string | undefined;
/** 16 KiB of initial-exec TLS: no dlopen has that much surplus (data/static-tls.json). */
let bigTls = '';
/** The same, needing a library that exists nowhere. */
let needsAbsent = '';
/** A preload with a dependency of its own, which ld.so loads after the program's. */
let withDependency = '';

const tlsSource = (name: string, bytes: number): string =>
  `static __thread char ${name}_block[${bytes}];\nint ${name}_touch(int i) { ${name}_block[i] = 1; return ` +
  `${name}_block[0]; }\n`;

before(async () => {
  if (process.arch !== 'x64') {
    cannotBuild = 'the static TLS layout is modelled for x86_64 only';
    return;
  }
  if (spawnSync('gcc', ['--version']).status !== 0 || spawnSync(PERL, ['-e', '1']).status !== 0) {
    cannotBuild = 'needs gcc and perl';
    return;
  }
  dir = await makeTempDir('pyrelo-preload-');
  // No C library: the files need no GLIBC_x.y version and load under bullseye's 2.31 as well.
  const nolibc = ['-nostdlib', '-ftls-model=initial-exec'];
  bigTls = await compileSharedLibrary({ dir, file: 'lib/big_tls.so', source: tlsSource('big', 16384), cflags: nolibc });
  // Linked against a stub that is then removed: the DT_NEEDED stays, the library exists nowhere.
  const stub = await compileSharedLibrary({
    dir,
    file: 'stub/libpyrelo-absent.so.1',
    source: 'int pyrelo_absent(void) { return 0; }\n',
    cflags: ['-nostdlib'],
    soname: 'libpyrelo-absent.so.1',
  });
  needsAbsent = await compileSharedLibrary({
    dir,
    file: 'lib/needs_absent.so',
    source: tlsSource('absent', 64),
    cflags: nolibc,
    needed: [stub],
  });
  rmSync(stub);
  const dependency = await compileSharedLibrary({
    dir,
    file: 'lib/libpreloaddep.so',
    source: tlsSource('dep', 64),
    cflags: nolibc,
    soname: 'libpreloaddep.so',
  });
  withDependency = await compileSharedLibrary({
    dir,
    file: 'lib/with_dep.so',
    source: tlsSource('top', 64),
    cflags: nolibc,
    needed: [dependency],
    runpath: '$ORIGIN',
  });
});

after(async () => {
  if (dir !== '') await removeDir(dir);
});

function skipUnlessBuilt(t: TestContext): boolean {
  if (cannotBuild !== undefined) t.skip(cannotBuild);
  return cannotBuild !== undefined;
}

/** `LD_PRELOAD=FILE perl -e 'print "started"'`: whether perl started, and ld.so's words if not. */
async function realStart(runner: CommandRunner, file: string): Promise<{ starts: boolean; message: string }> {
  const r = await runner([PERL, '-e', 'print "started"'], { LC_ALL: 'C', LD_PRELOAD: file });
  const starts = r.exitCode === 0 && r.stdout === 'started';
  return { starts, message: starts ? '' : r.stderr.trim() };
}

async function compare(t: TestContext, view: HostView, runner: CommandRunner): Promise<void> {
  const outcomes: string[] = [];
  for (const file of [bigTls, needsAbsent, withDependency]) {
    const real = await realStart(runner, file);
    const preloaded = checkFile(view, file, { dlopenInto: PERL, preloaded: true, cwd: '/' });
    const errors = preloaded.problems.filter((p) => p.severity === 'error');
    assert.equal(preloaded.loads, real.starts, `${file}: ${JSON.stringify(errors)} against ${real.message}`);
    // ld.so's fatal error names the missing library: "perl: error while loading shared libraries: NAME: …".
    if (!real.starts)
      assert.ok(
        errors.some((e) => real.message.includes(`error while loading shared libraries: ${e.message}`)),
        `${file}: ld.so said ${real.message}; pyrelo ${JSON.stringify(errors)}`,
      );
    outcomes.push(`${file.slice(dir.length + 5)} ${real.starts ? 'starts' : 'stops'}`);
  }
  // The rule this is about: the big-TLS library cannot be dlopened, yet starts as a preload.
  const dlopened = checkFile(view, bigTls, { dlopenInto: PERL, cwd: '/' });
  assert.equal(dlopened.loads, false, 'the big-TLS library cannot be dlopened');
  assert.match(dlopened.problems[0]?.message ?? '', /cannot allocate memory in static TLS block$/);
  assert.deepEqual(
    [(await realStart(runner, bigTls)).starts, (await realStart(runner, needsAbsent)).starts],
    [true, false],
    'both outcomes occur',
  );
  // The objects, in ld.so's order: the preload right after the program, its dependency after the program's.
  const trace = await traceWithRealLoader(PERL, { env: { LD_PRELOAD: withDependency }, runner, bindNow: true });
  const report = checkFile(view, withDependency, { dlopenInto: PERL, preloaded: true, cwd: '/' });
  assert.deepEqual(
    report.objects.slice(1).map((o) => o.path),
    trace.objects.map((o) => o.path),
    'objects and order against ld.so --list with LD_PRELOAD',
  );
  t.diagnostic(`${view.label}: ${outcomes.join(', ')}; ${trace.objects.length} objects in ld.so's order`);
}

test('this machine: a preloaded library starts or stops the program exactly as ld.so does', async (t) => {
  if (skipUnlessBuilt(t)) return;
  await compare(t, new RootHostView('/', loaderConfigForRoot('/')), hostRunner);
});

for (const name of DEBIAN_ROOT_NAMES) {
  test(
    `${name}: a preloaded library starts or stops the program exactly as the root's ld.so does`,
    { timeout: LAB_TIMEOUT },
    async (t) => {
      if (skipUnlessBuilt(t)) return;
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const { view, runner } = rootWithFixtures(root, dir);
      await compare(t, view, runner);
    },
  );
}
