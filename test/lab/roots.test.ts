// Each lab root is the host it claims to be: its own loader reports its own libc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { glibcVersionIn } from './ensure-root.js';
import {
  DEBIAN_ROOT_NAMES,
  EXPECTED_GLIBC,
  GLIBC_LOADER,
  MUSL_LOADER,
  ensureRoot,
  runInRoot,
  skipUnlessLab,
} from './lab.js';

const COLD_BUILD_TIMEOUT_MS = 20 * 60_000;
const NO_PROC = { mountProc: false, timeoutMs: 60_000 };

/** Host-side walk of a root for glibc/musl files; a libc hiding anywhere would show here. */
async function libcFilesIn(rootfs: string): Promise<string[]> {
  const entries = await readdir(rootfs, { recursive: true });
  return entries.filter((path) => /(^|\/)(libc\.so(\.\d+)?|ld-(linux|musl)[^/]*\.so[^/]*)$/.test(path)).sort();
}

for (const suite of DEBIAN_ROOT_NAMES) {
  const expected = EXPECTED_GLIBC[suite];

  test(`${suite} root runs its own glibc ${expected}`, { timeout: COLD_BUILD_TIMEOUT_MS }, async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const root = await ensureRoot(suite);

    const ldd = await runInRoot(root, ['ldd', '--version'], NO_PROC);
    assert.equal(ldd.exitCode, 0, ldd.stderr);
    assert.equal(glibcVersionIn(ldd.stdout), expected, ldd.stdout);

    // libc.so.6 is executable and prints its own version: the library, not a script.
    const libc = await runInRoot(root, ['/lib/x86_64-linux-gnu/libc.so.6'], NO_PROC);
    assert.match(libc.stdout, new RegExp(`release version ${expected.replace('.', '\\.')}\\b`));

    const loader = await runInRoot(root, [GLIBC_LOADER, '--version'], NO_PROC);
    if (suite === 'bullseye') {
      assert.notEqual(loader.exitCode, 0, 'glibc 2.31 predates ld.so --version');
    } else {
      assert.equal(glibcVersionIn(loader.stdout), expected, loader.stdout + loader.stderr);
    }
  });

  test(
    `${suite} root is that Debian release, minimal, with a working ld.so.cache`,
    { timeout: COLD_BUILD_TIMEOUT_MS },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(suite);
      const osRelease = await runInRoot(root, ['cat', '/etc/os-release'], NO_PROC);
      assert.match(osRelease.stdout, new RegExp(`^VERSION_CODENAME=${suite}$`, 'm'));
      const cache = await runInRoot(root, ['/sbin/ldconfig', '-p'], NO_PROC);
      assert.equal(cache.exitCode, 0, cache.stderr);
      assert.match(cache.stdout, /libc\.so\.6 \(libc6,x86-64[^)]*\) => \/lib\/x86_64-linux-gnu\/libc\.so\.6/);
      assert.ok((await runInRoot(root, ['test', '-x', '/usr/sbin/sshd'], NO_PROC)).exitCode === 0, 'sshd installed');
      assert.ok(
        (await runInRoot(root, ['test', '-e', '/usr/bin/gcc'], NO_PROC)).exitCode !== 0,
        'no compiler: roots stay minimal',
      );
    },
  );
}

test('busybox root runs busybox and has no libc at all', { timeout: 60_000 }, async (t) => {
  if (skipUnlessLab(t, ['busybox'])) return;
  const root = await ensureRoot('busybox');
  const result = await runInRoot(root, ['busybox', 'sh', '-c', 'echo ok'], NO_PROC);
  assert.equal(result.stdout, 'ok\n', result.stderr);
  assert.deepEqual(await libcFilesIn(root), []);
  // No loader either: a dynamically linked program cannot even start here.
  assert.notEqual((await runInRoot(root, ['test', '-e', GLIBC_LOADER], NO_PROC)).exitCode, 0);
});

test('musl root runs busybox and its musl loader, and has no glibc', { timeout: 60_000 }, async (t) => {
  if (skipUnlessLab(t, ['musl'])) return;
  const root = await ensureRoot('musl');
  const result = await runInRoot(root, ['busybox', 'sh', '-c', 'echo ok'], NO_PROC);
  assert.equal(result.stdout, 'ok\n', result.stderr);
  const loader = await runInRoot(root, [MUSL_LOADER], NO_PROC);
  assert.match(loader.stderr, /^musl libc \(x86_64\)\nVersion \d+\.\d+\.\d+$/m);
  assert.deepEqual(await libcFilesIn(root), ['lib/ld-musl-x86_64.so.1', 'lib/x86_64-linux-musl/libc.so']);
});
