// `pyrelo agent release install` killed with SIGKILL at moments spread over the whole install
// (start-up, lock, checksum, extraction, verification, rename, state, switch, smoke, pruning): after
// every kill `current` names the old or the new release and that release verifies completely; the
// next install cleans up what the killed one left; a final install finishes, reusing what is there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCurrent } from '../../src/release/current.js';
import { ReleaseLayout } from '../../src/release/layout.js';
import { checkReleaseIntegrity } from '../../src/release/integrity.js';
import type { ReleaseInstallResult, ReleaseListing } from '../../src/release/types.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { fakeBundle, installArgs, MAIN, release, upload, type FakeBundle } from './fixtures.js';

const KILLS = 24;

/** Some weight, so that extraction and verification take a measurable part of the install. */
function payload(): Record<string, Buffer> {
  const files: Record<string, Buffer> = { 'lib/big.bin': randomBytes(4 * 1024 * 1024) };
  for (let i = 0; i < 300; i += 1) files[`lib/python3.11/pkg${i % 10}/mod${i}.py`] = randomBytes(2000);
  return files;
}

/** Runs an install as a child process; kills it with SIGKILL after `killAfterMs` (null: never). */
function runInstall(
  args: readonly string[],
  killAfterMs: number | null,
): Promise<{ killed: boolean; exitCode: number | null; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('node', [MAIN, 'agent', 'release', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let finished = false;
    const timer =
      killAfterMs === null
        ? null
        : setTimeout(() => {
            if (!finished) child.kill('SIGKILL');
          }, killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      finished = true;
      if (timer !== null) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', exitCode: code, ms: Date.now() - started });
    });
  });
}

/** How far past the timed install's length the kills are spread (see the loop). */
const SPAN_MARGIN = 1.35;

function assertConsistent(layout: ReleaseLayout, allowed: readonly FakeBundle[], what: string): FakeBundle {
  const id = readCurrent(layout);
  const bundle = allowed.find((b) => b.id === id);
  assert.ok(bundle !== undefined, `${what}: current is ${id}, expected one of ${allowed.map((b) => b.id).join(', ')}`);
  const verification = checkReleaseIntegrity(layout, bundle.id, bundle.manifestSha256);
  assert.deepEqual(verification.problems, [], `${what}: ${bundle.id} verifies`);
  return bundle;
}

test('release install killed with SIGKILL at any moment leaves current on a complete old or new release', async (t) => {
  const work = await makeTempDir();
  try {
    const prefix = join(work, 'opt', 'app');
    const layout = new ReleaseLayout(prefix);
    const bundlesDir = join(work, 'bundles');
    mkdirSync(bundlesDir);
    const files = payload();
    const make = (version: string): Promise<FakeBundle> => fakeBundle(bundlesDir, { version, files, smokeSleep: 0.2 });

    let old = await make('0');
    const first = await runInstall(installArgs(prefix, old, upload(prefix, old.archive)), null);
    assert.equal(first.exitCode, 0);
    // How long a whole install takes here, to spread the kills over it.
    const timed = await make('timing');
    const timing = await runInstall(installArgs(prefix, timed, upload(prefix, timed.archive)), null);
    assert.equal(timing.exitCode, 0);
    old = timed;
    let span = timing.ms;

    let oldKept = 0;
    let newTaken = 0;
    let killedRunning = 0;
    let next = await make('1');
    // Installs run slower or faster with the machine's load: count only the kills that landed
    // while the install ran, and keep going (up to a limit) until there are KILLS of them.
    for (let i = 0; killedRunning < KILLS && i < KILLS * 5; i += 1) {
      // Spread evenly over the span, with jitter, so every phase is hit in some runs; over a third
      // more than the timed span, because an install may run slower than the timed one did (load),
      // and then kills spread over the timed span alone all land before the switch (CI saw 0 of 24
      // after it). A delay past the install's end kills nothing and is not counted.
      const delay = Math.round(((killedRunning + Math.random()) / KILLS) * span * SPAN_MARGIN);
      const archive = existsSync(join(prefix, 'releases', next.id)) ? undefined : upload(prefix, next.archive);
      const run = await runInstall(installArgs(prefix, next, archive), delay);
      if (run.killed) killedRunning += 1;
      else span = Math.min(span, run.ms); // it got faster: aim inside the shorter install
      const now = assertConsistent(
        layout,
        [old, next],
        `kill ${i} after ${delay} ms (${run.killed ? 'killed' : `exited ${run.exitCode}`})`,
      );
      if (now === old) oldKept += 1;
      else {
        newTaken += 1;
        old = next;
        next = await make(String(i + 2));
      }
    }
    t.diagnostic(
      `install takes ${timing.ms} ms; ${killedRunning} kills while running; old release kept ${oldKept} times, ` +
        `new one taken ${newTaken} times`,
    );
    assert.ok(killedRunning >= 20, `at least 20 kills landed while the install ran (${killedRunning})`);
    assert.ok(
      oldKept > 0 && newTaken > 0,
      `kills before and after the switch (old kept ${oldKept}, new taken ${newTaken})`,
    );

    // The last bundle installed to the end: whatever the kills left is reused or cleaned up.
    const there = existsSync(join(prefix, 'releases', next.id));
    const archive = there ? undefined : upload(prefix, next.archive);
    const final = await release(installArgs(prefix, next, archive));
    assert.equal(final.exitCode, 0, final.stderr);
    const result = final.json as ReleaseInstallResult;
    assert.equal(result.status, 'verified');
    assert.equal(result.current, next.id);
    assert.equal(result.reused, there);
    assertConsistent(layout, [next], 'final install');
    const listing = (await release(['list', '--prefix', prefix, '--json'])).json as ReleaseListing;
    assert.deepEqual(listing.leftovers, [], 'nothing left of the killed installs');
    assert.ok(listing.releases.length <= 3);
    assert.equal(existsSync(layout.lock), false);
  } finally {
    await removeDir(work);
  }
});
