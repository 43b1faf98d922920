// The build as a list of steps (src/builder/build-steps.ts) over one context (build-context.ts):
// the recorded steps keep the names and order the manifest's `steps` had, and the context's ELF
// list and host view describe the bundle as it is until a step says it changed ELF files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BuildContext, type BuildSetup } from '../../src/builder/build-context.js';
import { BUILD_STEPS } from '../../src/builder/build-steps.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { Progress } from '../../src/builder/progress.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

test(
  'build steps: the recorded ones in the order the ' +
    'manifest lists them; the quiet ones where the build did that work',
  () => {
    assert.deepEqual(
      BUILD_STEPS.filter((s) => s.recorded).map((s) => s.name),
      [
        'python-source',
        'copy',
        'install',
        'slim',
        'strip',
        'graft',
        'runpath',
        'libc',
        'launchers',
        'host',
        'scrub',
        'compile',
        'smoke',
        'verify',
        'pack',
      ],
    );
    assert.deepEqual(
      BUILD_STEPS.map((s) => s.name),
      [
        'python-source',
        'base',
        'copy',
        'install',
        'name',
        'slim',
        'strip',
        'installed-needs',
        'graft',
        'runpath',
        'libc-choice',
        'libc',
        'launchers',
        'host',
        'scrub',
        'compile',
        'smoke-program',
        'smoke',
        'verify',
        'manifest',
        'pack',
      ],
    );
    // Each of these writes ELF files (RUNPATHs, grafts, strip, the bundled loader, scrubbed binaries).
    for (const name of [
      'copy',
      'install',
      'slim',
      'strip',
      'installed-needs',
      'graft',
      'runpath',
      'libc',
      'scrub',
      'smoke',
    ]) {
      assert.equal(BUILD_STEPS.find((s) => s.name === name)?.changesElves, true, `${name} changes ELF files`);
    }
  },
);

test(
  'build context: the ELF list and the host view last ' + 'until ELF files changed; results only after their step',
  async () => {
    const dir = await makeTempDir();
    try {
      const bundle = join(dir, 'bundle');
      mkdirSync(join(bundle, 'bin'), { recursive: true });
      copyFileSync('/bin/true', join(bundle, 'bin', 'one'));
      const ctx = new BuildContext(
        {
          project: null,
          python: '/usr/bin/python3',
          requirements: null,
          wheelhouse: null,
          libc: 'host',
          minGlibc: '2.17',
          entries: [],
          slim: true,
          clear: false,
          prompt: null,
          withPip: true,
          output: join(dir, 'out'),
        },
        null,
        new Progress(() => {}),
      );
      assert.throws(() => ctx.bundle, /setup is used before the step that makes it/);
      assert.equal(ctx.setupIfMade(), null);
      // The context never reads the base Python itself: the steps do.
      const setup: BuildSetup = {
        python: '/usr/bin/python3',
        base: {} as BuildSetup['base'],
        policy: loadGraftPolicy(),
        stage: dir,
        bundle,
        home: dir,
        buildPaths: [dir],
        interpreter: 'python3',
      };
      ctx.record('setup', setup);
      assert.throws(() => ctx.record('setup', setup), /already set/);

      const first = ctx.elves();
      assert.deepEqual(
        first.map((e) => e.rel),
        ['bin/one'],
      );
      const view = ctx.hostView();
      copyFileSync('/bin/true', join(bundle, 'bin', 'two'));
      assert.equal(ctx.elves(), first, 'listed once while nothing said ELF files changed');
      assert.equal(ctx.hostView(), view);
      ctx.elvesChanged();
      assert.deepEqual(
        ctx
          .elves()
          .map((e) => e.rel)
          .sort(),
        ['bin/one', 'bin/two'],
      );
      assert.notEqual(ctx.hostView(), view, 'a new view: the old one cached what it opened');
    } finally {
      await removeDir(dir);
    }
  },
);
