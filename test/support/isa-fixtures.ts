// Fixtures for the x86 ISA-level rule (docs/loader-model.md, "x86 ISA level"): programs and
// libraries marked with GNU_PROPERTY_X86_ISA_1_NEEDED, and the real verdict of running or
// dlopening each of them.
//
// Everything is linked with -nostdlib (a program is `_start` making the exit system call), so the
// files need no GLIBC_x.y version and run under any glibc, bullseye's 2.31 included. x86-64-v2 and
// x86-64-v4 come from the linker (`-z x86-64-vN`, binutils 2.36+). "beyond" carries bit 4 (0x10), a
// level no CPU reports in glibc's cpu_features->isa_1: a refusal on every CPU wherever glibc checks.
import { execa } from 'execa';
import { join } from 'node:path';
import { compileExecutable, compileSharedLibrary } from './fixtures.js';
import type { CommandRunner } from './real-loader.js';

export const ISA_MARKS = ['v2', 'v4', 'beyond'] as const;
/**
 * The marks above, and three programs marked beyond every CPU, with a note in a section of another
 * name, which the linker copies without knowing it holds properties (so no PT_GNU_PROPERTY segment
 * covers it): alone in a PT_NOTE of alignment 8, which ld.so reads; alone in one of alignment 4,
 * which it ignores (readelf still shows the mark); and as a second property note next to
 * .note.gnu.property in one PT_NOTE, which glibc 2.33–2.38 take as unmarked and 2.39+ do not.
 */
export const ODD_MARKS = ['beyond-pt-note-only', 'beyond-align-4', 'beyond-two-notes'] as const;
export type IsaMark = (typeof ISA_MARKS)[number] | (typeof ODD_MARKS)[number];

export interface IsaFixture {
  readonly mark: IsaMark;
  readonly role: 'program' | 'library' | 'program-needing-library';
  readonly path: string;
}

const EXIT_START = 'void _start(void) { __asm__ volatile("mov $60, %eax\\n xor %edi, %edi\\n syscall"); }\n';

/** A property note with GNU_PROPERTY_X86_ISA_1_NEEDED = 0x10 (no linker option gives it) in `section`. */
const beyondNote = (section: string, p2align: number): string =>
  `__asm__(".section ${section},\\"a\\",@note\\n.p2align ${p2align}\\n.long 4\\n.long 16\\n.long 5\\n` +
  '.asciz \\"GNU\\"\\n.long 0xc0008002\\n.long 4\\n.long 0x10\\n.long 0\\n.previous\\n");\n';

function markArgs(mark: IsaMark): { source: string; linkArgs: string[] } {
  switch (mark) {
    case 'beyond':
      return { source: beyondNote('.note.gnu.property', 3), linkArgs: [] };
    case 'beyond-pt-note-only':
      return { source: beyondNote('.note.pyrelo-isa', 3), linkArgs: [] };
    case 'beyond-align-4':
      return { source: beyondNote('.note.pyrelo-isa', 2), linkArgs: [] };
    case 'beyond-two-notes':
      return { source: beyondNote('.note.gnu.property', 3) + beyondNote('.note.pyrelo-isa', 3), linkArgs: [] };
    default:
      return { source: '', linkArgs: [`-Wl,-z,x86-64-${mark}`] };
  }
}

/**
 * For each of ISA_MARKS: a marked program, a marked library lib/libisa-MARK.so.1, and an unmarked
 * program that needs that library (DT_RUNPATH lib/); then the odd beyond programs.
 */
export async function buildIsaFixtures(dir: string): Promise<IsaFixture[]> {
  const lib = join(dir, 'lib');
  const built = await Promise.all(
    ISA_MARKS.map(async (mark): Promise<IsaFixture[]> => {
      const { source, linkArgs } = markArgs(mark);
      const library = await compileSharedLibrary({
        dir,
        file: `lib/libisa-${mark}.so.1`,
        soname: `libisa-${mark}.so.1`,
        cflags: ['-nostdlib'],
        linkArgs,
        source: `${source}int isa_${mark}(void) { return 1; }\n`,
      });
      const [program, needing] = await Promise.all([
        compileExecutable({
          dir,
          file: `bin/prog-${mark}`,
          cflags: ['-nostdlib'],
          linkArgs,
          source: source + EXIT_START,
        }),
        compileExecutable({
          dir,
          file: `bin/prog-needs-${mark}`,
          cflags: ['-nostdlib'],
          source: EXIT_START,
          needed: [library],
          runpath: lib,
        }),
      ]);
      return [
        { mark, role: 'program', path: program },
        { mark, role: 'library', path: library },
        { mark, role: 'program-needing-library', path: needing },
      ];
    }),
  );
  const odd = await Promise.all(
    ODD_MARKS.map(async (mark): Promise<IsaFixture> => {
      const { source } = markArgs(mark);
      return {
        mark,
        role: 'program',
        path: await compileExecutable({
          dir,
          file: `bin/prog-${mark}`,
          cflags: ['-nostdlib'],
          source: source + EXIT_START,
        }),
      };
    }),
  );
  return [...built.flat(), ...odd];
}

/** GNU_PROPERTY_X86_ISA_1_NEEDED as `readelf -n` decodes it ("x86 ISA needed: x86-64-v2, <unknown: 10>"), or 0. */
export async function readelfIsaNeeded(file: string): Promise<number> {
  const r = await execa('readelf', ['-n', '-W', file], { env: { LC_ALL: 'C' } });
  const line = /x86 ISA needed: (.*)$/m.exec(r.stdout)?.[1];
  if (line === undefined) return 0;
  const bits: Record<string, number> = { 'x86-64-baseline': 1, 'x86-64-v2': 2, 'x86-64-v3': 4, 'x86-64-v4': 8 };
  return line.split(', ').reduce((sum, name) => {
    const unknown = /^<unknown: ([0-9a-f]+)>$/.exec(name);
    const bit = unknown ? parseInt(unknown[1]!, 16) : bits[name];
    if (bit === undefined) throw new Error(`readelf names an ISA level this test does not know: ${name}`);
    return sum | bit;
  }, 0);
}

/** What the real loader did with one fixture: ran (or dlopened) it, or refused it with these words. */
export interface RealVerdict {
  readonly loads: boolean;
  /** stderr of the program, or dlerror() for a library; '' when it loaded. */
  readonly message: string;
}

/**
 * dlopen through perl's DynaLoader (perl-base is Essential on Debian, so every Debian root has it):
 * prints "loaded" or dlerror()'s text, without the " at -e line 1.\n\0" perl appends.
 */
const DLOPEN_PERL =
  'my $h = DynaLoader::dl_load_file($ARGV[0], 0); if ($h) { print "loaded" } ' +
  'else { my $e = DynaLoader::dl_error(); $e =~ s/ at -e line \\d+\\..*\\z//s; print $e }';

const FIELD = '\x1f';

/**
 * Runs every program, and dlopens every library, in one shell through `runner` (this machine or a
 * lab root): programs by their absolute path, so argv[0], which ld.so names when it refuses the
 * program itself, is that path.
 */
export async function realVerdicts(fixtures: readonly IsaFixture[], runner: CommandRunner): Promise<RealVerdict[]> {
  const script = fixtures
    .map((f, i) => {
      const run = f.role === 'library' ? `perl -MDynaLoader -e '${DLOPEN_PERL}' '${f.path}'` : `'${f.path}'`;
      return `out=$(${run} 2>&1); printf '%s${FIELD}%s${FIELD}%s\\n' ${i} $? "$(printf %s "$out" | tr '\\n' ' ')"`;
    })
    .join('\n');
  const r = await runner(['/bin/sh', '-c', script], {});
  if (r.exitCode !== 0) throw new Error(`the fixture runs failed (exit ${r.exitCode}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== fixtures.length)
    throw new Error(`expected ${fixtures.length} results, got:\n${r.stdout}${r.stderr}`);
  return fixtures.map((f, i) => {
    const [index, status, out] = lines[i]!.split(FIELD) as [string, string, string];
    if (Number(index) !== i) throw new Error(`result ${i} out of order: ${lines[i]}`);
    const message = out.trim();
    const loads = f.role === 'library' ? message === 'loaded' : status === '0' && message === '';
    return { loads, message: loads ? '' : message };
  });
}
