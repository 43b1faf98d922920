// A bundle for another machine is refused before transfer (issue 20, "Wrong machine"): an x86_64
// bundle made here by `pyrelo build` (yamlsmoke, --libc bundle, so that nothing of the host's libc
// is needed), deployed with `pyrelo deploy` to a copy of the bookworm-arm64 root reached by
// --chroot. The agent takes the inventory there (an aarch64 host: its loader is
// ld-linux-aarch64.so.1), the prediction says the bundle's interpreter is a program the kernel
// does not execute, in the kernel's words, and nothing of the bundle reaches the host.
//
// Why a prediction and not a run: under this lab the x86_64 kernel runs x86_64 programs natively
// even inside the arm64 root (the bundle's own loader would start), so only the prediction can
// say what a real aarch64 kernel does (test/loader/foreign-machine.test.ts shows the words). The
// agent itself is this machine's x86_64 pack, which runs in the root for the same reason; on a
// real aarch64 host it takes an aarch64 agent (issue 20, "The agent": not done yet).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRoot, labSkipReason } from '../lab/lab.js';
import type { HostDeployResult } from '../../src/client/deploy/deploy-host.js';
import type { CompatResponse } from '../../src/proto/messages.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';
import { APP, ENTRY, buildSkipReason } from '../builder/shared-build.js';
import { BASE_PYTHON, ensureWheelhouse } from '../builder/wheelhouse.js';
import { pyreloCli, type CliRun } from './pyrelo-cli.js';

const skip = labSkipReason(['debootstrap', 'arm64']) ?? buildSkipReason();
const NAME = 'x86-only';

let work: string;
let archive: string;

const cli = (args: string[]): Promise<CliRun> => pyreloCli(args);

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-wrong-machine-'));
  archive = join(work, `${NAME}.tar.gz`);
  const { status, output } = await cli([
    'build',
    APP,
    '--python',
    BASE_PYTHON,
    '--wheelhouse',
    await ensureWheelhouse(),
    '--libc',
    'bundle',
    '--entry',
    ENTRY,
    '--smoke',
    'bin/smoke',
    '--prompt',
    NAME,
    '-o',
    archive,
  ]);
  assert.equal(status, 0, `pyrelo build failed:\n${output}`);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  "an x86_64 bundle deployed to an arm64 host is refused before transfer, in the kernel's words",
  { skip, timeout: 900_000 },
  async (t) => {
    let ts: TestServer | undefined;
    try {
      ts = await startTestServer(join(work, 'server'));
      const control = ts.server.controlAddress;
      const arm = await ensureRoot('bookworm-arm64');
      const chrootRoot = join(work, 'arm64-root');
      // Not the device nodes in its /dev: the chroot transport mounts this machine's /dev there.
      cpSync(arm, chrootRoot, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (source) => !source.startsWith(`${arm}/dev/`),
      });
      const added = await cli(['hosts', 'add', 'staging-arm64', '--chroot', chrootRoot, '--control', control]);
      assert.equal(added.status, 0, added.output);
      const deployed = await cli(['deploy', archive, '--host', 'staging-arm64', '--json', '--control', control]);
      assert.equal(deployed.status, 1, deployed.output);
      const [result] = JSON.parse(deployed.stdout) as HostDeployResult[];
      assert.equal(result?.status, 'refused', `${result?.reason}\n${deployed.output}`);
      t.diagnostic(`${result.reason} (sent: ${result.bytesSent} bytes, the agent)`);
      assert.match(
        result.reason,
        /^predicted not to run: libexec\/python3\.\d+: Exec format error \(a program for x86_64: the kernel of this aarch64 host does not execute it\)/,
      );
      assert.match(result.reason, /\(--force deploys anyway\)$/);
      assert.equal(result.predicted?.loads, false);
      // Refused before anything of the bundle was sent: no transfer, no prefix on the host.
      assert.equal(result.resumedFrom, null);
      assert.equal(result.transferredFiles, null);
      assert.equal(existsSync(join(chrootRoot, 'opt/pyrelo', NAME)), false, 'the bundle reached the host');
      const compat = await cli(['compat', NAME, '--json', '--control', control]);
      const host = (JSON.parse(compat.stdout) as CompatResponse).hosts.find((h) => h.host?.name === 'staging-arm64');
      assert.equal(host?.verdict, 'fails', compat.output);
    } finally {
      await ts?.server.stop(500);
    }
  },
);
