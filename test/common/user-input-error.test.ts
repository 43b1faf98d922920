// One base for every bad-input error (src/common/user-input-error.ts): the CLI and the agent report
// any of them in one line with exit status 2 by one instanceof. Each subclass keeps the message it
// had (`INPUT: DETAIL`, or its own wording), its name, and input/detail say what was bad.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isUserInputError, UserInputError } from '../../src/common/user-input-error.js';
import { BundleError } from '../../src/bundle/errors.js';
import { ElfFormatError } from '../../src/elf/errors.js';
import { InputError } from '../../src/elf/find-elf-files.js';
import { InventoryFormatError } from '../../src/inventory/read.js';
import { SshSpecError } from '../../src/remote/ssh/ssh-config.js';
import { UploadInterruptedError } from '../../src/remote/transport.js';
import { BuildInputError } from '../../src/builder/errors.js';

test('bad-input errors share one base, and keep their messages, names and fields', () => {
  const cases: Array<[Error, string, string, string, string]> = [
    [
      new BundleError('app.tar.gz', 'not an archive'),
      'BundleError',
      'app.tar.gz: not an archive',
      'app.tar.gz',
      'not an archive',
    ],
    [
      new BundleError('app.tar.gz', 'unsafe path', '../x'),
      'BundleError',
      'app.tar.gz: ../x: unsafe path',
      'app.tar.gz',
      'unsafe path',
    ],
    [
      new ElfFormatError('/lib/x.so', 'e_phoff', 'out-of-range', 'past the end'),
      'ElfFormatError',
      '/lib/x.so: e_phoff: past the end',
      '/lib/x.so',
      'past the end',
    ],
    [
      new InventoryFormatError('inv.json', 'format', 'expected "pyrelo-inventory/1"'),
      'InventoryFormatError',
      'inv.json: format: expected "pyrelo-inventory/1"',
      'inv.json',
      'expected "pyrelo-inventory/1"',
    ],
    [new InputError('/nothere', 'no such file'), 'InputError', '/nothere: no such file', '/nothere', 'no such file'],
    [
      new SshSpecError('a b', 'holds a space'),
      'SshSpecError',
      'ssh target "a b": holds a space',
      'ssh target "a b"',
      'holds a space',
    ],
    [
      new BuildInputError('--min-glibc x', 'expected a glibc version'),
      'BuildInputError',
      '--min-glibc x: expected a glibc version',
      '--min-glibc x',
      'expected a glibc version',
    ],
  ];
  for (const [error, name, message, input, detail] of cases) {
    assert.ok(error instanceof UserInputError, name);
    assert.equal(isUserInputError(error), true, name);
    assert.equal(error.name, name);
    assert.equal(error.message, message);
    assert.equal((error as UserInputError).input, input);
    assert.equal((error as UserInputError).detail, detail);
  }
  // A subclass of a subclass (an upload cut off) is one too.
  assert.equal(isUserInputError(new UploadInterruptedError('host', 'cut', '/opt/app/x.tar', 10, 20)), true);
});

test('a filesystem error naming a path counts as bad input; other errors do not', () => {
  let missing: unknown;
  try {
    readFileSync('/nonexistent/pyrelo-input');
  } catch (error) {
    missing = error;
  }
  assert.equal(isUserInputError(missing), true, 'ENOENT');
  assert.equal(isUserInputError(new Error('a bug')), false);
  assert.equal(isUserInputError(new TypeError('x is undefined')), false);
  assert.equal(isUserInputError(Object.assign(new Error('busy'), { code: 'EBUSY' })), false);
  assert.equal(isUserInputError('a string'), false);
  assert.equal(isUserInputError(null), false);
});
