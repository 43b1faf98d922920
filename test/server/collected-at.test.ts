// When an inventory was collected, as untrusted text from an agent's hello or an inventory file
// (src/server/collected-at.ts): kept only when it is a time that is not ahead of the server's
// clock by more than a day, else unknown ('').

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectionTime } from '../../src/server/collected-at.js';

test('a collection time is kept only when it is a time, and not one ahead', () => {
  const now = Date.parse('2026-12-06T03:00:00Z');
  assert.equal(collectionTime('2026-12-01T10:00:00+02:00', now), '2026-12-01T08:00:00.000Z');
  assert.equal(collectionTime('2026-12-06T20:00:00Z', now), '2026-12-06T20:00:00.000Z', 'clocks differ a little');
  for (const bad of ['2999-01-01T00:00:00Z', 'yesterday', 'Tue, 01 Dec 2026 10:00:00 GMT', '2026-13-45', '', 42, null])
    assert.equal(collectionTime(bad, now), '', JSON.stringify(bad));
  assert.equal(collectionTime(`2026-12-01T10:00:00Z${' '.repeat(40)}`, now), '', 'longer than any time');
});
