// The deploy policy both routes follow (release/deploy-policy.ts): the errors a person is shown,
// the refusal's exact words, and the deployment record. The routes themselves are tested end to
// end in test/deploy/lab-deploy.test.ts (over SSH) and test/server/service.test.ts (through an agent).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deploymentRecord, firstErrors, refusalReason } from '../../src/release/deploy-policy.js';
import type { CheckResult, ProblemMessage } from '../../src/proto/messages.js';

const problem = (severity: string, message: string): ProblemMessage => ({
  kind: 'missing-library',
  severity,
  message,
  file: '',
  object: '',
  requiredBy: '',
  library: '',
  version: '',
  symbol: '',
});

const prediction = (loads: boolean, problems: ProblemMessage[]): CheckResult => ({
  bundleDigest: 'a'.repeat(64),
  host: 'h',
  kind: 'predicted',
  runs: loads,
  loads,
  problems,
  filesChecked: 1,
  glibcFloor: '',
  smokeRan: false,
  smokeExit: 0,
  smokeOutput: '',
  checkedAt: '',
  inventorySha256: '',
});

const fourErrors = prediction(false, [
  problem('warning', 'w1'),
  problem('error', 'e1'),
  problem('error', 'e2'),
  problem('warning', 'w2'),
  problem('error', 'e3'),
  problem('error', 'e4'),
]);

test('the errors shown are the first three errors, in order, warnings left out', () => {
  assert.deepEqual(firstErrors(fourErrors), ['e1', 'e2', 'e3']);
  assert.deepEqual(firstErrors(prediction(true, [problem('warning', 'w')])), []);
});

test(
  'a prediction that will not run refuses the deploy in ' +
    'these words, unless --force; no prediction refuses nothing',
  () => {
    assert.equal(refusalReason(fourErrors, false), 'predicted not to run: e1; e2; e3 (--force deploys anyway)');
    assert.equal(refusalReason(fourErrors, true), null);
    assert.equal(refusalReason(prediction(true, []), false), null);
    assert.equal(refusalReason(null, false), null);
  },
);

test('the deployment record names the release by the bundle and is finished now', () => {
  const before = new Date().toISOString();
  const record = deploymentRecord({
    host: 'web-1',
    bundle: { digest: 'b'.repeat(64), name: 'app' },
    prefix: '/opt/app',
    status: 'refused',
    reason: 'why',
    bytesSent: 0,
    startedAt: '2026-01-01T00:00:00.000Z',
  });
  const { finishedAt, ...rest } = record;
  assert.deepEqual(rest, {
    host: 'web-1',
    bundleDigest: 'b'.repeat(64),
    bundleName: 'app',
    release: `app-${'b'.repeat(12)}`,
    prefix: '/opt/app',
    status: 'refused',
    reason: 'why',
    bytesSent: 0,
    startedAt: '2026-01-01T00:00:00.000Z',
  });
  assert.ok(finishedAt >= before, `${finishedAt} is not after ${before}`);
});
