// Migration 7 (src/server/db/migrations.ts) on a database written before it: the ISA level and page
// size pyrelo fleet counts are read from the index of each inventory stored before (a missing
// pageSize counts as 4096, as loaderConfigOf reads it), so a fleet enrolled under an older server
// is counted without any inventory being sent again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompatDatabase } from '../../src/server/db/database.js';
import { MIGRATIONS } from '../../src/server/db/migrations.js';
import { indexInventory } from '../../src/inventory/inventory-index.js';
import { decodeInventory } from '../../src/inventory/read.js';
import { packageFolder } from '../../src/common/package-files.js';

test('migration 7 reads the ISA level and page size of inventories stored before it from their index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-fleet-migration-'));
  try {
    const file = join(dir, 'compat.sqlite');
    const old = new Database(file);
    for (const migration of MIGRATIONS.slice(0, 6)) old.exec(migration);
    old.pragma('user_version = 6');
    const source = join(packageFolder('data'), 'platforms', 'debian-12.inventory.json.gz');
    const { inventory } = decodeInventory(readFileSync(source), source);
    // Three stored inventories: the lab's, the same with another ISA level and no pageSize (as
    // inventories were written before it was recorded), and one of 64 KiB pages.
    const { pageSize: _p, ...withoutPageSize } = inventory.loader;
    const variants = [
      inventory,
      { ...inventory, loader: { ...withoutPageSize, isaLevel: 2 } },
      { ...inventory, loader: { ...inventory.loader, isaLevel: 3, pageSize: 65536 } },
    ];
    variants.forEach((v, i) => {
      const id = Number(
        old
          .prepare(
            `INSERT INTO inventories (sha256, body, size, stored_at, index_json) VALUES (?, x'', 0, '2026-01-01', ?)`,
          )
          .run(String(i).padStart(64, '0'), Buffer.from(JSON.stringify(indexInventory(v).index))).lastInsertRowid,
      );
      old
        .prepare(
          `INSERT INTO hosts (name, distro_id, distro_version, arch, source, inventory_id, inventory_version, added_at)
          VALUES (?, 'debian', '12', 'x86_64', 'import', ?, 1, '2026-01-01')`,
        )
        .run(`host-${i}`, id);
    });
    old.close();

    const db = new CompatDatabase(file);
    try {
      assert.equal(db.schemaVersion, MIGRATIONS.length);
      const facts = db.fleetFacts();
      assert.deepEqual(
        facts.map((h) => [h.name, h.isaLevel, h.pageSize]),
        [
          ['host-0', inventory.loader.isaLevel, inventory.loader.pageSize ?? 4096],
          ['host-1', 2, 4096],
          ['host-2', 3, 65536],
        ],
      );
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
