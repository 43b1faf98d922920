// An agent's order runs off its event loop (src/agent/order-worker.ts). In the corpus service test
// the busybox agent was dropped by the server ("agent site-busybox disconnected before answering
// order"): unpacking and hashing the 235 MB corpus bundle held the daemon's event loop for 12 s,
// past the 10 s the server waits for a keepalive ping's answer. This replays the cause cheaply,
// without timing anything: while an order unpacks a bundle of many files, the daemon's thread
// keeps getting turns, so it sees the half-written unpack folder (`<digest>.tmp-…`). Unpacked on the
// daemon's own thread, that folder is made, filled, checked and renamed within one turn and no
// turn ever sees it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { carryOutInWorker } from '../../src/agent/order-worker.js';
import { fixtureRoot, makeBundle } from '../server/fixtures.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

const FILES = 400;
const DIGEST = 'a'.repeat(64);

test('a check order unpacks, checks and smoke-runs its bundle off the daemon event loop', async () => {
  const work = await makeTempDir('pyrelo-order-off-loop-');
  try {
    // Many files, so that unpacking and hashing them is many turns' worth of work.
    const data = join(fixtureRoot(work, 'offloop'), 'share', 'data');
    mkdirSync(data, { recursive: true });
    for (let i = 0; i < FILES; i++) writeFileSync(join(data, `f${i}.bin`), randomBytes(16 * 1024));
    const archive = await makeBundle(work, 'offloop', 'host-libc');
    const bundlesDir = join(work, 'bundles');
    mkdirSync(bundlesDir);

    let turns = 0;
    let turnsSeeingTheUnpack = 0;
    let done = false;
    const watch = (): void => {
      if (done) return;
      turns += 1;
      if (readdirSync(bundlesDir).some((name) => name.startsWith(`${DIGEST}.tmp-`))) turnsSeeingTheUnpack += 1;
      setImmediate(watch);
    };
    setImmediate(watch);
    const outcome = await carryOutInWorker({ action: 'check', archive, bundlesDir, digest: DIGEST, host: 'h' }).finally(
      () => (done = true),
    );

    assert.equal(outcome.check.runs, true, JSON.stringify(outcome.check));
    assert.equal(outcome.check.smokeExit, 0);
    assert.deepEqual(readdirSync(bundlesDir), [DIGEST], 'only the finished unpack is left');
    assert.ok(
      turnsSeeingTheUnpack > 0,
      `the daemon's thread got ${turns} turns, none while the bundle was being unpacked: ` +
        'the order ran on its event loop',
    );
  } finally {
    await removeDir(work);
  }
});

test('an order that fails in its worker rejects with the failure in its own words', async () => {
  const work = await makeTempDir('pyrelo-order-off-loop-');
  try {
    const archive = join(work, 'missing.tar.gz');
    await assert.rejects(
      carryOutInWorker({ action: 'check', archive, bundlesDir: work, digest: DIGEST, host: 'h' }),
      (error: Error) => error.message.includes(archive),
    );
  } finally {
    await removeDir(work);
  }
});
