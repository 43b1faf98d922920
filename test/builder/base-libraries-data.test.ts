// data/base-libraries.json decides what the zig base downloads and which hashes the downloads must
// have: the shipped file reads, and a damaged copy is refused naming the file and the entry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIBRARY_NAMES, loadBaseLibraries } from '../../src/builder/base-libraries-data.js';
import { dataFile } from '../../src/common/package-files.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

test('the shipped data file pins zig for x86_64 and one Debian source per library', () => {
  const data = loadBaseLibraries();
  assert.deepEqual(
    data.libraries.map((l) => l.name),
    [...LIBRARY_NAMES],
  );
  assert.match(data.zig.wheels.x86_64?.sha256 ?? '', /^[0-9a-f]{64}$/);
  for (const l of data.libraries) assert.ok(l.orig.startsWith(`${l.package}_`), l.orig);
});

test('a damaged data file is refused, naming the file and the entry', async () => {
  const dir = await makeTempDir('pyrelo-base-libraries-');
  try {
    const good = JSON.parse(readFileSync(dataFile('base-libraries.json'), 'utf8')) as {
      libraries: Array<Record<string, unknown>>;
      zig: { wheels: Record<string, Record<string, unknown>> };
    };
    const cases: Array<[string, (d: typeof good) => void, RegExp]> = [
      ['a short hash', (d) => (d.libraries[8]!.origSha256 = 'abc'), /libraries\[8\]\.origSha256: expected a string/],
      ['a path out of the pool', (d) => (d.libraries[0]!.directory = '../etc'), /libraries\[0\]\.directory/],
      ['an .orig of another package', (d) => (d.libraries[1]!.orig = 'zlib_1.orig.tar.gz'), /libraries\[1\]\.orig/],
      ['libraries out of order', (d) => d.libraries.reverse(), /libraries\[0\]\.name: expected zlib/],
      ['a wheel hash', (d) => (d.zig.wheels.x86_64!.sha256 = 'x'), /zig\.wheels\.x86_64\.sha256/],
    ];
    for (const [what, damage, message] of cases) {
      const copy = structuredClone(good);
      damage(copy);
      const path = join(dir, 'base-libraries.json');
      writeFileSync(path, JSON.stringify(copy));
      assert.throws(
        () => loadBaseLibraries(path),
        (e: Error) => e.message.startsWith(`${path}: `) && message.test(e.message),
        what,
      );
    }
  } finally {
    await removeDir(dir);
  }
});
