// The reference platforms' worker (src/server/reference-predictions.ts) is bounded like the
// server's other workers: a deadline, a retry after a failure instead of a failure kept for the
// server's life, and the server's stop ends a running worker. Real worker threads on a real bundle.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferencePredictions, DEFAULT_REFERENCE_LIMITS } from '../../src/server/reference-predictions.js';
import { fixtureRoot, makeBundle } from './fixtures.js';

let work: string;
let bundle: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-reference-'));
  await makeBundle(work, 'tiny-host', 'host-libc');
  bundle = fixtureRoot(work, 'tiny-host');
});

after(() => rmSync(work, { recursive: true, force: true }));

test('a worker over its deadline is ended, and the failure is kept only until the retry time', async () => {
  let clock = 1_000_000;
  // A deadline no worker can meet: loading its modules alone takes longer than a millisecond.
  const references = new ReferencePredictions(
    { ...DEFAULT_REFERENCE_LIMITS, seconds: 0.001, retrySeconds: 60 },
    () => clock,
  );
  const first = references.forBundle('a'.repeat(64), bundle);
  await assert.rejects(first, /reference predictions of aaaaaaaaaaaa: no answer within 0\.001 s/);
  // Asked again at once: the same failure, no new worker.
  assert.equal(references.forBundle('a'.repeat(64), bundle), first);
  clock += 61_000;
  const again = references.forBundle('a'.repeat(64), bundle);
  assert.notEqual(again, first, 'tried again after the retry time');
  await assert.rejects(again, /no answer within/);
  await references.close();
});

test('with the default limits the verdicts come, and are kept', async () => {
  const references = new ReferencePredictions();
  const verdicts = await references.forBundle('b'.repeat(64), bundle);
  assert.ok(verdicts.length >= 20, `${verdicts.length} platforms`);
  assert.ok(verdicts.some((v) => v.platform === 'debian:12'));
  assert.equal(references.forBundle('b'.repeat(64), bundle), references.forBundle('b'.repeat(64), bundle));
  await references.close();
});

test("the server's stop ends a running worker and starts no other", async () => {
  const references = new ReferencePredictions();
  const running = references.forBundle('c'.repeat(64), bundle);
  const queued = references.forBundle('d'.repeat(64), bundle);
  await new Promise(setImmediate); // the first worker is started (the queue runs on a microtask)
  await references.close();
  await assert.rejects(running, /reference predictions of cccccccccccc: worker exited/);
  await assert.rejects(queued, /the server is stopping/);
  await assert.rejects(references.forBundle('e'.repeat(64), bundle), /the server is stopping/);
});
