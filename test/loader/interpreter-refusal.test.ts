// A program whose PT_INTERP the kernel refuses before any loader runs: an empty one (opencv-python's
// libraries carry one, and a copy in bin/ is a program) or one whose last byte is not NUL. execve
// fails with ENOEXEC, "Exec format error", not the "No such file or directory" of a missing
// interpreter (docs/loader.md section 9). The ground truth is the real execve on this machine; a
// program whose PT_INTERP names the host's loader, the fixture before its patch, really runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { ElfFile } from '../../src/elf/elf-file.js';
import { describeElf, headerOf, indexedDefinitionsOf } from '../../src/loader/loadable.js';
import { decodeLoadable, encodeLoadable } from '../../src/loader/loadable-codec.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

// execve itself, as Python's os.execv calls it: a shell or libc's execvp would retry an ENOEXEC
// file as a shell script.
const EXECV =
  'import errno, os, sys\ntry:\n    os.execv(sys.argv[1], [sys.argv[1]])\nexcept OSError as e:\n    ' +
  'print(errno.errorcode[e.errno])\n';

/** The real execve's errno for `file` ('ENOEXEC', …), or 'ran' with its exit code. */
async function realExec(file: string): Promise<string> {
  const r = await execa('python3', ['-c', EXECV, file], { reject: false });
  return r.stdout.trim() !== '' ? r.stdout.trim() : `ran ${r.exitCode}`;
}

/** The PT_INTERP segment's file offset and size, as readelf prints them. */
async function interpSegment(file: string): Promise<{ offset: number; size: number }> {
  const lines = (await execa('readelf', ['-lW', file])).stdout.split('\n');
  const line = lines.find((l) => l.trim().startsWith('INTERP'));
  assert.ok(line, `${file} has a PT_INTERP`);
  const fields = line.trim().split(/\s+/);
  return { offset: Number(fields[1]), size: Number(fields[4]) };
}

test('a PT_INTERP the kernel refuses: the real execve and pyrelo both say "Exec format error"', async (t) => {
  const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  if (!hasGcc) return t.skip('needs gcc to build the fixtures');
  const dir = await makeTempDir('pyrelo-interp-refusal-');
  try {
    const view = new RootHostView('/', loaderConfigForRoot('/'));
    const empty = await compileSharedLibrary({
      dir,
      file: 'bin/empty-interp',
      source: 'const char interp[] __attribute__((section(".interp"))) = "";\nint value(void) { return 1; }\n',
    });
    chmodSync(empty, 0o755);
    const good = await compileExecutable({ dir, file: 'bin/good', source: 'int main(void) { return 0; }\n' });
    const unterminated = join(dir, 'bin', 'unterminated');
    copyFileSync(good, unterminated);
    const segment = await interpSegment(unterminated);
    const fd = openSync(unterminated, 'r+');
    try {
      writeSync(fd, Buffer.from('x'), 0, 1, segment.offset + segment.size - 1); // the NUL becomes 'x'
    } finally {
      closeSync(fd);
    }

    assert.equal(await realExec(good), 'ran 0', 'the fixture runs before its patch');
    assert.equal(checkFile(view, good).loads, true);
    for (const [file, why] of [
      [empty, 'its PT_INTERP is empty'],
      [unterminated, 'its PT_INTERP does not end with a NUL'],
    ] as const) {
      assert.equal(await realExec(file), 'ENOEXEC', `${file}: the real execve`);
      const report = checkFile(view, file);
      assert.equal(report.kind, 'program');
      assert.equal(report.loads, false);
      const errors = report.problems.filter((p) => p.severity === 'error');
      assert.deepEqual(
        errors.map((p) => p.message),
        [`Exec format error (the kernel will not execute the program: ${why})`],
      );
      // The parse cache keeps the refusal (loadable-codec.ts): a warm cache answers the same.
      const elf = ElfFile.open(file);
      try {
        assert.equal(
          decodeLoadable(headerOf(elf), encodeLoadable(describeElf(elf), indexedDefinitionsOf(elf))).interpreterRefusal,
          why,
        );
      } finally {
        elf.close();
      }
    }
  } finally {
    removeDir(dir);
  }
});
