// Agents' reports committed in groups (src/server/report-commits.ts): the reports of one turn of
// the event loop take one commit (one fsync) between them; a report that cannot be stored fails
// alone and the rest of its group is committed; a report id seen before is not stored twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompatDatabase } from '../../src/server/db/database.js';
import { ReportCommits } from '../../src/server/report-commits.js';
import type { CheckResult } from '../../src/proto/messages.js';
import { verifiedRun } from './fixtures.js';

const digest = 'a'.repeat(64);
const result = (host: string): CheckResult => verifiedRun(host, digest);

test('the reports of one turn take one commit; a failing one fails alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-report-commits-'));
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
    for (let h = 0; h < 4; h++) db.addHost(`host-${h}`, 'agent');
    const commits = new ReportCommits(db);
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, i) => commits.add(`host-${i % 4}`, result(`host-${i % 4}`), `report-${i}`)),
      commits.add('removed-host', result('removed-host'), 'report-removed'),
      commits.add('host-0', result('host-0'), 'report-0'),
    ]);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'failed')),
      [...Array<boolean>(20).fill(true), 'failed', false],
      'twenty stored, the unknown host refused, the repeated id acknowledged without a second write',
    );
    assert.match(String((outcomes[20] as PromiseRejectedResult).reason), /host removed-host/);
    assert.deepEqual(commits.counts, { reports: 21, commits: 1 });
    assert.equal(db.reportCount(), 20);
    // A later turn is a commit of its own.
    assert.equal(await commits.add('host-1', result('host-1'), 'report-later'), true);
    assert.deepEqual(commits.counts, { reports: 22, commits: 2 });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
