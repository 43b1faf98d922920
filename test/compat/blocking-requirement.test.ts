// The requirement compat groups failing hosts by (README "pyrelo compat"): for missing symbol
// versions, the highest of the family among the result's errors, whichever the loader met first;
// other first errors by what they ask of the host; a failed smoke run when nothing failed to load.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockingRequirement } from '../../src/compat/blocking-requirement.js';
import type { CheckResult, ProblemMessage } from '../../src/proto/messages.js';

const problem = (p: Partial<ProblemMessage> & Pick<ProblemMessage, 'kind' | 'message'>): ProblemMessage => ({
  severity: 'error',
  file: 'bin/python3',
  object: '',
  requiredBy: '',
  library: '',
  version: '',
  symbol: '',
  ...p,
});

const missingVersion = (version: string): ProblemMessage =>
  problem({
    kind: 'missing-version',
    object: '/lib/x86_64-linux-gnu/libc.so.6',
    version,
    message: `/lib/x86_64-linux-gnu/libc.so.6: version \`${version}' not found (required by bin/python3)`,
  });

const result = (problems: ProblemMessage[], smoke: { ran: boolean; exit: number } = { ran: false, exit: 0 }) =>
  ({ problems, smokeRan: smoke.ran, smokeExit: smoke.exit }) as CheckResult;

test('a glibc floor is the highest missing version of its family, not the first met', () => {
  const r = result([
    missingVersion('GLIBC_2.32'),
    problem({ kind: 'missing-version', version: 'GLIBCXX_3.4.30', message: 'libstdc++: GLIBCXX_3.4.30' }),
    missingVersion('GLIBC_2.34'),
    missingVersion('GLIBC_2.33'),
  ]);
  assert.deepEqual(blockingRequirement(r), { requirement: 'GLIBC_2.34', kind: 'missing-version' });
});

test('other first errors by what they ask of the host; warnings never decide; a failed smoke run last', () => {
  const warning = problem({ kind: 'weak-version', severity: 'warning', message: 'weak', version: 'GLIBC_2.99' });
  const library = problem({
    kind: 'missing-library',
    library: 'libssl.so.3',
    message: 'libssl.so.3: cannot open shared object file: No such file or directory',
  });
  assert.deepEqual(blockingRequirement(result([warning, library])), {
    requirement: 'libssl.so.3',
    kind: 'missing-library',
  });
  const kernel = problem({
    kind: 'kernel-too-old',
    message: 'libc.so.6: built for kernel 3.2.0 or newer, host runs 2.6.32 (FATAL: kernel too old)',
  });
  assert.equal(blockingRequirement(result([kernel]))?.requirement, 'kernel 3.2.0');
  assert.deepEqual(blockingRequirement(result([warning], { ran: true, exit: 3 })), {
    requirement: 'a smoke run that passes (exit 3)',
    kind: 'smoke',
  });
  assert.equal(blockingRequirement(result([warning], { ran: true, exit: 0 })), null);
});
