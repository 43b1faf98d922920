// What the smoke run loads counts too (README, `--smoke`): the magicsmoke app opens Debian's
// libmagic by name with ctypes, in a child interpreter, and starts a host tool (wheelhouse.ts). Built
// with `--smoke bin/magicsmoke`, once per libc mode:
// - the build's smoke run finds the dlopen, grafts libmagic (with what it needs) and records the
//   run-time need in the manifest; the caller's RUNPATH names the graft folder;
// - the bundle runs in the bookworm lab root, which has no libmagic, and `pyrelo check --root`
//   predicts the need loads there;
// - with the graft taken away, `pyrelo check --root`, the service's check of a bundle and the
//   build's verify step all see the need fail, and the check's words are those the real run prints.
// A smoke command that fails fails the build, with its output, and leaves nothing behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { build, type BuildResult } from '../../src/builder/build.js';
import { listBundleElves, readBundleElf } from '../../src/builder/bundle-elves.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { Progress } from '../../src/builder/progress.js';
import { verifyBuiltBundle } from '../../src/builder/verify.js';
import { buildHostView } from '../../src/builder/build-host.js';
import { main } from '../../src/client/cli.js';
import { checkBundleOnView } from '../../src/compat/check-bundle.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, MAGIC_LIBRARY, writeMagicWheel } from './wheelhouse.js';
import { captureStdout } from '../support/capture-stdout.js';

const TIMEOUT = 10 * 60_000;
const CALLER = 'lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so';
const GRAFTED = `lib/pyrelo-grafted/${MAGIC_LIBRARY}`;
const AT = '/opt/bundle';
type Libc = 'host' | 'bundle';

let work: Promise<string> | null = null;
const builds = new Map<Libc, Promise<{ result: BuildResult; lines: string[] }>>();

function workDir(): Promise<string> {
  work ??= (async () => {
    const dir = await makeTempDir('pyrelo-runtime-needs-');
    mkdirSync(join(dir, 'wheelhouse'));
    await writeMagicWheel(join(dir, 'wheelhouse'));
    return dir;
  })();
  return work;
}

function buildMagic(
  libc: Libc,
  smoke: string[] = ['bin/magicsmoke'],
  name: string = libc,
): Promise<{ result: BuildResult; lines: string[] }> {
  return (async () => {
    const dir = await workDir();
    const lines: string[] = [];
    const result = await build(
      {
        project: 'magicsmoke',
        python: BASE_PYTHON,
        requirements: null,
        wheelhouse: join(dir, 'wheelhouse'),
        libc,
        minGlibc: '2.17',
        entries: ['magicsmoke=magicsmoke:main'],
        smoke,
        slim: true,
        clear: false,
        prompt: null,
        withPip: false,
        output: join(dir, name),
      },
      new Progress((line) => lines.push(line)),
    );
    return { result, lines };
  })();
}

function built(libc: Libc): Promise<{ result: BuildResult; lines: string[] }> {
  let b = builds.get(libc);
  if (b === undefined) {
    b = buildMagic(libc);
    b.catch(() => undefined); // reported by the test awaiting it
    builds.set(libc, b);
  }
  return b;
}

test.after(async () => {
  await Promise.allSettled(builds.values());
  if (work !== null) await removeDir(await work);
});

function skip(t: { skip(reason: string): void }, lab: boolean): boolean {
  if (lab && skipUnlessLab(t, ['debootstrap'])) return true;
  const reason = buildSkipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return true;
  }
  if (!existsSync(`/usr/lib/x86_64-linux-gnu/${MAGIC_LIBRARY}`)) {
    t.skip(
      `no ${MAGIC_LIBRARY} on this machine (libmagic1, brought by the file package: scripts/install-system-deps.sh)`,
    );
    return true;
  }
  return false;
}

interface JsonReport {
  file: string;
  loads: boolean;
  problems: Array<{ severity: string; message: string }>;
}

/** `pyrelo check --root ROOT --json BUNDLE`: the report of the run-time need. */
async function predicted(root: string, bundle: string): Promise<JsonReport> {
  const { stdout } = await captureStdout(() => main(['check', '--root', root, '--json', bundle]));
  const files = (JSON.parse(stdout) as { files: JsonReport[] }).files;
  const need = files.find((f) => f.file === `dlopen("${MAGIC_LIBRARY}") by ${join(bundle, CALLER)}`);
  assert.ok(
    need,
    `the run-time need is checked: ${files
      .map((f) => f.file)
      .filter((f) => f.startsWith('dlopen'))
      .join(' | ')}`,
  );
  return need;
}

/** The magic library's version as the build host's own Python sees it. */
async function hostMagicVersion(): Promise<number> {
  const r = await execa(BASE_PYTHON, [
    '-I',
    '-c',
    `import ctypes; print(ctypes.CDLL("${MAGIC_LIBRARY}").magic_version())`,
  ]);
  return Number(r.stdout.trim());
}

for (const libc of ['host', 'bundle'] as const) {
  test(
    `--libc ${libc}: the smoke run's dlopen of ${MAGIC_LIBRARY} in a child is a run-time need, grafted; the ` +
      'bundle runs in bookworm, which lacks it',
    { timeout: TIMEOUT },
    async (t) => {
      if (skip(t, true)) return;
      const { result, lines } = await built(libc);
      const bundle = result.output;
      const m = result.manifest;
      assert.deepEqual(m.runtimeNeeds, [{ name: MAGIC_LIBRARY, caller: CALLER, grafted: GRAFTED }]);
      const graft = m.grafted.find((g) => g.path === GRAFTED);
      assert.ok(graft, `${GRAFTED} recorded: ${m.grafted.map((g) => g.path).join(' ')}`);
      assert.deepEqual(graft.neededBy, [CALLER]);
      assert.match(graft.debianPackage ?? '', /^libmagic1(:|$)/);
      // What libmagic needs came with it.
      for (const need of readBundleElf(bundle, join(bundle, GRAFTED)).needed.filter(
        (n) => !loadGraftPolicy().assumed(n),
      )) {
        assert.ok(
          m.grafted.some((g) => g.soname === need && g.neededBy.includes(GRAFTED)),
          `${need}, needed by ${MAGIC_LIBRARY}, grafted`,
        );
      }
      assert.ok(m.files.some((f) => f.path === GRAFTED));
      assert.match(
        readBundleElf(bundle, join(bundle, CALLER)).runpath ?? '',
        /(^|:)\$ORIGIN\/\.\.\/\.\.\/pyrelo-grafted(:|$)/,
      );
      const step = lines.find((l) => l.startsWith('pyrelo build: [smoke] ran'));
      assert.ok(step?.includes(`run-time needs: ${MAGIC_LIBRARY} (grafted; dlopened by ${CALLER})`), step);
      t.diagnostic(step ?? '');

      const root = await ensureRoot('bookworm');
      assert.equal(
        existsSync(join(root, 'usr/lib/x86_64-linux-gnu', MAGIC_LIBRARY)),
        false,
        `bookworm's root has no ${MAGIC_LIBRARY}`,
      );
      const need = await predicted(root, bundle);
      assert.equal(need.loads, true, JSON.stringify(need.problems));
      const real = await runInRoot(root, [`${AT}/bin/magicsmoke`], {
        bind: [{ hostPath: bundle, rootPath: AT, readOnly: true }],
        timeoutMs: 120_000,
      });
      assert.equal(real.exitCode, 0, real.stderr);
      const out = JSON.parse(real.stdout) as { magic_version: number; host_tool_exit: number; prefix: string };
      assert.deepEqual(out, { magic_version: await hostMagicVersion(), host_tool_exit: 0, prefix: AT });
    },
  );

  test(
    `--libc ${libc}: without the graft, check --root, the bundle check of the service and verify predict the ` +
      "failure in dlopen's words, as the real run prints them",
    { timeout: TIMEOUT },
    async (t) => {
      if (skip(t, true)) return;
      const { result } = await built(libc);
      const bundle = result.output;
      const root = await ensureRoot('bookworm');
      const aside = `${bundle}.${MAGIC_LIBRARY}`;
      renameSync(join(bundle, GRAFTED), aside);
      try {
        const real = await runInRoot(root, [`${AT}/bin/magicsmoke`], {
          bind: [{ hostPath: bundle, rootPath: AT, readOnly: true }],
          timeoutMs: 120_000,
        });
        assert.equal(real.exitCode, 1, `${real.stdout}\n${real.stderr}`);
        const lastLine = real.stderr.trim().split('\n').at(-1) ?? '';
        const match = /^OSError: (.+)$/.exec(lastLine);
        assert.ok(match, `ctypes raised OSError with dlerror()'s words: ${real.stderr}`);
        const dlerror = match[1]!;
        t.diagnostic(`the real run: ${lastLine}`);

        const need = await predicted(root, bundle);
        assert.equal(need.loads, false);
        assert.deepEqual(
          need.problems.filter((p) => p.severity === 'error').map((p) => p.message),
          [dlerror],
        );

        const base = new RootHostView(root, loaderConfigForRoot(root));
        const service = checkBundleOnView(
          new OverlayHostView(base, new RootHostView('/', base.config), [bundle]),
          bundle,
          { digest: 'd', host: 'bookworm', kind: 'predicted' },
        );
        assert.equal(service.loads, false);
        assert.deepEqual(
          service.problems.filter((p) => p.severity === 'error').map((p) => [p.file, p.message]),
          [[`dlopen("${MAGIC_LIBRARY}") by ${CALLER}`, dlerror]],
        );

        // On the build host the name is found where the smoke run found it, outside the bundle: the
        // build's own rule refuses it.
        const origin = result.manifest.grafted.find((g) => g.path === GRAFTED)?.origin;
        const verified = verifyBuiltBundle(bundle, listBundleElves(bundle), buildHostView(), loadGraftPolicy(), {
          libc,
          executable: result.manifest.python.executable,
          runtimeNeeds: result.manifest.runtimeNeeds,
        });
        const refused =
          `dlopen("${MAGIC_LIBRARY}") by ${CALLER}: ` + `${MAGIC_LIBRARY} comes from the build host (${origin})`;
        assert.ok(verified.problems.includes(refused), verified.problems.join('\n'));
      } finally {
        renameSync(aside, join(bundle, GRAFTED));
      }
    },
  );
}

test(
  'a smoke command that fails fails the build with its output, and nothing is written',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t, false)) return;
    const dir = await workDir();
    await assert.rejects(
      buildMagic('host', ['bin/python3.11', '-c', 'import sys; print("smoke says no"); sys.exit(3)'], 'failing'),
      (e: Error) =>
        /^--smoke bin\/python3\.11 -c .*: exited with 3 in the staged bundle:\nsmoke says no$/.test(e.message) ||
        assert.fail(e.message),
    );
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('failing')),
      [],
    );
  },
);
