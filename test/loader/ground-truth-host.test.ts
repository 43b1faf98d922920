// Every ELF under /usr/lib and /usr/bin of this machine: pyrelo's prediction must equal what the
// real loader does with it (objects, paths, order, fatal errors, missing versions, "no version
// information", undefined symbols, the verdict), files without DT_NEEDED included.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeGroundTruth, groundTruth } from '../support/ground-truth.js';

test('pyrelo check agrees with ld.so on every ELF under /usr/lib and /usr/bin', { timeout: 15 * 60_000 }, async (t) => {
  const result = await groundTruth('/', ['/usr/lib', '/usr/bin']);
  t.diagnostic(describeGroundTruth(result, 0));
  // A run that compared nothing would prove nothing.
  assert.ok(result.files > 500, `only ${result.files} ELF files found`);
  assert.ok(result.traces.filter((tr) => tr.objects.length > 0).length > 300, 'the real loader listed objects for too few files');
  // Files without DT_NEEDED (ld.so's own loader among them) are compared in full, not skipped.
  assert.ok(result.noNeeded > 0, 'no file without DT_NEEDED was traced');
  assert.equal(result.disagreements.length, 0, describeGroundTruth(result));
});
