// ld.so's checks of a library's PT_LOAD headers (load commands) before it maps it: a gcc-built
// libmis.so, copies of it with one PT_LOAD's p_offset, p_vaddr or p_align rewritten, and programs
// that need each copy (RUNPATH). pyrelo must stop where the real loader stops, with its message,
// on this machine and in the lab's roots: glibc 2.31 checks p_align ("alignment not page-aligned",
// "address/offset not properly aligned"), 2.35 and later only offset against address modulo the
// page ("address/offset not page-aligned"). Also: a refused library is fatal, the search does not
// go on to the next folder; a library or program checked itself is refused when ld.so maps it; a
// misaligned program the kernel starts is killed by SIGSEGV.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { loadCommandError, loadCommandRulesFor, type LoadCommandRules } from '../../src/loader/load-commands.js';
import { loadObject, storeObject } from '../../src/inventory/codec.js';
import { ElfFile } from '../../src/elf/elf-file.js';
import { describeElf } from '../../src/loader/loadable.js';
import { verifyDependency } from '../../src/loader/header-checks.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import type { LoadReport } from '../../src/loader/types.js';
import { compareWithRealLoader } from '../support/compare.js';
import {
  compileExecutable,
  compileSharedLibrary,
  makeTempDir,
  patchLoadSegment,
  readLoadSegments,
  removeDir,
} from '../support/fixtures.js';
import { traceWithRealLoader, type RealLoaderTrace } from '../support/real-loader.js';
import { compareInRoot } from '../support/lab-compare.js';
import { ensureRoot, skipUnlessLab } from '../lab/lab.js';

const PAGE_NOT_ALIGNED = 'ELF load command address/offset not page-aligned';
const NOT_PROPERLY_ALIGNED = 'ELF load command address/offset not properly aligned';
const ALIGN_NOT_PAGE = 'ELF load command alignment not page-aligned';

interface Variant {
  /** Folder of its libmis.so and suffix of its program. */
  readonly name: string;
  /** What ld.so says under each set of rules; null = it loads. */
  readonly expected: Readonly<Record<LoadCommandRules, string | null>>;
}

const VARIANTS: readonly Variant[] = [
  { name: 'aligned', expected: { p_align: null, page: null } },
  { name: 'offset', expected: { p_align: NOT_PROPERLY_ALIGNED, page: PAGE_NOT_ALIGNED } },
  { name: 'vaddr', expected: { p_align: NOT_PROPERLY_ALIGNED, page: PAGE_NOT_ALIGNED } },
  { name: 'align-small', expected: { p_align: ALIGN_NOT_PAGE, page: null } },
  { name: 'align-large', expected: { p_align: NOT_PROPERLY_ALIGNED, page: null } },
  { name: 'align-zero', expected: { p_align: NOT_PROPERLY_ALIGNED, page: null } },
];

interface Fixture {
  readonly dir: string;
  /** Variant name -> its libmis.so and the program that needs it. */
  readonly libs: Record<string, string>;
  readonly programs: Record<string, string>;
  /** RUNPATH offset/:aligned/: the misaligned copy comes first. */
  readonly fallback: string;
  /** Needs libmis.so, which in its RUNPATH folder is a PIE program. */
  readonly needsPie: string;
  /** The aligned program with its text segment's p_offset moved. */
  readonly misalignedProgram: string;
}

const LIB_SOURCE = 'int answer(void) { return 42; }\nint counter = 1;\n';
const PROG_SOURCE = 'extern int answer(void);\nint main(void) { return answer() == 42 ? 0 : 1; }\n';
const PF_X = 1;

async function buildFixture(dir: string): Promise<Fixture> {
  const original = await compileSharedLibrary({
    dir,
    file: 'aligned/libmis.so',
    soname: 'libmis.so',
    source: LIB_SOURCE,
  });
  const loads = await readLoadSegments(original);
  const text = loads.findIndex((l) => (l.flags & PF_X) !== 0);
  // The data segment: the one whose address and offset differ (by a page on x86_64).
  const data = loads.findIndex((l) => l.vaddr !== l.offset);
  const last = loads.length - 1;
  assert.ok(text > 0 && data > 0 && text !== last, `unexpected layout: ${JSON.stringify(loads)}`);
  assert.ok(
    (loads[data]!.vaddr - loads[data]!.offset) % 0x10000 !== 0,
    'the data segment must not be 64 KiB-congruent',
  );
  // The read-only segment after the text one (.rodata, .eh_frame): nothing pyrelo reads lies there.
  const rodata = loads.findIndex((l, i) => i > text && (l.flags & PF_X) === 0 && l.vaddr === l.offset);
  assert.ok(rodata > 0, `no read-only segment after the text: ${JSON.stringify(loads)}`);

  const patches: Record<string, [number, Parameters<typeof patchLoadSegment>[2]]> = {
    offset: [text, { offset: loads[text]!.offset + 0x10 }],
    vaddr: [rodata, { vaddr: loads[rodata]!.vaddr + 0x10 }],
    'align-small': [text, { align: 0x800 }],
    'align-large': [data, { align: 0x10000 }],
    'align-zero': [data, { align: 0 }],
  };
  const libs: Record<string, string> = { aligned: original };
  for (const [name, [index, fields]] of Object.entries(patches)) {
    await mkdir(join(dir, name));
    libs[name] = join(dir, name, 'libmis.so');
    await copyFile(original, libs[name]);
    await patchLoadSegment(libs[name], index, fields);
  }
  const programs: Record<string, string> = {};
  for (const { name } of VARIANTS) {
    programs[name] = await compileExecutable({
      dir,
      file: `bin/prog-${name}`,
      source: PROG_SOURCE,
      needed: [original],
      runpath: join(dir, name),
    });
  }
  const fallback = await compileExecutable({
    dir,
    file: 'bin/prog-fallback',
    source: PROG_SOURCE,
    needed: [original],
    runpath: `${join(dir, 'offset')}:${join(dir, 'aligned')}`,
  });
  // A position-independent executable under the library's name: refused after the load commands.
  await mkdir(join(dir, 'pie'));
  await copyFile(programs.aligned!, join(dir, 'pie', 'libmis.so'));
  const needsPie = await compileExecutable({
    dir,
    file: 'bin/prog-pie',
    source: PROG_SOURCE,
    needed: [original],
    runpath: join(dir, 'pie'),
  });
  const misalignedProgram = join(dir, 'bin', 'prog-misaligned');
  await copyFile(programs.aligned!, misalignedProgram);
  const programLoads = await readLoadSegments(misalignedProgram);
  const programText = programLoads.findIndex((l) => (l.flags & PF_X) !== 0);
  await patchLoadSegment(misalignedProgram, programText, { offset: programLoads[programText]!.offset + 0x10 });
  return { dir, libs, programs, fallback, needsPie, misalignedProgram };
}

function fatalOf(report: LoadReport): string | null {
  return report.problems.find((p) => p.kind === 'unloadable-object')?.message ?? null;
}

/**
 * Checks every file of the fixture with pyrelo and with the real loader (`trace`), asserts they
 * agree, and that both say what glibc's rules `rules` say. Returns lines for the test's diagnostics.
 */
async function checkAll(
  fixture: Fixture,
  rules: LoadCommandRules,
  compare: (file: string) => Promise<{ report: LoadReport; trace: RealLoaderTrace; differences: string[] }>,
): Promise<string[]> {
  const seen: string[] = [];
  for (const variant of VARIANTS) {
    const expected = variant.expected[rules];
    // A program needing the variant: ld.so names the library as DT_NEEDED gives it.
    const program = fixture.programs[variant.name]!;
    const run = await compare(program);
    assert.deepEqual(run.differences, [], `${variant.name}: ${run.differences.join('\n')}`);
    if (expected === null) {
      assert.equal(run.trace.fatal, null, `${variant.name}: ${run.trace.stderr}`);
      assert.equal(fatalOf(run.report), null);
      assert.ok(run.trace.objects.some((o) => o.name === 'libmis.so' && o.path === fixture.libs[variant.name]));
    } else {
      assert.equal(run.trace.fatal, `error while loading shared libraries: libmis.so: ${expected}`);
      assert.equal(fatalOf(run.report), `libmis.so: ${expected}`);
      assert.equal(run.report.loads, false);
    }
    seen.push(`prog-${variant.name}: ${run.trace.fatal ?? 'loads'}`);

    // The library checked itself: ld.so maps it as the main object (ldd's --verify refuses it).
    const lib = fixture.libs[variant.name]!;
    const direct = await compare(lib);
    assert.deepEqual(direct.differences, [], `${variant.name} itself: ${direct.differences.join('\n')}`);
    assert.equal(direct.trace.notDynamic, expected !== null, `${variant.name} itself: ${direct.trace.stderr}`);
    assert.equal(fatalOf(direct.report), expected === null ? null : `${lib}: ${expected}`);
  }

  // A refused library stops loading: the aligned copy in the next RUNPATH folder is never tried.
  const fallback = await compare(fixture.fallback);
  assert.deepEqual(fallback.differences, [], fallback.differences.join('\n'));
  assert.equal(
    fallback.trace.fatal,
    `error while loading shared libraries: libmis.so: ${VARIANTS[1]!.expected[rules]}`,
  );

  // Errors of _dl_map_object_from_fd name the library as DT_NEEDED does, not by its path.
  const pie = await compare(fixture.needsPie);
  assert.deepEqual(pie.differences, [], pie.differences.join('\n'));
  assert.equal(
    pie.trace.fatal,
    'error while loading shared libraries: libmis.so: cannot dynamically load position-independent executable',
  );

  // A misaligned program run through ld.so (as ldd does): refused by --verify, and pyrelo says so.
  const program = await compare(fixture.misalignedProgram);
  assert.deepEqual(program.differences, [], program.differences.join('\n'));
  assert.equal(program.trace.notDynamic, true);
  assert.equal(program.report.loads, false);
  return seen;
}

describe('PT_LOAD checks: pyrelo against the real loader', () => {
  let fixture: Fixture;
  let dir = '';
  before(async () => {
    dir = await makeTempDir('pyrelo-load-commands-');
    fixture = await buildFixture(dir);
  });
  after(async () => {
    await removeDir(dir);
  });

  test('the rules of glibc versions', () => {
    assert.equal(loadCommandRulesFor([2, 31]), 'p_align');
    assert.equal(loadCommandRulesFor([2, 34]), 'p_align');
    assert.equal(loadCommandRulesFor([2, 35]), 'page');
    assert.equal(loadCommandRulesFor([2, 41]), 'page');
    assert.equal(loadCommandRulesFor(null), 'page');
    assert.equal(loadCommandError([], 'page', 64), 'object file has no loadable segments');
    // Bitwise as in C: a p_align that is a page multiple but no power of two masks, it does not divide.
    const odd = { offset: 0x1000, vaddr: 0x4000, filesz: 1, align: 0x3000 };
    assert.equal(loadCommandError([odd], 'p_align', 64), NOT_PROPERLY_ALIGNED); // 0x3000 & 0x2fff != 0
    // p_vaddr below p_offset wraps around as an unsigned ElfW(Addr).
    assert.equal(loadCommandError([{ offset: 0x2000, vaddr: 0x1000, filesz: 1, align: 0x1000 }], 'p_align', 64), null);
    assert.equal(
      loadCommandError([{ offset: 0x2010, vaddr: 0x1000, filesz: 1, align: 0x1000 }], 'page', 32),
      PAGE_NOT_ALIGNED,
    );
  });

  test('on this machine', async (t) => {
    const config = loaderConfigForRoot('/');
    const view = new RootHostView('/', config);
    const rules = loadCommandRulesFor(config.glibcVersion);
    const seen = await checkAll(fixture, rules, async (file) => {
      const report = checkFile(view, file, { cwd: '/' });
      const trace = await traceWithRealLoader(file, { bindNow: true });
      return { report, trace, differences: compareWithRealLoader(report, trace) };
    });
    t.diagnostic(`glibc ${config.glibcVersion?.join('.')}: ${seen.join('; ')}`);
  });

  test('a misaligned program started by the kernel is killed with SIGSEGV, as pyrelo predicts', async () => {
    const view = new RootHostView('/', loaderConfigForRoot('/'));
    const report = checkFile(view, fixture.misalignedProgram, { cwd: '/' });
    assert.equal(report.loads, false);
    assert.match(fatalOf(report) ?? '', /the kernel cannot map the LOAD segment .*SIGSEGV/);
    const run = await execa(fixture.misalignedProgram, [], { reject: false });
    assert.equal(run.signal, 'SIGSEGV');
    // Through the loader the same program gets ld.so's own words: the real loader's, run on it.
    const throughLoader = checkFile(view, fixture.misalignedProgram, { cwd: '/', loader: config().interpreter });
    const real = await execa(config().interpreter!, [fixture.misalignedProgram], { reject: false });
    assert.equal(real.exitCode, 127);
    assert.equal(
      real.stderr.trim(),
      `${fixture.misalignedProgram}: error while loading shared libraries: ${fatalOf(throughLoader)}`,
    );
    assert.match(fatalOf(throughLoader) ?? '', /ELF load command/);
  });

  test('a host library read from an inventory is not checked (the inventory does not keep PT_LOADs)', () => {
    // The misaligned copy as a host library: the inventory trusts that it loaded on its host.
    const elf = ElfFile.open(fixture.libs.offset!);
    try {
      const object = describeElf(elf);
      assert.equal(object.loadSegments?.length, elf.programHeaders.filter((ph) => ph.p_type === 1).length);
      const stored = loadObject(storeObject(object));
      assert.equal(stored.loadSegments, undefined);
      assert.equal(verifyDependency(stored.header, stored, loaderConfigForRoot('/')), null);
      const rules = loadCommandRulesFor(loaderConfigForRoot('/').glibcVersion);
      assert.equal(
        verifyDependency(object.header, object, loaderConfigForRoot('/')),
        rules === 'page' ? PAGE_NOT_ALIGNED : NOT_PROPERLY_ALIGNED,
      );
    } finally {
      elf.close();
    }
  });

  for (const name of ['bullseye', 'bookworm', 'trixie'] as const) {
    test(`in the ${name} root, with its own ld.so`, { timeout: 40 * 60_000 }, async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const config = loaderConfigForRoot(root);
      const seen = await checkAll(fixture, loadCommandRulesFor(config.glibcVersion), (file) =>
        compareInRoot(root, fixture.dir, file),
      );
      t.diagnostic(`${name} (glibc ${config.glibcVersion?.join('.')}): ${seen.join('; ')}`);
    });
  }
});

function config(): ReturnType<typeof loaderConfigForRoot> {
  return loaderConfigForRoot('/');
}
