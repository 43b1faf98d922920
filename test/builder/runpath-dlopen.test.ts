// The RUNPATH a caller of dlopen gets for its run-time needs (the build's smoke run, build-smoke.ts):
// ld.so searches a name dlopened by a module with that module's RUNPATH, so the module must name
// the folder its run-time needs were grafted to, as for a DT_NEEDED; glibc's own libraries and
// names its existing RUNPATH already finds add nothing. The bundle-level proof against the real
// loader is test/builder/runtime-needs.test.ts; here the caller has no DT_NEEDED of its own, which
// the magicsmoke app's caller (_ctypes, which needs the grafted libffi) does not show.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execa } from 'execa';
import { listBundleElves, readBundleElf } from '../../src/builder/bundle-elves.js';
import { GRAFT_DIR } from '../../src/builder/graft.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { findProviders, plannedRunpath } from '../../src/builder/runpath.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

test("a caller's run-time needs put the graft folder on its RUNPATH, like DT_NEEDED entries", async (t) => {
  const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  if (!hasGcc) return t.skip('needs gcc to build the fixtures');
  const bundle = await makeTempDir('pyrelo-runpath-dlopen-');
  try {
    await compileSharedLibrary({
      dir: bundle,
      file: `${GRAFT_DIR}/libfoo.so.1`,
      soname: 'libfoo.so.1',
      source: 'int foo(void) { return 1; }\n',
    });
    const plugin = await compileSharedLibrary({
      dir: bundle,
      file: 'lib/python3.11/site-packages/plug/_plug.so',
      source: 'int plug(void) { return 2; }\n',
    });
    const owned = await compileSharedLibrary({
      dir: bundle,
      file: 'lib/python3.11/site-packages/own/_own.so',
      runpath: '$ORIGIN/../../../pyrelo-grafted',
      source: 'int own(void) { return 3; }\n',
    });
    const providers = findProviders(listBundleElves(bundle), ['lib', GRAFT_DIR]);
    const policy = loadGraftPolicy();
    const elf = readBundleElf(bundle, plugin);
    assert.deepEqual(
      elf.needed.filter((n) => !policy.assumed(n)),
      [],
      'the plugin needs nothing from the bundle',
    );
    assert.equal(plannedRunpath(bundle, elf, providers, policy), null);
    assert.equal(plannedRunpath(bundle, elf, providers, policy, ['libfoo.so.1']), '$ORIGIN/../../../pyrelo-grafted');
    assert.equal(
      plannedRunpath(bundle, elf, providers, policy, ['libc.so.6', 'libm.so.6']),
      null,
      "glibc's libraries are the target's",
    );
    assert.equal(
      plannedRunpath(bundle, readBundleElf(bundle, owned), providers, policy, ['libfoo.so.1']),
      '$ORIGIN/../../../pyrelo-grafted',
      'found already: not twice',
    );
    assert.equal(readBundleElf(bundle, join(bundle, GRAFT_DIR, 'libfoo.so.1')).soname, 'libfoo.so.1');
  } finally {
    await removeDir(bundle);
  }
});
