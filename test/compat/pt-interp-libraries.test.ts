// A bundle's library with a PT_INTERP is still a library: ld.so reads PT_INTERP for the main
// program only, so dlopen maps opencv-python's libQt5Core (an empty PT_INTERP) or libc.so.6 like
// any other library (src/compat/bundle-file-role.ts). A small bundle fixture built with gcc (host
// libc mode): an interpreter that dlopens argv[1] with RTLD_NOW | RTLD_LOCAL as ctypes does,
// exporting host_data; two libraries under site-packages with a DT_SONAME that take host_data from
// the interpreter's global scope (a GLOB_DAT relocation, bound at load), one with an empty and one
// with a normal PT_INTERP; and the same empty-PT_INTERP library kept in bin/, where it stays a
// program. In bookworm and trixie the real dlopen of each library is the ground truth for
// `pyrelo check --root`; the bin/ file is really executed. The build's verify step agrees.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { main } from '../../src/client/cli.js';
import { listBundleElves } from '../../src/builder/bundle-elves.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { verifyBuiltBundle } from '../../src/builder/verify.js';
import { buildHostView } from '../../src/builder/build-host.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

const INTERPRETER = 'bin/python3.99';
const SITE = 'lib/python3.99/site-packages/qtlike.libs';
const EMPTY = `${SITE}/libempty-interp.so.5`;
const NORMAL = `${SITE}/libnormal-interp.so.2`;
const PROGRAM = 'bin/empty-interp-tool';

const HOST = `#include <dlfcn.h>
#include <stdio.h>
int host_data = 41;
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) == NULL) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  puts("loaded");
  return 0;
}
`;

/** A library whose only way to host_data is the interpreter's global scope; `interp` is its PT_INTERP. */
function library(interp: string): string {
  return `const char interp[] __attribute__((section(".interp"))) = "${interp}";
extern int host_data;
int *data = &host_data;
int value(void) { return *data + 1; }
`;
}

async function fixture(dir: string): Promise<void> {
  await compileExecutable({ dir, file: INTERPRETER, source: HOST, needed: ['-ldl'], linkArgs: ['-rdynamic'] });
  await compileSharedLibrary({ dir, file: EMPTY, soname: 'libempty-interp.so.5', source: library('') });
  await compileSharedLibrary({
    dir,
    file: NORMAL,
    soname: 'libnormal-interp.so.2',
    source: library('/lib64/ld-linux-x86-64.so.2'),
  });
  await compileSharedLibrary({ dir, file: PROGRAM, soname: 'libempty-interp.so.5', source: library('') });
  // An unreadable manifest still marks a bundle (host libc; the interpreter is bin/python3.N).
  writeFileSync(join(dir, 'pyrelo.json'), '{}\n');
}

interface JsonReport {
  file: string;
  kind: string;
  loads: boolean;
  loadedInto?: string;
  problems: Array<{ kind: string; severity: string; message: string }>;
}

async function checkJson(root: string, dir: string): Promise<Map<string, JsonReport>> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await main(['check', '--root', root, '--json', dir]);
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined; // main() sets it for the CLI; the test process must not exit 1
  }
  const files = (JSON.parse(chunks.join('')) as { files: JsonReport[] }).files;
  return new Map(files.map((f) => [f.file.slice(dir.length + 1), f]));
}

test(
  'libraries with an empty or a normal PT_INTERP are checked as dlopened into the interpreter, as the real ' +
    'dlopen loads them; a program in bin/ stays a program',
  { timeout: 120_000 },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    if (!hasGcc) return t.skip('needs gcc to build the fixtures');
    const dir = await makeTempDir('pyrelo-pt-interp-');
    try {
      await fixture(dir);
      for (const name of ['bookworm', 'trixie'] as const) {
        const root = await ensureRoot(name);
        const bind = [{ hostPath: dir, rootPath: dir, readOnly: true }];
        const predicted = await checkJson(root, dir);
        for (const rel of [EMPTY, NORMAL]) {
          const real = await runInRoot(root, [join(dir, INTERPRETER), join(dir, rel)], {
            bind,
            mountProc: true,
            timeoutMs: 60_000,
          });
          // The ground truth first: dlopen maps both, PT_INTERP or not.
          assert.equal(real.exitCode, 0, `${name}: the real dlopen of ${rel}: ${real.stderr}`);
          assert.equal(real.stdout.trim(), 'loaded');
          const report = predicted.get(rel);
          assert.ok(report, `${rel} checked`);
          assert.equal(report.loads, true, `${name}: ${rel}: ${JSON.stringify(report.problems)}`);
          assert.equal(report.kind, 'library');
          assert.ok(
            report.loadedInto?.endsWith(`/${INTERPRETER}`),
            `loaded into the interpreter: ${report.loadedInto}`,
          );
        }
        // In bin/ the same file is a program: the kernel cannot find its empty interpreter.
        const tool = predicted.get(PROGRAM);
        assert.ok(tool, `${PROGRAM} checked`);
        assert.equal(tool.kind, 'program');
        assert.equal(tool.loads, false);
        assert.equal(
          tool.problems.find((p) => p.severity === 'error')?.kind,
          'missing-interpreter',
          JSON.stringify(tool.problems),
        );
        const run = await runInRoot(root, [join(dir, PROGRAM)], { bind, mountProc: true, timeoutMs: 60_000 });
        assert.notEqual(run.exitCode, 0, `${name}: ${PROGRAM} ran: ${run.stdout}`);
        t.diagnostic(`${name}: ${PROGRAM} executed: exit ${run.exitCode}: ${run.stderr.trim()}`);
      }

      // The build's verify step applies the same rules on this machine: only the program is refused.
      const verified = verifyBuiltBundle(dir, listBundleElves(dir), buildHostView(), loadGraftPolicy(), {
        libc: 'host',
        executable: INTERPRETER,
      });
      assert.deepEqual(
        verified.problems.filter((p) => p.startsWith(SITE)),
        [],
      );
      assert.ok(
        verified.problems.some((p) => p.startsWith(`${PROGRAM}: `) && p.includes('PT_INTERP')),
        verified.problems.join('\n'),
      );
    } finally {
      await removeDir(dir);
    }
  },
);
