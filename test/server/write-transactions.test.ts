// Every write transaction on the server's connection begins IMMEDIATE (src/server/db/database.ts):
// with the intake worker writing on a connection of its own, a deferred one that read first and
// then wrote after the worker's commit failed at once with SQLITE_BUSY_SNAPSHOT ("database is
// locked"; busy_timeout does not apply to it), and bench:soak saw 97 good agents' streams cut so.
//
// Two real connections in two processes on one real database file, interleaved without timing:
// the report group's transaction (src/server/report-commits.ts) is paused right after its first
// read (a look-up of the report id), and another process commits a write there, as the intake
// worker would. Begun IMMEDIATE, the group holds the write lock, so the other process finds it
// busy (and, with its busy_timeout, would wait its turn) and the report is stored; begun deferred,
// the other process commits and the report fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompatDatabase } from '../../src/server/db/database.js';
import { ReportCommits } from '../../src/server/report-commits.js';
import { verifiedRun } from './fixtures.js';

const digest = 'b'.repeat(64);

/** Another process writes one inventory object, as the intake worker does, without waiting for the lock. */
function writeFromAnotherProcess(file: string, sha256: string): 'committed' | 'busy' {
  const program = `
    const Database = require(process.argv[1]);
    const db = new Database(process.argv[2], { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    try {
      db.transaction(() => db.prepare('INSERT INTO inventory_objects (sha256, body) VALUES (?, ?)')
        .run(process.argv[3], Buffer.from('{}'))).immediate();
      process.stdout.write('committed');
    } catch (error) {
      if (error.code !== 'SQLITE_BUSY') throw error;
      process.stdout.write('busy');
    }`;
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  return execFileSync(process.execPath, ['-e', program, sqlite, file, sha256], { encoding: 'utf8' }) as
    'committed' | 'busy';
}

test("a report group holds the write lock from its first read: another process's commit cannot cut it", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-write-transactions-'));
  const db = new CompatDatabase(join(dir, 'compat.sqlite'));
  try {
    db.addBundle({
      digest,
      name: 'app',
      size: 1,
      libc: 'host',
      glibcFloor: null,
      kernelFloor: null,
      pythonVersion: '3.11.2',
      archiveName: 'app.tar.gz',
      manifest: '{}',
      elf: [],
    });
    db.addHost('web-1', 'agent');
    // The pause: right after the transaction's first read, the other process writes.
    const seen: string[] = [];
    const hasReport = db.hasReport.bind(db);
    db.hasReport = (reportId: string): boolean => {
      const known = hasReport(reportId);
      seen.push(writeFromAnotherProcess(db.file, 'c'.repeat(64)));
      return known;
    };
    const commits = new ReportCommits(db);
    const stored = await commits.add('web-1', verifiedRun('web-1', digest), 'report-1').then(
      (value) => value,
      (error: Error) => error.message,
    );
    assert.equal(stored, true, 'the report is stored');
    assert.deepEqual(seen, ['busy'], 'the other writer found the lock taken (it waits its turn)');
    assert.equal(db.reportCount(), 1);
    // Its turn came after the report's commit.
    assert.equal(writeFromAnotherProcess(db.file, 'd'.repeat(64)), 'committed');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
