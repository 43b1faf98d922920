// Turns at the write lock (src/server/write-turns.ts) between two real threads: the intake worker
// (here the test's thread) holds its turn while the writer thread asks for one; when the intake
// gives its turn back and at once asks for the next (as it does between an inventory's short
// transactions), the waiting writer goes first. Ordered by shared memory, not by timing: the test
// gives its turn back only once the writer is seen waiting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { WriteTurns } from '../../src/server/write-turns.js';

const WRITER = 1;
const INTAKE = 2;

/** A thread that takes the writer's turn, records it in `order`, and gives it back. */
const writerThread = `
  const { workerData } = require('node:worker_threads');
  import(workerData.module).then(({ WriteTurns }) => {
    const turns = new WriteTurns(workerData.turns);
    turns.during('writer', () => {
      const at = Atomics.add(workerData.order, 0, 1);
      Atomics.store(workerData.order, 1 + at, ${WRITER});
    });
  });`;

test('a writer waiting for its turn goes before the intake asks again', async () => {
  const turns = new WriteTurns();
  const order = new Int32Array(new SharedArrayBuffer(16));
  turns.take('intake');
  const worker = new Worker(writerThread, {
    eval: true,
    workerData: {
      module: new URL('../../src/server/write-turns.js', import.meta.url).href,
      turns: turns.buffer,
      order,
    },
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  // The writer asks while the intake holds the turn: it waits.
  while (turns.writersWaiting === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(Atomics.load(order, 0), 0, 'the writer waits while the intake holds its turn');
  assert.equal(turns.holder, 'intake');
  // The intake's transaction ends and it asks for its next turn at once.
  turns.give();
  turns.during('intake', () => {
    const at = Atomics.add(order, 0, 1);
    Atomics.store(order, 1 + at, INTAKE);
  });
  assert.equal(await exited, 0);
  assert.deepEqual([...order.slice(1, 3)], [WRITER, INTAKE], 'the waiting writer went first');
  assert.equal(turns.holder, null);
});

test('a thread ended while it held its turn gives it back (release)', () => {
  const turns = new WriteTurns();
  turns.take('intake');
  turns.release('writer'); // not the writer's: nothing changes
  assert.equal(turns.holder, 'intake');
  turns.release('intake');
  assert.equal(turns.holder, null);
  turns.during('writer', () => assert.equal(turns.holder, 'writer'));
});
