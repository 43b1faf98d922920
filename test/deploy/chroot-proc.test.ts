// Bundles and /proc (README "Launchers and /proc"). Two real bundles made here by `pyrelo build`
// (yamlsmoke, --smoke bin/smoke), one per libc mode:
// - in every lab root, with and without /proc mounted, the server's prediction from an inventory
//   that records it (`collectInventory(root, { procMounted })`, as `pyrelo inventory --root DIR
//   [--no-proc]` writes it) must equal the verdict of the smoke command really run there;
// - deployed with `pyrelo deploy` to a copy of the bookworm root reached by --chroot, both modes are
//   predicted to run, run their smoke command, and compat says the prediction agrees.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRoot, labSkipReason, runInRoot, LAB_ROOT_NAMES } from '../lab/lab.js';
import { extractArchive } from '../../src/bundle/extract.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { predictBundle } from '../../src/compat/check-bundle.js';
import type { CompatResponse } from '../../src/proto/messages.js';
import type { HostDeployResult } from '../../src/client/deploy/deploy-host.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';
import { APP, ENTRY, buildSkipReason } from '../builder/shared-build.js';
import { BASE_PYTHON, ensureWheelhouse } from '../builder/wheelhouse.js';
import { pyreloCli, type CliRun } from './pyrelo-cli.js';

const skip = labSkipReason(['debootstrap', 'busybox']) ?? buildSkipReason();
const MODES = ['host', 'bundle'] as const;

let work: string;
const archives = new Map<string, string>();
const folders = new Map<string, string>();

const cli = (args: string[]): Promise<CliRun> => pyreloCli(args);

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-chroot-proc-'));
  const wheelhouse = await ensureWheelhouse();
  await Promise.all(
    MODES.map(async (libc) => {
      const name = `proc-${libc}-libc`;
      const archive = join(work, `${name}.tar.gz`);
      const { status, output } = await cli([
        'build',
        APP,
        '--python',
        BASE_PYTHON,
        '--wheelhouse',
        wheelhouse,
        '--libc',
        libc,
        '--entry',
        ENTRY,
        '--smoke',
        'bin/smoke',
        '--prompt',
        name,
        '-o',
        archive,
      ]);
      assert.equal(status, 0, `pyrelo build --libc ${libc} failed:\n${output}`);
      archives.set(libc, archive);
      const folder = join(work, name);
      await extractArchive(archive, folder);
      folders.set(libc, folder);
    }),
  );
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  'with and without /proc, in every lab root: the prediction from the inventory equals the smoke run',
  { skip, timeout: 900_000 },
  async (t) => {
    const table: string[] = [];
    for (const name of LAB_ROOT_NAMES) {
      const root = await ensureRoot(name);
      for (const proc of [true, false]) {
        const inventory = collectInventory(root, { procMounted: proc });
        for (const libc of MODES) {
          const folder = folders.get(libc)!;
          const predicted = predictBundle(inventory, folder, { digest: 'test', host: name, inventorySha256: '' });
          const real = await runInRoot(root, [join(folder, 'bin', 'smoke')], {
            mountProc: proc,
            bind: [{ hostPath: folder, rootPath: folder, readOnly: true }],
            timeoutMs: 120_000,
          });
          const errors = predicted.problems.filter((p) => p.severity === 'error').map((p) => `${p.file}: ${p.message}`);
          const what =
            `${name}, /proc ${proc ? 'mounted' : 'absent'}, --libc ${libc}: smoke exit ${real.exitCode} ` +
            `${real.stderr.trim().slice(0, 400)}; predicted ` +
            `${predicted.runs ? 'runs' : `fails: ${errors.slice(0, 5).join(' | ')}`}`;
          assert.equal(predicted.runs, real.exitCode === 0, what);
          table.push(
            `${name.padEnd(8)} /proc ${proc ? 'yes' : 'no '} --libc ${libc.padEnd(6)} ` +
              `${predicted.runs ? 'runs' : 'fails'}`,
          );
          if (
            libc === 'host' &&
            !proc &&
            !predicted.runs &&
            name !== 'busybox' &&
            name !== 'musl' &&
            name !== 'bullseye'
          ) {
            // The issue's false "runs": the interpreter's own $ORIGIN/../lib is gone with /proc.
            assert.match(real.stderr, /libpython3\.\d+\.so\.1\.0: cannot open shared object file/, what);
            assert.ok(
              predicted.problems.some(
                (p) => p.kind === 'missing-library' && /^libpython3\.\d+\.so\.1\.0$/.test(p.library),
              ),
              what,
            );
          }
        }
      }
    }
    t.diagnostic(table.join('\n'));
    // The rows that show the rule: host-libc runs in bookworm and trixie with /proc, not without it.
    for (const name of ['bookworm', 'trixie']) {
      assert.ok(table.includes(`${name.padEnd(8)} /proc yes --libc host   runs`), table.join('\n'));
      assert.ok(table.includes(`${name.padEnd(8)} /proc no  --libc host   fails`), table.join('\n'));
    }
  },
);

test(
  'a --chroot host gets /proc: both libc modes are predicted to run, are deployed, and compat says the ' +
    'prediction agrees',
  { skip, timeout: 900_000 },
  async () => {
    let ts: TestServer | undefined;
    try {
      ts = await startTestServer(join(work, 'server'));
      const control = ts.server.controlAddress;
      const chrootRoot = join(work, 'bookworm-root');
      const bookworm = await ensureRoot('bookworm');
      // Not the device nodes in its /dev: the chroot transport mounts this machine's /dev there.
      cpSync(bookworm, chrootRoot, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (source) => !source.startsWith(`${bookworm}/dev/`),
      });
      const added = await cli(['hosts', 'add', 'staging-bookworm', '--chroot', chrootRoot, '--control', control]);
      assert.equal(added.status, 0, added.output);
      for (const libc of MODES) {
        const deployed = await cli([
          'deploy',
          archives.get(libc)!,
          '--host',
          'staging-bookworm',
          '--json',
          '--control',
          control,
        ]);
        const [result] = JSON.parse(deployed.stdout) as HostDeployResult[];
        assert.equal(result?.status, 'verified', `--libc ${libc}: ${result?.reason}\n${deployed.output}`);
        assert.equal(result.check?.smokeExit, 0);
        const compat = await cli(['compat', `proc-${libc}-libc`, '--json', '--control', control]);
        const host = (JSON.parse(compat.stdout) as CompatResponse).hosts.find(
          (h) => h.host?.name === 'staging-bookworm',
        );
        assert.equal(host?.verdict, 'runs', compat.output);
        assert.equal(host.predictionAgrees, true, `--libc ${libc}: the prediction equals the smoke run's verdict`);
      }
    } finally {
      await ts?.server.stop(500);
    }
  },
);
