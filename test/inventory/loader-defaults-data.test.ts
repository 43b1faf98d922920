// data/loader-defaults.json is validated when read: the shipped file passes, and each kind of
// damage is refused with the file and the field named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataFile } from '../../src/common/package-files.js';
import { loaderDefaultsData, validateLoaderDefaults } from '../../src/inventory/loader-defaults-data.js';

test('data/loader-defaults.json: the shipped file is valid; damaged copies are refused naming the field', () => {
  const data = loaderDefaultsData();
  assert.equal(data.machines['x86_64']?.interpreter, '/lib64/ld-linux-x86-64.so.2');
  assert.equal(data.distros['ubuntu'], 'debian');
  const file = dataFile('loader-defaults.json');
  const shipped = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const damaged = (change: (copy: typeof shipped) => void): unknown => {
    const copy = structuredClone(shipped);
    change(copy);
    return copy;
  };
  const cases: Array<[unknown, RegExp]> = [
    [[], /: \(top level\): not a JSON object/],
    [
      damaged((c) => {
        delete c.machines;
      }),
      /: machines: not an object/,
    ],
    [
      damaged((c) => {
        (c.machines!.x86_64 as Record<string, unknown>).interpreter = 'lib64/ld.so';
      }),
      /: machines\.x86_64\.interpreter: expected an absolute path/,
    ],
    [
      damaged((c) => {
        (c.layouts!.debian as Record<string, unknown>).systemDirs = ['/usr/lib'];
      }),
      /: layouts\.debian\.systemDirs\[0\]: ends with "\/"/,
    ],
    [
      damaged((c) => {
        delete c.layouts!.upstream;
        c.distros = { rhel: 'debian' };
      }),
      /: layouts\.upstream: missing/,
    ],
    [
      damaged((c) => {
        c.distros!.kylin = 'kylin-layout';
      }),
      /: distros\.kylin: names no layout: "kylin-layout"/,
    ],
  ];
  for (const [value, expected] of cases) {
    assert.throws(
      () => validateLoaderDefaults(value, file),
      (e: Error) => e.message.startsWith(`${file}: `) && expected.test(e.message),
      String(expected),
    );
  }
});
