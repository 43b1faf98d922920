// Real-world wheels as auditwheel repaired them, in one --libc auto bundle: numpy (numpy.libs/ with
// OpenBLAS, libgfortran and libquadmath under hashed names, DT_RPATH $ORIGIN/../../numpy.libs, and
// libstdc++/libgcc_s/libz left to the host by the manylinux policy) and lxml (libxml2 and libxslt
// linked in). One build, shared by every test: it passes its own verify step, the wheels' libraries
// stay where their RUNPATHs point and are not grafted twice, and in bullseye, bookworm, trixie and
// the busybox root `pyrelo check --root` predicts it loads and bin/scismoke really multiplies
// matrices, solves a system through LAPACK, and runs an XPath and an XSLT.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildResult } from '../../src/builder/build.js';
import { listBundleElves } from '../../src/builder/bundle-elves.js';
import { Progress } from '../../src/builder/progress.js';
import { main } from '../../src/client/cli.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, ensureScientificWheelhouse } from './wheelhouse.js';

const TIMEOUT = 40 * 60_000;

interface Built { dir: string; bundle: string; result: BuildResult; lines: string[] }

let shared: Promise<Built> | null = null;

function setUp(): Promise<Built> {
  shared ??= (async () => {
    const wheelhouse = await ensureScientificWheelhouse();
    const dir = await makeTempDir('pyrelo-scientific-');
    const lines: string[] = [];
    const bundle = join(dir, 'bundle');
    const result = await build({
      project: 'scismoke', python: BASE_PYTHON, pythonSource: null, requirements: null, wheelhouse, libc: 'auto', minGlibc: '2.17',
      entries: ['scismoke=scismoke:main'], smoke: ['bin/scismoke'], slim: true, clear: false, prompt: null, withPip: false, output: bundle,
    }, new Progress((line) => lines.push(line)));
    return { dir, bundle, result, lines };
  })();
  return shared;
}

test.after(async () => {
  if (shared !== null) await removeDir((await shared).dir);
});

function skip(t: { skip(reason: string): void }, need: 'debootstrap' | 'busybox' = 'debootstrap'): boolean {
  if (skipUnlessLab(t, [need])) return true;
  const reason = buildSkipReason();
  if (reason) { t.skip(reason); return true; }
  return false;
}

async function captureStdout(run: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => { chunks.push(String(chunk)); return true; }) as typeof process.stdout.write;
  try {
    const code = await run();
    return { code, stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined; // main() sets it for the CLI; the test process must not exit 1
  }
}

test('numpy + lxml: the build verifies, numpy.libs stays where its RUNPATHs point, host C++ runtime grafted, manifest complete', { timeout: TIMEOUT }, async (t) => {
  if (skip(t)) return;
  const started = Date.now();
  const { bundle, result, lines } = await setUp();
  t.diagnostic(`build (wheelhouse cached or not) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { manifest } = result;
  assert.equal(manifest.libc, 'bundle', 'auto bundles glibc: numpy is manylinux_2_28 and the base Python needs 2.36');
  const verify = manifest.steps.find((s) => s.name === 'verify');
  assert.match(verify?.summary ?? '', /ELF files load from the bundle and glibc only/, lines.join('\n'));
  const packages = new Map(manifest.python.packages.map((p) => [p.name, p.version]));
  assert.equal(packages.get('numpy'), '2.4.6');
  assert.equal(packages.get('lxml'), '6.1.3');
  assert.deepEqual(manifest.smoke, ['bin/scismoke']);

  const libs = readdirSync(join(bundle, 'lib/python3.11/site-packages/numpy.libs')).sort();
  assert.ok(libs.some((n) => n.startsWith('libscipy_openblas')) && libs.some((n) => n.startsWith('libgfortran-')), libs.join(' '));
  // The wheel's own libraries are found through its RUNPATH, never copied a second time.
  const grafted = manifest.grafted.map((g) => g.soname);
  assert.deepEqual(grafted.filter((n) => libs.includes(n)), [], `grafted: ${grafted.join(' ')}`);
  // What the manylinux policy leaves to the host (libstdc++, libgcc_s, libz) is not assumed by pyrelo's.
  for (const name of ['libstdc++.so.6', 'libgcc_s.so.1', 'libz.so.1']) assert.ok(grafted.includes(name), `${name} grafted: ${grafted.join(' ')}`);
  const umath = manifest.grafted.find((g) => g.soname === 'libstdc++.so.6')!;
  assert.ok(umath.neededBy.some((n) => n.includes('numpy/_core/_multiarray_umath')), umath.neededBy.join(' '));

  // Every ELF: RUNPATH (not RPATH), $ORIGIN-relative only; numpy's extensions keep their numpy.libs.
  for (const elf of listBundleElves(bundle)) {
    assert.equal(elf.rpath, null, `${elf.rel}: DT_RPATH left`);
    for (const element of (elf.runpath ?? '').split(':').filter((e) => e !== '')) assert.match(element, /^\$ORIGIN(\/|$)/, `${elf.rel}: ${elf.runpath}`);
  }
  const record = (suffix: string) => manifest.elf.find((e) => e.path.includes(suffix));
  assert.match(record('numpy/_core/_multiarray_umath')?.runpath ?? '', /^\$ORIGIN\/\.\.\/\.\.\/numpy\.libs(:|$)/);
  assert.match(record('numpy.libs/libscipy_openblas')?.runpath ?? '', /^\$ORIGIN(:|$)/);
  assert.ok(manifest.files.some((f) => f.path.startsWith('lib/python3.11/site-packages/numpy.libs/libscipy_openblas')));
});

interface Smoke { prefix: string; numpy: string; matmul: number[][]; solve: number[]; lxml: string; libxml2: string; xpath: number; xslt: string }

for (const name of ['bullseye', 'bookworm', 'trixie', 'busybox'] as const) {
  test(`numpy + lxml in ${name}: pyrelo check --root predicts it loads, and bin/scismoke computes`, { timeout: TIMEOUT }, async (t) => {
    if (skip(t, name === 'busybox' ? 'busybox' : 'debootstrap')) return;
    const { bundle } = await setUp();
    const root = await ensureRoot(name);
    const started = Date.now();
    const { code, stdout } = await captureStdout(() => main(['check', '--root', root, bundle]));
    assert.equal(code, 0, `pyrelo check --root ${name} predicts it loads:\n${stdout.slice(-3000)}`);
    const r = await runInRoot(root, ['/opt/bundle/bin/scismoke'], {
      bind: [{ hostPath: bundle, rootPath: '/opt/bundle', readOnly: true }], cwd: '/tmp', timeoutMs: 120_000,
    });
    t.diagnostic(`${name}: check and run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr');
    const out = JSON.parse(r.stdout) as Smoke;
    assert.equal(out.prefix, '/opt/bundle');
    assert.equal(out.numpy, '2.4.6');
    assert.deepEqual(out.matmul, [[10, 13], [28, 40]]);
    assert.deepEqual(out.solve, [2, 3]);
    assert.equal(out.lxml, '6.1.3');
    assert.equal(out.xpath, 3);
    assert.equal(out.xslt, '<?xml version="1.0"?>\n<out>ab</out>');
  });
}
