// The `pyrelo` executable (package.json bin) is one file built from the compiled modules
// (scripts/bundle-cli.mjs): it must answer `pyrelo check` exactly as they do, and share their rows
// of the parse cache, which are keyed by the digest of the ELF reader's and loader's code
// (parse-cache.ts): the bundle carries the digest of the folders it was built from.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { PARSE_CACHE_SCHEMA } from '../../src/loader/parse-cache.js';
import { buildPyreloBin, COMPILED_MAIN, PYRELO_BIN } from '../support/pyrelo-bin.js';

/** Programs and libraries every Debian-like host has, and one that is no ELF file. */
const FILES = ['/usr/bin/ls', '/bin/sh', '/usr/bin/env', '/lib/x86_64-linux-gnu/libc.so.6', '/etc/os-release'];

async function check(entry: string, cacheDir: string, ...flags: string[]) {
  const r = await execa(process.execPath, [entry, 'check', '--json', ...flags, ...FILES.slice(0, 4)], {
    reject: false,
    env: { PYRELO_CACHE: cacheDir },
  });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

function rows(cacheDir: string): { objects: number; results: number } {
  const db = new Database(join(cacheDir, `loader-facts-v${PARSE_CACHE_SCHEMA}.sqlite`), { readonly: true });
  try {
    const count = (table: string): number =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { objects: count('objects'), results: count('results') };
  } finally {
    db.close();
  }
}

test('the pyrelo executable answers check as the compiled modules do, with and without the cache', async () => {
  await buildPyreloBin();
  const cacheDir = mkdtempSync(join(tmpdir(), 'pyrelo-bin-'));
  try {
    const fresh = await check(COMPILED_MAIN, cacheDir, '--no-cache');
    assert.equal(fresh.stderr, '');
    assert.match(fresh.stdout, /"file": "\/usr\/bin\/ls"/);
    assert.deepEqual(await check(PYRELO_BIN, cacheDir, '--no-cache'), fresh);
    // The modules fill the cache; the executable then finds every file and result there.
    assert.deepEqual(await check(COMPILED_MAIN, cacheDir), fresh);
    const filled = rows(cacheDir);
    assert.ok(filled.objects > 0 && filled.results === 4, JSON.stringify(filled));
    assert.deepEqual(await check(PYRELO_BIN, cacheDir), fresh);
    assert.deepEqual(rows(cacheDir), filled, 'the executable stored rows of its own: another code digest');
    // A file that is no ELF: the same refusal from both.
    const [modules, bin] = await Promise.all(
      [COMPILED_MAIN, PYRELO_BIN].map((entry) =>
        execa(process.execPath, [entry, 'check', FILES[4]!], { reject: false, env: { PYRELO_CACHE: cacheDir } }),
      ),
    );
    assert.equal(modules!.exitCode, 2);
    assert.deepEqual([bin!.exitCode, bin!.stdout, bin!.stderr], [modules!.exitCode, modules!.stdout, modules!.stderr]);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
