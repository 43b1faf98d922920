// LD_PRELOAD through a --libc bundle launcher (docs/loader-model.md, "LD_PRELOAD", "The launcher's
// shell") against the real loader. The bundle's bin/python3.11 is a script: the kernel starts the
// host's /bin/sh for it, under the host's own loader and libc, with the LD_PRELOAD the user set, and
// only then the bundled loader. A preload whose $ORIGIN dependency needs a glibc newer than the
// host's (GLIBC_2.36, from this machine's glibc) stops bullseye's dash (glibc 2.31) before the
// bundled glibc is ever reached, although the program itself runs there; bookworm's dash takes it,
// and busybox's static sh reads no LD_PRELOAD at all.
//
// The fixture is a bundle made by hand the way `pyrelo build --libc bundle` lays it out, with the
// build's own bundleGlibc (its launcher, its glibc copy): a small C program stands in for the
// interpreter, and the preload is marked preloadOnly. In each root it is started as a user (or ray)
// starts it, `LD_PRELOAD=PRELOAD bin/python3.11`, and the verdict compared with `pyrelo check --root`
// and with the prediction from the root's inventory, with the corpus comparison's rule
// (test/corpus/compare.ts): same verdict, and when it fails, the same reason.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { bundleGlibc } from '../../src/builder/libc-bundle.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { predictBundle } from '../../src/compat/check-bundle.js';
import { MANIFEST_FORMAT, writeManifest } from '../../src/bundle/manifest.js';
import { listBundleFiles } from '../../src/bundle/file-list.js';
import { ensureRoot, runInRoot, skipUnlessLab, type LabRootName } from '../lab/lab.js';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { compareOne, isAgreement, pyreloWords, realWords, type PyreloVerdict } from '../corpus/compare.js';
import type { RealVerdict } from '../corpus/real-load.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const PRELOAD = 'lib/python3.11/site-packages/preloadapp/libpreload.so';
const LAUNCHER = 'bin/python3.11';
const TIMEOUT = 10 * 60_000;

let bundle = '';
let cannotBuild: string | undefined;

before(async () => {
  if (process.arch !== 'x64') {
    cannotBuild = 'the lab roots are x86_64';
    return;
  }
  if (spawnSync('gcc', ['--version']).status !== 0) {
    cannotBuild = 'needs gcc';
    return;
  }
  const dir = await makeTempDir('pyrelo-launcher-preload-');
  bundle = join(dir, 'bundle');
  const site = join(bundle, 'lib/python3.11/site-packages/preloadapp');
  // arc4random is GLIBC_2.36: newer than bullseye's 2.31, as ray's grafted libstdc++ needs 2.32+.
  const dependency = await compileSharedLibrary({
    dir: site,
    file: 'libneedsnew.so',
    source: '#include <stdlib.h>\nunsigned needs_new(void) { return arc4random(); }\n',
    soname: 'libneedsnew.so',
  }).catch((error: Error) => {
    cannotBuild = `this machine's glibc has no arc4random (2.36+): ${error.message.split('\n')[0]}`;
    return null;
  });
  if (dependency === null) return;
  await compileSharedLibrary({
    dir: site,
    file: 'libpreload.so',
    source: 'int preload_marker(void) { return 1; }\n',
    cflags: ['-nostdlib'],
    needed: [dependency],
    runpath: '$ORIGIN',
  });
  await compileExecutable({
    dir: bundle,
    file: LAUNCHER,
    source: '#include <stdio.h>\nint main(void) { puts("started"); return 0; }\n',
  });
  // The build's own step: the loader and glibc of this machine into lib/pyrelo-glibc, the program
  // into libexec/, the launcher script in its place.
  bundleGlibc(bundle, LAUNCHER, new RootHostView('/', loaderConfigForRoot('/')), loadGraftPolicy());
  writeManifest(bundle, {
    format: MANIFEST_FORMAT,
    name: 'preloadapp',
    python: { version: '3.11.7', executable: LAUNCHER, packages: [] },
    libc: 'bundle',
    glibcFloor: null,
    kernelFloor: null,
    entryPoints: {},
    steps: [],
    slimmed: [],
    grafted: [],
    preloadOnly: [PRELOAD],
    elf: [],
    files: listBundleFiles(bundle),
  });
});

after(async () => {
  if (bundle !== '') await removeDir(join(bundle, '..'));
});

/** The launcher started as a user starts it, with the preload in LD_PRELOAD (or none). */
async function startInRoot(root: string, preload: boolean): Promise<RealVerdict> {
  const r = await runInRoot(root, [join(bundle, LAUNCHER)], {
    bind: [{ hostPath: bundle, rootPath: bundle, readOnly: true }],
    env: { PATH: '/usr/bin:/bin', LANG: 'C', ...(preload ? { LD_PRELOAD: join(bundle, PRELOAD) } : {}) },
    mountProc: true,
    timeoutMs: 120_000,
  });
  const out = `${r.stdout}${r.stderr}`.trim();
  const loaded = r.exitCode === 0 && r.stdout.trim() === 'started';
  return { loaded, exitCode: r.exitCode ?? -1, message: loaded ? '' : out.replace(/\s*\n\s*/g, ' ') };
}

/** `pyrelo check --root ROOT BUNDLE --json`: the preload's verdict. */
async function checkVerdict(root: string): Promise<PyreloVerdict> {
  const r = await execa('node', [PYRELO, 'check', '--root', root, '--json', bundle], {
    reject: false,
    env: { LC_ALL: 'C' },
  });
  assert.ok(r.exitCode === 0 || r.exitCode === 1, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: (PyreloVerdict & { file: string })[] }).files;
  const found = files.find((f) => f.file === join(bundle, PRELOAD));
  assert.ok(found !== undefined, `${PRELOAD} was checked`);
  return found;
}

for (const [name, expected] of [
  ['bullseye', false],
  ['bookworm', true],
  ['busybox', true],
] as const satisfies readonly (readonly [LabRootName, boolean])[]) {
  test(
    `LD_PRELOAD through the --libc bundle launcher in ${name}: pyrelo's verdict equals the real start`,
    { timeout: TIMEOUT },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      if (cannotBuild !== undefined) return t.skip(cannotBuild);
      const root = await ensureRoot(name);
      // The program itself starts there through the bundled glibc: only the preload decides.
      const plain = await startInRoot(root, false);
      assert.ok(plain.loaded, `without LD_PRELOAD: ${realWords(plain)}`);

      const real = await startInRoot(root, true);
      t.diagnostic(`real: ${realWords(real)}`);
      assert.equal(real.loaded, expected, realWords(real));
      if (!real.loaded) {
        // The host's shell stops, in ld.so's words for a version missing in a start-up object's
        // dependency: fatal (exit 1), not "cannot be preloaded: ignored".
        assert.equal(real.exitCode, 1, realWords(real));
        assert.match(real.message, /^\/bin\/sh: \S+libc\.so\.6: version `GLIBC_2\.36' not found \(required by /);
      }

      const checked = await checkVerdict(root);
      t.diagnostic(`pyrelo check: ${pyreloWords(checked)}`);
      const comparison = compareOne(join(bundle, PRELOAD), name, 'bundle', real, checked);
      assert.ok(isAgreement(comparison), `${comparison.outcome}: real ${realWords(real)}; ${pyreloWords(checked)}`);

      // The prediction from the root's inventory (what the server does for a host) says the same.
      const predicted = predictBundle(collectInventory(root), bundle, {
        digest: 'fixture',
        host: name,
        inventorySha256: 'fixture',
      });
      assert.equal(predicted.runs, real.loaded, JSON.stringify(predicted.problems.slice(0, 3)));
      if (!real.loaded)
        assert.ok(
          predicted.problems.some((p) => p.message.includes('/bin/sh') && p.message.includes('GLIBC_2.36')),
          JSON.stringify(predicted.problems),
        );
    },
  );
}
