// The loader check on the lab's arm64 Debian roots (README "Testing → arm64 roots"): ELF files
// under /usr/lib and /usr/bin of each root are traced by that root's own ld-linux-aarch64.so.1,
// run inside the root under qemu-aarch64 (binfmt_misc, registered by the lab), and
// `pyrelo check --root` must agree on every one: objects, paths, order, missing versions,
// undefined symbols.
//
// Emulation is slow, so `npm test` traces an even sample of SAMPLE_FILES files of the bookworm
// root; PYRELO_LAB_ALL=1 (`npm run lab:arm64`) traces every file of every arm64 root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { compareWithRealLoader } from '../support/compare.js';
import { traceManyWithRealLoader } from '../support/real-loader.js';
import { EM_AARCH64 } from '../../src/elf/constants.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { detectCpuHwcaps } from '../../src/inventory/hwcaps.js';
import { ARM64_ROOT_NAMES, ensureRoot, runInRoot, skipUnlessLab, type Arm64RootName } from '../lab/lab.js';
import { describeGroundTruth, groundTruth } from '../support/ground-truth.js';
import type { CommandRunner } from '../support/real-loader.js';

const ALL = process.env.PYRELO_LAB_ALL === '1';
/** Files traced per root in `npm test`: about a minute of emulated ld.so runs. */
const SAMPLE_FILES = 60;
const ROOTS: readonly Arm64RootName[] = ALL ? ARM64_ROOT_NAMES : ['bookworm-arm64'];
/** A cold root is a debootstrap whose second stage runs under emulation. */
const TIMEOUT = 90 * 60_000;

function chrootRunner(root: string): CommandRunner {
  return async (argv, env) => {
    const r = await runInRoot(root, argv, { env });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
}

for (const name of ROOTS) {
  test(
    `ground truth in the ${name} root${ALL ? '' : ` (${SAMPLE_FILES} files)`}: ` +
      'pyrelo check --root agrees with its own ld-linux-aarch64.so.1',
    { timeout: TIMEOUT },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
      const root = await ensureRoot(name);
      const config = loaderConfigForRoot(root);
      assert.equal(config.machine, EM_AARCH64, `${name} is not seen as an aarch64 root`);
      assert.equal(config.interpreter, '/lib/ld-linux-aarch64.so.1');
      const result = await groundTruth(root, ['/usr/lib', '/usr/bin'], chrootRunner(root), {
        ...(ALL ? {} : { sample: SAMPLE_FILES }),
      });
      t.diagnostic(describeGroundTruth(result, 0));
      assert.ok(result.files >= (ALL ? 100 : SAMPLE_FILES), `only ${result.files} ELF files in ${name}`);
      // The traces really came from the aarch64 loader (a silent x86 fallback would trace nothing).
      const loaded = result.traces.filter((trace) => trace.objects.some((o) => o.path?.includes('aarch64-linux-gnu')));
      assert.ok(loaded.length > result.files / 2, `only ${loaded.length} traces name an aarch64-linux-gnu path`);
      assert.equal(result.disagreements.length, 0, describeGroundTruth(result));
    },
  );
}

test('an aarch64 program runs in the arm64 root, under the qemu-aarch64 handler the lab registered', async (t) => {
  if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
  const root = await ensureRoot('bookworm-arm64');
  const r = await runInRoot(root, ['/usr/bin/uname', '-m']);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'aarch64');
});

/** The indented lines under one heading of `ld.so --help`. */
function helpSection(help: string, heading: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `\`ld.so --help\` has no section ${heading}:\n${help}`);
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l.trim());
  }
  return out;
}

test("hwcaps of the arm64 root: pyrelo's aarch64 model equals what its ld.so says under qemu", async (t) => {
  if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
  const root = await ensureRoot('bookworm-arm64');
  const r = await runInRoot(root, ['/lib/ld-linux-aarch64.so.1', '--help']);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^No subdirectories of glibc-hwcaps directories are searched\.$/m);
  const config = loaderConfigForRoot(root);
  assert.deepEqual(config.hwcapsSubdirs, []);
  const legacy = helpSection(r.stdout, 'Legacy HWCAP subdirectories');
  const cpu = detectCpuHwcaps('aarch64');
  assert.equal(legacy.find((l) => l.includes('(AT_PLATFORM'))?.split(' ')[0], cpu.platform);
  const searched = legacy.filter((l) => l.endsWith('searched)')).map((l) => l.split(' ')[0]!);
  assert.deepEqual(cpu.legacyHwcapNames, searched);
  // glibc 2.36 still searches them: the configuration pyrelo checks the root with has all seven.
  assert.equal(config.legacyHwcapsSubdirs.length, 7);
  t.diagnostic(`legacy subdirectories: ${config.legacyHwcapsSubdirs.join(', ')}`);
});

test('a library only ld.so.cache knows of, in an arm64 root: found through the aarch64 cache entries', async (t) => {
  if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
  const cached = await ensureRoot('bookworm-arm64');
  // Every library of a Debian root also sits in a default folder, where a cache miss finds it too;
  // here libz is moved to a folder only /etc/ld.so.conf.d names, so only a cache hit finds it.
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-arm64-cache-'));
  try {
    const root = join(work, 'rootfs');
    await execa('cp', ['-a', cached, root]);
    mkdirSync(join(root, 'opt/cache-only'));
    for (const name of ['libz.so.1', 'libz.so.1.2.13'])
      renameSync(join(root, 'usr/lib/aarch64-linux-gnu', name), join(root, 'opt/cache-only', name));
    writeFileSync(join(root, 'etc/ld.so.conf.d/pyrelo-cache-only.conf'), '/opt/cache-only\n');
    const ldconfig = await runInRoot(root, ['/sbin/ldconfig'], { overlay: false, mountProc: false });
    assert.equal(ldconfig.exitCode, 0, ldconfig.stderr);

    const program = '/usr/bin/dpkg-deb';
    const config = loaderConfigForRoot(root);
    const report = checkFile(new RootHostView(root, config), program, { cwd: '/' });
    const [trace] = await traceManyWithRealLoader([program], {
      bindNow: true,
      ldso: config.interpreter,
      runner: chrootRunner(root),
    });
    assert.ok(trace);
    assert.ok(
      trace.objects.some((o) => o.path === '/opt/cache-only/libz.so.1'),
      `ld.so did not load libz from the cache-only folder:\n${trace.stdout}`,
    );
    assert.deepEqual(compareWithRealLoader(report, trace), []);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
