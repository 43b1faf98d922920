// The x86 ISA-level rule (docs/loader-model.md, "x86 ISA level") against the real loader: programs
// and libraries marked x86-64-v2, x86-64-v4 and beyond any CPU, and programs whose mark sits where
// only some loaders read it (test/support/isa-fixtures.ts), are run (libraries dlopened) on this
// machine and in the lab roots, and pyrelo's verdict must equal each real one. Whether the v4 files
// load depends on the CPU (AVX-512), so the expectation is always the real run, never a constant.

import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ElfFile } from '../../src/elf/elf-file.js';
import { checkFile } from '../../src/loader/check.js';
import { loadObject, storeObject } from '../../src/inventory/codec.js';
import { describeElf } from '../../src/loader/loadable.js';
import type { HostView } from '../../src/loader/host-view.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { DEBIAN_ROOT_NAMES, ensureRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import {
  buildIsaFixtures,
  readelfIsaNeeded,
  realVerdicts,
  type IsaFixture,
  type RealVerdict,
} from '../support/isa-fixtures.js';
import { rootWithFixtures } from '../support/root-with-fixtures.js';
import { hostRunner, type CommandRunner } from '../support/real-loader.js';

const LAB_TIMEOUT = 40 * 60_000;
let dir = '';
let fixtures: IsaFixture[] = [];
/** Why the fixtures cannot be built or marked here; undefined when they can. */
let cannotBuild: string | undefined;

before(async () => {
  if (process.arch !== 'x64') {
    cannotBuild = 'the x86 ISA level exists only on x86';
    return;
  }
  if (spawnSync('gcc', ['--version']).status !== 0) {
    cannotBuild = 'needs gcc';
    return;
  }
  dir = await makeTempDir('pyrelo-isa-');
  fixtures = await buildIsaFixtures(dir);
  const v4 = fixtures.find((f) => f.mark === 'v4' && f.role === 'program')!;
  if ((await readelfIsaNeeded(v4.path)) === 0)
    cannotBuild = 'this linker cannot mark x86-64-v4 (-z x86-64-v4 needs binutils 2.36+)';
});

after(async () => {
  if (dir !== '') await removeDir(dir);
});

function skipUnlessBuilt(t: TestContext): boolean {
  if (cannotBuild !== undefined) t.skip(cannotBuild);
  return cannotBuild !== undefined;
}

/** pyrelo's verdict in the same terms as the real one: loads, or the first error's words. */
function predicted(view: HostView, fixture: IsaFixture): RealVerdict {
  const report = checkFile(view, fixture.path, { cwd: '/' });
  const errors = report.problems.filter((p) => p.severity === 'error');
  return { loads: report.loads, message: errors[0]?.message ?? '' };
}

/** Runs every fixture through `runner`, checks each with pyrelo on `view`, and compares. */
async function compareAll(t: TestContext, view: HostView, runner: CommandRunner): Promise<void> {
  const real = await realVerdicts(fixtures, runner);
  const lines: string[] = [];
  fixtures.forEach((fixture, i) => {
    const ours = predicted(view, fixture);
    lines.push(`${fixture.role} ${fixture.mark}: ${real[i]!.loads ? 'loads' : real[i]!.message}`);
    assert.deepEqual(ours, real[i], `${fixture.path} (${fixture.role}, ${fixture.mark})`);
  });
  t.diagnostic(`${view.label}: ${lines.join('; ')}`);
  // Wherever glibc checks the level, the beyond-any-CPU files are refused: if not, they were not marked
  // and the comparison above proved nothing about refusals.
  const glibc = view.config.glibcVersion;
  if (glibc !== null && (glibc[0] > 2 || glibc[1] >= 33)) {
    const beyond = fixtures
      .map((f, i) => [f, real[i]!] as const)
      .filter(([f]) => f.mark === 'beyond' || f.mark === 'beyond-pt-note-only');
    assert.ok(
      beyond.every(([, r]) => !r.loads),
      `glibc ${glibc.join('.')} loaded a file marked beyond every CPU`,
    );
  }
}

test(
  'the ELF reader finds ' + 'GNU_PROPERTY_X86_ISA_1_NEEDED where readelf does, in the segments ld.so reads',
  async (t) => {
    if (skipUnlessBuilt(t)) return;
    for (const fixture of fixtures) {
      const shown = await readelfIsaNeeded(fixture.path);
      assert.equal(shown === 0, fixture.role === 'program-needing-library', `${fixture.path}: readelf says ${shown}`);
      // readelf shows a note in a segment of alignment 4 too, and a second property note; ld.so (and
      // pyrelo) ignore the first, and glibc before 2.39 takes the second as "unmarked", which the real
      // runs below prove. readelf's first note is the one PT_GNU_PROPERTY covers.
      const ignored = fixture.mark === 'beyond-align-4';
      const expected = {
        fromNotes: ignored || fixture.mark === 'beyond-two-notes' ? 0 : shown,
        withPropertySegment: ignored ? 0 : shown,
      };
      const elf = ElfFile.open(fixture.path);
      try {
        assert.deepEqual(elf.x86IsaNeeded(), expected, fixture.path);
      } finally {
        elf.close();
      }
    }
  },
);

test('an inventory keeps the mark of a marked object and stores nothing for an unmarked one', (t) => {
  if (skipUnlessBuilt(t)) return;
  for (const fixture of fixtures) {
    const elf = ElfFile.open(fixture.path);
    try {
      const object = describeElf(elf);
      const stored = storeObject(object);
      const marked = object.x86IsaNeeded.fromNotes !== 0 || object.x86IsaNeeded.withPropertySegment !== 0;
      assert.equal('x86IsaNeeded' in stored, marked, fixture.path);
      assert.deepEqual(loadObject(JSON.parse(JSON.stringify(stored))).x86IsaNeeded, object.x86IsaNeeded, fixture.path);
    } finally {
      elf.close();
    }
  }
});

test('this machine: pyrelo refuses exactly the files its ld.so refuses', async (t) => {
  if (skipUnlessBuilt(t)) return;
  if (spawnSync('perl', ['-e', '1']).status !== 0) return t.skip('needs perl (its DynaLoader dlopens the libraries)');
  await compareAll(t, new RootHostView('/', loaderConfigForRoot('/')), hostRunner);
});

for (const name of DEBIAN_ROOT_NAMES) {
  test(
    `${name}: pyrelo check --root refuses exactly the files the root's ld.so refuses`,
    { timeout: LAB_TIMEOUT },
    async (t) => {
      if (skipUnlessBuilt(t)) return;
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const { view, runner } = rootWithFixtures(root, dir);
      await compareAll(t, view, runner);
    },
  );
}
