// $ORIGIN without /proc (README "Launchers and /proc"): small programs built here with gcc, with no
// C library at all (so one build runs under glibc 2.31, 2.36 and 2.41 alike), are run by each
// Debian root's own ld.so with and without /proc mounted, and `pyrelo check --root` (through the
// CLI's own host selection, with --no-proc) must predict each run: starts or not, and ld.so's words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFile, type CheckOptions } from '../../src/loader/check.js';
import { selectHost } from '../../src/client/host-selection.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { compileExecutable, compileSharedLibrary } from '../support/fixtures.js';

const DEBIAN_ROOTS = ['bullseye', 'bookworm', 'trixie'] as const;
const LOADER = '/lib64/ld-linux-x86-64.so.2';
const NO_LIBC = ['-nostdlib', '-fno-stack-protector'];
// A program without libc: writes "started", calls f() (when it has one), writes "called", exits with f()'s value.
const SYSCALL =
  'static long sys(long n, long a, long b, long c) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(n), ' +
  '"D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory"); return r; }\n';
const CALLING =
  `extern int f(void);\n${SYSCALL}void _start(void) { sys(1, 1, (long)"started\\n", 8); int r = f(); sys(1, 1, ` +
  '(long)"called\\n", 7); sys(60, r, 0, 0); for (;;) {} }\n';

interface Case {
  readonly label: string;
  readonly program: string;
  readonly env?: Record<string, string>;
  /** Started as `ld.so PROGRAM` (the --libc bundle launchers' way). */
  readonly throughLoader?: boolean;
  readonly loaderArgs?: readonly string[];
}

async function buildFixtures(D: string): Promise<Record<string, string>> {
  const lib = (
    file: string,
    soname: string,
    source: string,
    more: Partial<Parameters<typeof compileSharedLibrary>[0]> = {},
  ) => compileSharedLibrary({ dir: D, file, soname, source, cflags: NO_LIBC, ...more });
  const liba = await lib('lib/liba.so', 'liba.so', 'int f(void) { return 0; }\n');
  const libg = await lib('lib/dep/libg.so', 'libg.so', 'int g(void) { return 0; }\n');
  const libb = await lib('lib/libb.so', 'libb.so', 'extern int g(void);\nint f(void) { return g(); }\n', {
    needed: [libg],
    runpath: '$ORIGIN/dep',
  });
  // Its DT_SONAME becomes the program's DT_NEEDED entry: a need spelled with $ORIGIN.
  const libo = await lib('lib/libo.so', '$ORIGIN/../lib/libo.so', 'int f(void) { return 0; }\n');
  const prog = (file: string, needed: string[], more: Partial<Parameters<typeof compileExecutable>[0]> = {}) =>
    compileExecutable({ dir: D, file, source: CALLING, needed, cflags: NO_LIBC, linkArgs: ['-nostdlib'], ...more });
  return {
    runpath: await prog('bin/p-runpath', [liba], { runpath: '$ORIGIN/../lib' }),
    runpathThenAbsolute: await prog('bin/p-runpath2', [liba], { runpath: `$ORIGIN/../lib:${D}/lib` }),
    rpath: await prog('bin/p-rpath', [liba], { rpath: '$ORIGIN/../lib' }),
    needed: await prog('bin/p-needed', [libo]),
    plain: await prog('bin/p-plain', [liba]),
    libraryRunpath: await prog('bin/p-libchain', [libb], { runpath: `${D}/lib` }),
  };
}

function cases(p: Record<string, string>): Case[] {
  return [
    { label: "program's RUNPATH $ORIGIN/../lib", program: p.runpath! },
    {
      label: "program's RUNPATH $ORIGIN/../lib:ABSOLUTE (the element is dropped, not fatal)",
      program: p.runpathThenAbsolute!,
    },
    { label: "program's RPATH $ORIGIN/../lib", program: p.rpath! },
    { label: 'DT_NEEDED $ORIGIN/../lib/libo.so (skipped; f is undefined)', program: p.needed! },
    { label: 'LD_LIBRARY_PATH=$ORIGIN/../lib', program: p.plain!, env: { LD_LIBRARY_PATH: '$ORIGIN/../lib' } },
    { label: "a library's RUNPATH $ORIGIN/dep (its origin is its path)", program: p.libraryRunpath! },
    { label: 'ld.so PROGRAM, RUNPATH $ORIGIN/../lib', program: p.runpath!, throughLoader: true },
    { label: 'ld.so PROGRAM, DT_NEEDED $ORIGIN/…', program: p.needed!, throughLoader: true },
    {
      label: 'ld.so --library-path $ORIGIN/../lib PROGRAM',
      program: p.plain!,
      throughLoader: true,
      loaderArgs: ['--library-path', '$ORIGIN/../lib'],
    },
  ];
}

for (const name of DEBIAN_ROOTS) {
  test(
    `$ORIGIN with and without /proc in the ${name} root: pyrelo check --root predicts each run`,
    { timeout: 5 * 60_000 },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const D = mkdtempSync(join(tmpdir(), 'pyrelo-proc-origin-'));
      try {
        const programs = await buildFixtures(D);
        let withoutProcFailures = 0;
        for (const proc of [true, false]) {
          const host = selectHost({ root, proc }, [D]);
          assert.equal(host.view.config.procMounted, proc);
          for (const c of cases(programs)) {
            const argv = c.throughLoader ? [LOADER, ...(c.loaderArgs ?? []), c.program] : [c.program];
            const real = await runInRoot(root, argv, {
              mountProc: proc,
              env: c.env ?? {},
              bind: [{ hostPath: D, rootPath: D, readOnly: true }],
              timeoutMs: 60_000,
            });
            const libraryPath =
              c.env?.LD_LIBRARY_PATH ?? (c.loaderArgs?.[0] === '--library-path' ? c.loaderArgs[1] : undefined);
            const options: CheckOptions = {
              cwd: '/',
              ...(libraryPath === undefined ? {} : { libraryPath }),
              ...(c.throughLoader ? { loader: LOADER } : {}),
            };
            const report = checkFile(host.view, host.toHostPath(c.program), options);
            const what =
              `${name}, /proc ${proc ? 'mounted' : 'absent'}, ${c.label}: ld.so exit ${real.exitCode} ` +
              `${real.stderr.trim()}; predicted ${JSON.stringify(report.problems.map((pr) => pr.message))}`;
            assert.equal(report.loads, real.exitCode === 0, what);
            if (real.exitCode !== 0) {
              withoutProcFailures += proc ? 0 : 1;
              const first = report.problems.find((pr) => pr.severity === 'error')!;
              assert.ok(real.stderr.includes(first.message), `ld.so's words are the predicted ones: ${what}`);
            } else {
              assert.match(real.stdout, /started\ncalled\n/, what);
            }
          }
        }
        // Without /proc, the program's own $ORIGIN (RUNPATH, RPATH, DT_NEEDED, LD_LIBRARY_PATH)
        // fails; nothing else does.
        assert.equal(withoutProcFailures, 4);
      } finally {
        rmSync(D, { recursive: true, force: true });
      }
    },
  );
}
