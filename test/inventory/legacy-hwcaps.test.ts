// The legacy hwcaps subdirectories (tls/, x86_64/, …) that glibc before 2.37 searches: the list
// pyrelo derives must equal the search path the real loader prints (LD_DEBUG=libs), and a library
// placed in such a folder is picked (or, from 2.37 on, ignored) exactly as the real loader does, on
// this machine and in the lab's roots (2.31, 2.36, 2.41).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { detectCpuHwcaps, legacyHwcapsSubdirs } from '../../src/inventory/hwcaps.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { compareWithRealLoader } from '../support/compare.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { traceWithRealLoader } from '../support/real-loader.js';
import { compareInRoot } from '../support/lab-compare.js';
import { ensureRoot, skipUnlessLab } from '../lab/lab.js';

test("the legacy subdirectories pyrelo derives are the ones this machine's ld.so searches", async (t) => {
  const config = loaderConfigForRoot('/');
  if (config.glibcVersion !== null && (config.glibcVersion[0] > 2 || config.glibcVersion[1] >= 37)) {
    t.skip(`glibc ${config.glibcVersion.join('.')} has no legacy hwcaps subdirectories`);
    return;
  }
  const r = await execa('/lib64/ld-linux-x86-64.so.2', ['--inhibit-cache', '/bin/true'], {
    env: { LD_DEBUG: 'libs', LD_LIBRARY_PATH: '/pyrelo-nonexistent' },
    extendEnv: false,
    reject: false,
  });
  const line = r.stderr.split('\n').find((l) => l.includes('search path=/pyrelo-nonexistent/'));
  assert.ok(line, r.stderr);
  const real = /search path=(\S+)/
    .exec(line)![1]!
    .split(':')
    .map((p) => p.slice('/pyrelo-nonexistent'.length).replace(/^\//, ''))
    .filter((p) => p !== '' && !p.startsWith('glibc-hwcaps/'));
  assert.deepEqual(legacyHwcapsSubdirs(detectCpuHwcaps()), real);
  assert.deepEqual([...config.legacyHwcapsSubdirs], real);
});

/** A program whose RUNPATH folder holds libleg.so.1 both plainly and in a legacy hwcaps subfolder. */
async function legacyFixture(dir: string): Promise<string> {
  const lib = join(dir, 'lib');
  const subdir = legacyHwcapsSubdirs(detectCpuHwcaps())[1]!; // e.g. "tls/x86_64"
  await compileSharedLibrary({
    dir: lib,
    file: 'libleg.so.1',
    soname: 'libleg.so.1',
    source: 'int leg(void) { return 1; }\n',
  });
  mkdirSync(join(lib, subdir), { recursive: true });
  copyFileSync(join(lib, 'libleg.so.1'), join(lib, subdir, 'libleg.so.1'));
  return compileExecutable({
    dir,
    file: 'prog',
    source: 'extern int leg(void); int main(void) { return leg() - 1; }\n',
    needed: [join(lib, 'libleg.so.1')],
    runpath: lib,
  });
}

test('a library in a legacy hwcaps folder: pyrelo picks what ld.so picks, here', async () => {
  const dir = await makeTempDir('pyrelo-legacy-');
  try {
    const program = await legacyFixture(dir);
    const report = checkFile(new RootHostView('/', loaderConfigForRoot('/')), program, { cwd: '/' });
    assert.deepEqual(compareWithRealLoader(report, await traceWithRealLoader(program, { bindNow: true })), []);
  } finally {
    await removeDir(dir);
  }
});

for (const name of ['bullseye', 'bookworm', 'trixie'] as const) {
  test(
    `a library in a legacy hwcaps folder: pyrelo picks what ${name}'s ld.so picks`,
    { timeout: 40 * 60_000 },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const dir = await makeTempDir('pyrelo-legacy-');
      try {
        const program = await legacyFixture(dir);
        const { report, differences } = await compareInRoot(root, dir, program);
        assert.deepEqual(differences, []);
        const picked = report.objects.find((o) => o.name === 'libleg.so.1')?.path ?? '';
        t.diagnostic(`${name}: libleg.so.1 => ${picked}`);
      } finally {
        await removeDir(dir);
      }
    },
  );
}
