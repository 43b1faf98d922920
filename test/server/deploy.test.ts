// deploy/*.service pass `systemd-analyze verify`, with ExecStart pointed at this checkout's CLI
// (verify insists that the program exists).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'deploy', 'pyrelo-server.service'))) return dir;
  }
  throw new Error('deploy/ not found above the compiled test');
}
const REPO = repoRoot();
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');

for (const unit of ['pyrelo-server.service', 'pyrelo-agent.service']) {
  test(`systemd-analyze verify ${unit}`, async (t) => {
    const which = await execa('systemd-analyze', ['--version'], { reject: false });
    if (which.exitCode !== 0) {
      t.skip('systemd-analyze is not installed');
      return;
    }
    const work = mkdtempSync(join(tmpdir(), 'pyrelo-units-'));
    try {
      const launcher = join(work, 'pyrelo');
      writeFileSync(launcher, `#!/bin/sh\nexec ${process.execPath} ${MAIN} "$@"\n`);
      chmodSync(launcher, 0o755);
      const text = readFileSync(join(REPO, 'deploy', unit), 'utf8').replaceAll('/usr/local/bin/pyrelo', launcher);
      writeFileSync(join(work, unit), text);
      const result = await execa('systemd-analyze', ['verify', '--man=no', join(work, unit)], {
        reject: false,
        all: true,
      });
      const complaints = (result.all ?? '')
        .split('\n')
        .filter((l) => l.includes(unit) || /error|invalid|unknown/i.test(l));
      assert.equal(result.exitCode, 0, result.all);
      assert.deepEqual(complaints, [], result.all);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
