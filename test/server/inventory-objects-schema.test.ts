// Migration 7 (src/server/db/migrations.ts): inventory objects move from a WITHOUT ROWID table,
// whose key b-tree held every body and made each look-up by sha256 read whole bodies, to a rowid
// table with its own index on sha256. A database at schema 6 with objects and their uses is opened:
// every object comes through with its bytes, and the intake's look-up (does this object exist?)
// reads the sha256 index alone (SQLite's own query plan: a covering index), not the bodies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompatDatabase } from '../../src/server/db/database.js';
import { MIGRATIONS } from '../../src/server/db/migrations.js';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

test('objects stored at schema 6 come through migration 8; a look-up by sha256 reads only its index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-objects-schema-'));
  const file = join(dir, 'compat.sqlite');
  try {
    const old = new Database(file);
    for (let version = 0; version < 6; version++) old.exec(MIGRATIONS[version]!);
    old.pragma('user_version = 6');
    const bodies = Array.from({ length: 40 }, (_, i) => randomBytes(1000 + i * 500));
    const add = old.prepare('INSERT INTO inventory_objects (sha256, body) VALUES (?, ?)');
    for (const body of bodies) add.run(sha(body), body);
    old.close();

    const db = new CompatDatabase(file);
    try {
      assert.equal(db.schemaVersion, MIGRATIONS.length);
      const stored = db.db.prepare('SELECT sha256, body FROM inventory_objects ORDER BY sha256').all() as {
        sha256: string;
        body: Buffer;
      }[];
      assert.deepEqual(
        stored.map((o) => [o.sha256, sha(o.body)]),
        bodies.map((b) => [sha(b), sha(b)]).sort((a, b) => a[0]!.localeCompare(b[0]!)),
      );
      const plan = db.db
        .prepare('EXPLAIN QUERY PLAN SELECT 1 FROM inventory_objects WHERE sha256 = ?')
        .all('0'.repeat(64)) as { detail: string }[];
      assert.match(plan.map((p) => p.detail).join('; '), /USING COVERING INDEX/);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
