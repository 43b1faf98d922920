// A wheel laid out as auditwheel repairs one (scipy: scipy.libs/libgfortran NEEDs libquadmath and
// finds it only through the extension module's DT_RPATH): rpathsmoke/_ext.so has DT_RPATH
// `$ORIGIN/../rpathsmoke.libs` and NEEDs libouter, which has no search path of its own and NEEDs
// libinner from the same folder. ld.so finds libinner through the module's RPATH, inherited by
// the chain of objects without DT_RUNPATH (README, `pyrelo check`); a DT_RUNPATH is not inherited.
// So the build must give libouter a RUNPATH of its own (src/builder/installed-needs.ts, runpath.ts).
// The module's RPATH also names an absolute folder of the build host holding libhostonly, which
// libouter needs too: found only through that inherited element, which the bundle drops, it must
// be grafted (graft.ts), and libouter's RUNPATH must name the graft folder.
// - the build succeeds (it refused such a bundle before: libinner "not found", undefined symbols);
// - every ELF's own needs are found through its own RUNPATH, and no DT_RPATH is left;
// - `pyrelo check --root` in the bookworm lab root predicts every file loads, and the bundle's
//   interpreter really imports the module there and calls through all three libraries (ground truth).
// Once per libc mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { build, type BuildResult } from '../../src/builder/build.js';
import { listBundleElves, readBundleElf } from '../../src/builder/bundle-elves.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { GRAFT_DIR, graftLibraries } from '../../src/builder/graft.js';
import { resolveInstalledNeeds } from '../../src/builder/installed-needs.js';
import { Progress } from '../../src/builder/progress.js';
import { findProviders, plannedRunpath } from '../../src/builder/runpath.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, writeWheel } from './wheelhouse.js';

const TIMEOUT = 10 * 60_000;
const PYRELO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');
const AT = '/opt/bundle';
const SITE = 'lib/python3.11/site-packages';
const MODULE = 'rpathsmoke/_ext.cpython-311-x86_64-linux-gnu.so';
const OUTER = 'rpathsmoke.libs/libouter-1a2b3c4d.so.1';
const INNER = 'rpathsmoke.libs/libinner-5e6f7a8b.so.1';
const HOST_ONLY = 'libhostonly.so.1';
type Libc = 'host' | 'bundle';

const EXT_SOURCE = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
int outer_value(void);
static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong(outer_value()); }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, "libouter's value"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&module); }
`;

/**
 * The three ELF files of the wheel under `dir` in the wheel's layout (their paths by wheel path),
 * and libhostonly in `hostDir`, a folder of the build host outside the wheel.
 */
async function compileFixtures(dir: string, hostDir: string, python: boolean): Promise<Record<string, string>> {
  const inner = await compileSharedLibrary({
    dir,
    file: INNER,
    soname: 'libinner-5e6f7a8b.so.1',
    source: 'int inner_value(void) { return 40; }\n',
  });
  const hostOnly = await compileSharedLibrary({
    dir,
    file: join(hostDir, HOST_ONLY),
    soname: HOST_ONLY,
    source: 'int host_value(void) { return 1; }\n',
  });
  // No RPATH or RUNPATH: libinner and libhostonly are found through the module's RPATH only.
  const outer = await compileSharedLibrary({
    dir,
    file: OUTER,
    soname: 'libouter-1a2b3c4d.so.1',
    needed: [inner, hostOnly],
    source:
      'int inner_value(void);\nint host_value(void);\nint outer_value(void) { return inner_value() + 2 * ' +
      'host_value(); }\n',
  });
  const cflags = python
    ? [
        '-I' +
          (
            await execa(BASE_PYTHON, ['-I', '-c', 'import sysconfig; print(sysconfig.get_path("include"))'])
          ).stdout.trim(),
      ]
    : [];
  const module = await compileSharedLibrary({
    dir,
    file: MODULE,
    rpath: `$ORIGIN/../rpathsmoke.libs:${hostDir}`,
    needed: [outer],
    cflags,
    source: python ? EXT_SOURCE : 'int outer_value(void);\nint ext_value(void) { return outer_value(); }\n',
  });
  return { [MODULE]: module, [OUTER]: outer, [INNER]: inner };
}

function hasGcc(): Promise<boolean> {
  return execa('gcc', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
}

test(
  "a library found only through its loader's " + 'DT_RPATH gets a RUNPATH of its own naming where it was found',
  async (t) => {
    if (!(await hasGcc())) return t.skip('needs gcc to build the fixtures');
    const work = await makeTempDir('pyrelo-inherited-rpath-');
    const tree = join(work, 'tree');
    const hostDir = join(work, 'host-only');
    try {
      await compileFixtures(tree, hostDir, false);
      const view = new RootHostView('/', loaderConfigForRoot('/'));
      // The premise, as ld.so sees it: alone, libouter misses libinner; loaded by the module, it finds it.
      const alone = checkFile(view, join(tree, OUTER));
      assert.equal(
        alone.objects.find((o) => o.name === 'libinner-5e6f7a8b.so.1')?.path,
        null,
        'alone, libouter does not find libinner',
      );
      const elves = listBundleElves(tree);
      const installed = resolveInstalledNeeds(tree, elves, view);
      assert.equal(
        installed.get(OUTER)?.get('libinner-5e6f7a8b.so.1'),
        join(tree, INNER),
        'loaded by the module, libouter finds libinner',
      );
      assert.equal(
        installed.get(OUTER)?.get(HOST_ONLY),
        join(hostDir, HOST_ONLY),
        '... and libhostonly, on the build host',
      );
      const policy = loadGraftPolicy();
      // The graft takes libhostonly from where libouter found it in context, for libouter.
      const graft = await graftLibraries(
        tree,
        elves.filter((e) => e.rel !== MODULE),
        view,
        policy,
        [],
        installed,
      );
      assert.deepEqual(graft.unresolved, []);
      assert.deepEqual(
        graft.grafted.map((g) => [g.path, g.origin, g.neededBy]),
        [[`${GRAFT_DIR}/${HOST_ONLY}`, join(hostDir, HOST_ONLY), [OUTER]]],
      );
      const providers = findProviders(listBundleElves(tree), ['lib', GRAFT_DIR]);
      const planned = (rel: string): string | null =>
        plannedRunpath(tree, readBundleElf(tree, join(tree, rel)), providers, policy, [], installed.get(rel));
      assert.equal(planned(OUTER), '$ORIGIN:$ORIGIN/../lib/pyrelo-grafted');
      assert.equal(
        planned(MODULE),
        '$ORIGIN/../rpathsmoke.libs',
        'the module keeps its own folder, once, and loses the absolute one',
      );
      assert.equal(planned(INNER), null, 'libinner needs nothing but glibc');
    } finally {
      await removeDir(work);
    }
  },
);

let work: Promise<string> | null = null;
const builds = new Map<Libc, Promise<{ result: BuildResult; lines: string[] }>>();

function workDir(): Promise<string> {
  work ??= (async () => {
    const dir = await makeTempDir('pyrelo-inherited-rpath-build-');
    const files = await compileFixtures(join(dir, 'src'), join(dir, 'host-only'), true);
    mkdirSync(join(dir, 'wheelhouse'));
    await writeWheel(join(dir, 'wheelhouse'), {
      name: 'rpathsmoke',
      version: '1.0',
      tag: 'cp311-cp311-linux_x86_64',
      requires: [],
      files: { 'rpathsmoke/__init__.py': 'from ._ext import value\n' },
      binaryFiles: files,
    });
    return dir;
  })();
  return work;
}

function built(libc: Libc): Promise<{ result: BuildResult; lines: string[] }> {
  let b = builds.get(libc);
  if (b === undefined) {
    b = (async () => {
      const dir = await workDir();
      const lines: string[] = [];
      const result = await build(
        {
          project: 'rpathsmoke',
          python: BASE_PYTHON,
          requirements: null,
          wheelhouse: join(dir, 'wheelhouse'),
          libc,
          minGlibc: '2.17',
          entries: [],
          slim: true,
          clear: false,
          prompt: null,
          withPip: false,
          output: join(dir, libc),
        },
        new Progress((line) => lines.push(line)),
      );
      return { result, lines };
    })();
    b.catch(() => undefined); // reported by the test awaiting it
    builds.set(libc, b);
  }
  return b;
}

test.after(async () => {
  await Promise.allSettled(builds.values());
  if (work !== null) await removeDir(await work);
});

interface JsonReport {
  file: string;
  loads: boolean;
  problems: Array<{ severity: string; message: string }>;
}

for (const libc of ['host', 'bundle'] as const) {
  test(
    `--libc ${libc}: a wheel whose .libs library finds its own need through the module's DT_RPATH builds; each ` +
      'ELF finds its needs through its own RUNPATH',
    { timeout: TIMEOUT },
    async (t) => {
      const reason = buildSkipReason();
      if (reason !== undefined) return t.skip(reason);
      const { result, lines } = await built(libc);
      const bundle = result.output;
      const graft = lines.find((l) => l.startsWith('pyrelo build: [graft] grafted'));
      assert.ok(graft !== undefined && !graft.includes('not found'), graft);
      for (const rel of [MODULE, OUTER, INNER]) {
        const elf = readBundleElf(bundle, join(bundle, SITE, rel));
        assert.equal(elf.rpath, null, `${rel}: no DT_RPATH left`);
        // Each file alone, as ld.so would load it with nothing inherited: its own needs resolve in the bundle.
        const report = checkFile(new RootHostView('/', loaderConfigForRoot('/')), elf.path);
        for (const need of elf.needed.filter((n) => !loadGraftPolicy().assumed(n))) {
          const found = report.objects.find((o) => o.loader === 0 && o.name === need);
          assert.ok(
            found?.path?.startsWith(`${bundle}/`),
            `${rel} finds ${need} in the bundle on its own (RUNPATH ${elf.runpath}): ${found?.path}`,
          );
        }
      }
      assert.equal(readBundleElf(bundle, join(bundle, SITE, OUTER)).runpath, '$ORIGIN:$ORIGIN/../../../pyrelo-grafted');
      const hostOnly = result.manifest.grafted.find((g) => g.soname === HOST_ONLY);
      assert.deepEqual(
        [hostOnly?.origin, hostOnly?.neededBy],
        [join(await workDir(), 'host-only', HOST_ONLY), [`${SITE}/${OUTER}`]],
      );
    },
  );

  test(
    `--libc ${libc}: in the bookworm lab root, pyrelo check --root predicts the module, its libraries and the ` +
      "graft load, and the bundle's interpreter imports it",
    { timeout: TIMEOUT },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const reason = buildSkipReason();
      if (reason !== undefined) return t.skip(reason);
      const { result } = await built(libc);
      const bundle = result.output;
      const root = await ensureRoot('bookworm');
      const checked = await execa('node', [PYRELO, 'check', '--root', root, '--json', bundle], { reject: false });
      const files = (JSON.parse(checked.stdout) as { files: JsonReport[] }).files;
      for (const rel of [...[MODULE, OUTER, INNER].map((r) => `${SITE}/${r}`), `${GRAFT_DIR}/${HOST_ONLY}`]) {
        const report = files.find((f) => f.file === join(bundle, rel));
        assert.ok(report, `${rel} is checked`);
        assert.equal(report.loads, true, `${rel}: ${JSON.stringify(report.problems)}`);
      }
      const real = await runInRoot(
        root,
        [`${AT}/bin/python3.11`, '-c', 'import rpathsmoke; print(rpathsmoke.value())'],
        { bind: [{ hostPath: bundle, rootPath: AT, readOnly: true }], timeoutMs: 120_000 },
      );
      assert.equal(real.exitCode, 0, real.stderr);
      assert.equal(real.stdout.trim(), '42');
    },
  );
}
