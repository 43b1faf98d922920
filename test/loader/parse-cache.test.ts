// The persistent cache (src/loader/parse-cache.ts, remembered-check.ts) as `pyrelo check` uses it:
// a library replaced between two checks is read again, whatever of its key changed; a library
// appearing earlier in a search path is found; a cache that cannot be used costs one warning and
// changes no answer; --no-cache leaves no file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { PARSE_CACHE_SCHEMA } from '../../src/loader/parse-cache.js';

const cli = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const CACHE_FILE = `loader-facts-v${PARSE_CACHE_SCHEMA}.sqlite`;

interface Checked {
  readonly exitCode: number;
  readonly stderr: string;
  readonly loads: boolean;
  readonly problems: readonly string[];
  /** Where each object was found. */
  readonly paths: readonly (string | null)[];
}

async function check(cacheDir: string, file: string, ...flags: string[]): Promise<Checked> {
  const r = await execa('node', [cli, 'check', '--json', ...flags, file], {
    reject: false,
    env: { PYRELO_CACHE: cacheDir },
  });
  const report = (
    JSON.parse(r.stdout) as {
      files: { loads: boolean; problems: { message: string }[]; objects: { path: string | null }[] }[];
    }
  ).files[0]!;
  return {
    exitCode: r.exitCode ?? -1,
    stderr: r.stderr,
    loads: report.loads,
    problems: report.problems.map((p) => p.message),
    paths: report.objects.map((o) => o.path),
  };
}

/**
 * A program that calls dep_function() from lib/libdep.so, found through its RUNPATH (first/ is
 * searched first, empty).
 */
async function programAndLibrary(dir: string): Promise<{ prog: string; lib: string }> {
  const lib = await compileSharedLibrary({
    dir,
    file: 'lib/libdep.so',
    soname: 'libdep.so',
    source: 'int dep_function(void) { return 7; }\n',
  });
  const prog = await compileExecutable({
    dir,
    file: 'bin/prog',
    source: 'extern int dep_function(void);\nint main(void) { return dep_function() == 7 ? 0 : 1; }\n',
    needed: [lib],
    runpath: '$ORIGIN/../first:$ORIGIN/../lib',
  });
  return { prog, lib };
}

/** The library's bytes with dep_function renamed to a name of the same length: same size, no such symbol. */
function withoutDepFunction(bytes: Buffer): Buffer {
  const from = Buffer.from('dep_function\0');
  const to = Buffer.from('dep_functioX\0');
  const out = Buffer.from(bytes);
  let at = out.indexOf(from);
  assert.ok(at >= 0, 'the library names dep_function');
  for (; at >= 0; at = out.indexOf(from, at + 1)) to.copy(out, at);
  return out;
}

/** Old timestamps, so the cache stores the files (it skips files written in the last seconds). */
const T1 = new Date('2020-01-01T00:00:00Z');
const T2 = new Date('2020-01-02T00:00:00Z');

function rowsFor(cacheDir: string, path: string): number {
  const db = new Database(join(cacheDir, CACHE_FILE), { readonly: true });
  try {
    const { ino } = statSync(path, { bigint: true });
    return (db.prepare('SELECT count(*) AS n FROM objects WHERE ino = ?').get(ino) as { n: number }).n;
  } finally {
    db.close();
  }
}

test('parse cache: a library rewritten in place (same inode, same size) is read again', async () => {
  const dir = await makeTempDir('pyrelo-parse-cache-');
  try {
    const cache = join(dir, 'cache');
    const { prog, lib } = await programAndLibrary(dir);
    const good = readFileSync(lib);
    utimesSync(lib, T1, T1);
    utimesSync(prog, T1, T1);
    const first = await check(cache, prog);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.equal(first.loads, true, first.problems.join('\n'));
    assert.equal(first.stderr, '');
    assert.equal(rowsFor(cache, lib), 1, 'the library was stored in the cache');
    const again = await check(cache, prog);
    assert.equal(again.loads, true, 'the answer from the cache is the same');

    const inode = statSync(lib).ino;
    writeFileSync(lib, withoutDepFunction(good));
    utimesSync(lib, T2, T2);
    assert.equal(statSync(lib).ino, inode);
    assert.equal(statSync(lib).size, good.length);
    const second = await check(cache, prog);
    assert.equal(second.loads, false, 'the rewritten library is read again, not taken from the cache');
    assert.ok(
      second.problems.some((p) => p.endsWith('undefined symbol: dep_function')),
      second.problems.join('\n'),
    );

    // Back to the first content under a new inode (rename over it): the first answer again.
    writeFileSync(`${lib}.new`, good);
    utimesSync(`${lib}.new`, T1, T1);
    renameSync(`${lib}.new`, lib);
    const third = await check(cache, prog);
    assert.equal(third.loads, true, third.problems.join('\n'));
  } finally {
    await removeDir(dir);
  }
});

test('parse cache: a library that appears earlier in the search path is found', async () => {
  const dir = await makeTempDir('pyrelo-parse-cache-new-');
  try {
    const cache = join(dir, 'cache');
    const { prog, lib } = await programAndLibrary(dir);
    utimesSync(lib, T1, T1);
    utimesSync(prog, T1, T1);
    const first = await check(cache, prog);
    assert.equal(first.loads, true, first.problems.join('\n'));
    assert.ok(
      first.paths.some((p) => p?.endsWith('/lib/libdep.so')),
      first.paths.join(' '),
    );
    await check(cache, prog);

    const earlier = join(dir, 'first', 'libdep.so');
    await execa('mkdir', ['-p', join(dir, 'first')]);
    writeFileSync(earlier, withoutDepFunction(readFileSync(lib)));
    utimesSync(earlier, T2, T2);
    const second = await check(cache, prog);
    assert.ok(
      second.paths.some((p) => p?.endsWith('/first/libdep.so')),
      `the new library in first/ is used: ${second.paths.join(' ')}`,
    );
    assert.equal(second.loads, false);
  } finally {
    await removeDir(dir);
  }
});

test('parse cache: a file written in the last seconds is read but not stored', async () => {
  const dir = await makeTempDir('pyrelo-parse-cache-racy-');
  try {
    const cache = join(dir, 'cache');
    const { prog, lib } = await programAndLibrary(dir);
    utimesSync(lib, new Date(), new Date());
    const r = await check(cache, prog);
    assert.equal(r.loads, true, r.problems.join('\n'));
    assert.equal(rowsFor(cache, lib), 0);
  } finally {
    await removeDir(dir);
  }
});

test('parse cache: a damaged, unwritable or foreign cache gives one warning and the same answer', async () => {
  const dir = await makeTempDir('pyrelo-parse-cache-bad-');
  try {
    const { prog, lib } = await programAndLibrary(dir);
    utimesSync(lib, T1, T1);
    const plain = await check(join(dir, 'unused'), prog, '--no-cache');
    assert.equal(plain.loads, true, plain.problems.join('\n'));
    assert.equal(existsSync(join(dir, 'unused')), false, '--no-cache creates no cache');

    const damaged = join(dir, 'damaged');
    await execa('mkdir', ['-p', damaged]);
    writeFileSync(join(damaged, CACHE_FILE), Buffer.alloc(8192, 0x5a));
    // A path under a regular file: mkdir fails with ENOTDIR, whoever runs the test.
    const unwritable = join(lib, 'cache');
    const foreign = join(dir, 'foreign');
    await check(foreign, prog);
    const db = new Database(join(foreign, CACHE_FILE));
    db.pragma(`user_version = ${PARSE_CACHE_SCHEMA + 1}`);
    db.close();

    for (const cache of [damaged, unwritable, foreign]) {
      const r = await check(cache, prog);
      assert.equal(r.exitCode, plain.exitCode, cache);
      assert.deepEqual(
        { loads: r.loads, problems: r.problems },
        { loads: plain.loads, problems: plain.problems },
        cache,
      );
      const warnings = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(warnings.length, 1, `${cache}: ${r.stderr}`);
      assert.match(warnings[0]!, /^pyrelo: warning: parse cache .*: not used: /);
    }
  } finally {
    await removeDir(dir);
  }
});
