// NT_GNU_ABI_TAG: a library built "for" a newer kernel than the host runs. Before glibc 2.36 ld.so
// skips it and keeps searching (so an older copy further down the path wins, or the library is not
// found); from 2.36 on it is loaded. pyrelo must predict both, as the real loaders of bullseye (2.31)
// and bookworm (2.36) do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { release } from 'node:os';
import { parseKernelRelease } from '../../src/inventory/root-config.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { compareInRoot } from '../support/lab-compare.js';
import { ensureRoot, skipUnlessLab } from '../lab/lab.js';

/** A .note.ABI-tag section: namesz 4, descsz 16, type 1, "GNU", then os and kernel version. */
function abiTagSource(major: number): string {
  return (
    `__asm__(".section .note.ABI-tag,\\"a\\",@note\\n.p2align 2\\n.long 4\\n.long 16\\n.long 1\\n.asciz \\"GNU\\"\\n` +
    `.long 0\\n.long ${major}\\n.long 0\\n.long 0\\n.previous\\n");\n`
  );
}

/** prog needs libk.so.1; `new/` holds a copy tagged for a far-future kernel, `old/` an untagged one. */
async function fixture(dir: string): Promise<string> {
  const future = (parseKernelRelease(release())?.[0] ?? 6) + 50;
  await compileSharedLibrary({
    dir,
    file: 'new/libk.so.1',
    soname: 'libk.so.1',
    source: `${abiTagSource(future)}int k(void) { return 2; }\n`,
  });
  await compileSharedLibrary({
    dir,
    file: 'old/libk.so.1',
    soname: 'libk.so.1',
    source: 'int k(void) { return 1; }\n',
  });
  return compileExecutable({
    dir,
    file: 'prog',
    source: 'extern int k(void); int main(void) { return k(); }\n',
    needed: [join(dir, 'new/libk.so.1')],
    runpath: `${join(dir, 'new')}:${join(dir, 'old')}`,
  });
}

for (const [name, expected] of [
  ['bullseye', 'old'],
  ['bookworm', 'new'],
] as const) {
  test(
    `a library tagged for a newer kernel: ${name} loads the ${expected} one, as pyrelo predicts`,
    { timeout: 40 * 60_000 },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const dir = await makeTempDir('pyrelo-abitag-');
      try {
        const program = await fixture(dir);
        const { report, differences } = await compareInRoot(root, dir, program);
        assert.deepEqual(differences, []);
        const picked = report.objects.find((o) => o.name === 'libk.so.1')?.path;
        assert.equal(picked, join(dir, expected, 'libk.so.1'));
        const skipped = report.objects
          .find((o) => o.name === 'libk.so.1')
          ?.searched.some((s) => s.outcome === 'kernel-too-old');
        assert.equal(skipped, name === 'bullseye');
      } finally {
        await removeDir(dir);
      }
    },
  );
}
