// Files of another machine, in the system's own words (src/loader/foreign-file.ts), against the
// real loaders and kernel:
// - a library opened by path: perl's DynaLoader dlopens it in the bookworm root (glibc 2.36's
//   x86_64 ld.so, an aarch64 library) and in the bookworm-arm64 root (its aarch64 ld.so under
//   qemu, an x86_64 library); a 32-bit file in both. `pyrelo check --root` must say what dlerror
//   says, then why;
// - a program: an aarch64 program started on this x86_64 kernel where no binfmt_misc handler
//   takes it (a user namespace with its own, empty binfmt_misc: Linux 6.7 and later), which is
//   what a kernel of another machine does with it. The other way round (an x86_64 program on an
//   aarch64 kernel) cannot be shown here: in the arm64 root this x86_64 kernel runs it natively.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { elf32HeaderOnly } from '../support/fixtures.js';

/**
 * What pyrelo check --root says about `path`, a file of this machine laid over the root at the
 * same path (as the bundle check lays a bundle over a host: OverlayHostView).
 */
function pyreloWords(root: string, path: string): string {
  const config = loaderConfigForRoot(root);
  const view = new OverlayHostView(new RootHostView(root, config), new RootHostView('/', config), [dirname(path)]);
  const report = checkFile(view, path);
  assert.equal(report.loads, false, `${path} is predicted to load in ${root}`);
  assert.equal(report.problems.length, 1, JSON.stringify(report.problems));
  return report.problems[0]!.message;
}

/** dlerror() after dlopen(path) by the root's own perl (perl-base is in every Debian root). */
async function dlopenWords(root: string, path: string): Promise<string> {
  const script =
    'require DynaLoader; my $h = DynaLoader::dl_load_file($ARGV[0], 0); ' +
    'print defined $h ? "loaded\\n" : DynaLoader::dl_error() . "\\n"';
  const r = await runInRoot(root, ['/usr/bin/perl', '-e', script, path], {
    bind: [{ hostPath: dirname(path), rootPath: dirname(path), readOnly: true }],
  });
  assert.equal(r.exitCode, 0, r.stderr);
  // dl_error() adds where perl was, a newline and a NUL.
  return r.stdout.replace(/ at -e line \d+\.[\s\S]*$/, '').trim();
}

for (const [rootName, otherName, libDir] of [
  ['bookworm', 'bookworm-arm64', 'usr/lib/aarch64-linux-gnu'],
  ['bookworm-arm64', 'bookworm', 'usr/lib/x86_64-linux-gnu'],
] as const) {
  test(`a library of another machine or class, dlopened by path in ${rootName}: what dlerror says`, async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
    const root = await ensureRoot(rootName);
    const other = await ensureRoot(otherName);
    const work = mkdtempSync(join(tmpdir(), 'pyrelo-foreign-'));
    try {
      copyFileSync(join(other, libDir, 'libz.so.1'), join(work, 'libz.so.1'));
      writeFileSync(join(work, 'lib32.so'), elf32HeaderOnly(64));
      for (const name of ['libz.so.1', 'lib32.so']) {
        const path = join(work, name);
        const real = await dlopenWords(root, path);
        assert.notEqual(real, 'loaded');
        const ours = pyreloWords(root, path);
        t.diagnostic(`${rootName}: dlerror: ${real} | pyrelo: ${ours}`);
        assert.ok(ours === real || ours.startsWith(`${real} (`), `${ours}\n  is not\n${real}`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

test('an aarch64 program where no binfmt handler takes it: Exec format error, as pyrelo says', async (t) => {
  if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
  const arm = await ensureRoot('bookworm-arm64');
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-foreign-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const program = join(work, 'true');
  copyFileSync(join(arm, 'usr/bin/true'), program);
  // A user namespace with its own binfmt_misc has no handler registered, so the lab's qemu one
  // does not apply there (and it stays registered for everyone else).
  const r = await execa(
    'unshare',
    [
      '--user',
      '--map-root-user',
      '--mount',
      'sh',
      '-c',
      'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || exit 99; "$0"',
      program,
    ],
    { reject: false, env: { LANG: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
  );
  if (r.exitCode === 99) {
    t.skip('no binfmt_misc of its own in a user namespace here (Linux 6.7+): the lab handler would run it');
    return;
  }
  assert.equal(r.exitCode, 126, r.stderr);
  assert.match(r.stderr, /: Exec format error$/m);
  const bookworm = await ensureRoot('bookworm');
  const ours = pyreloWords(bookworm, program);
  t.diagnostic(`kernel: ${r.stderr.trim()} | pyrelo: ${ours}`);
  assert.ok(ours.startsWith(`${program}: Exec format error (a program for aarch64: `), ours);
});

test('an x86_64 program checked for an arm64 root: Exec format error (the kernel rule, not run here)', async (t) => {
  if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
  const arm = await ensureRoot('bookworm-arm64');
  const bookworm = await ensureRoot('bookworm');
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-foreign-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  copyFileSync(join(bookworm, 'usr/bin/true'), join(work, 'true'));
  const ours = pyreloWords(arm, join(work, 'true'));
  assert.match(
    ours,
    /: Exec format error \(a program for x86_64: the kernel of this aarch64 host does not execute it\)$/,
  );
});
