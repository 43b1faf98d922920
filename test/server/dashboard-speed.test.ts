// The dashboard's matrix at fleet size (README "Dashboard"): 1,000 hosts x 100 bundles, written
// directly into the database as bench/fleet.ts writes its fleet (a prediction for every pair, a
// verified run on one host in ten, a third failing), rendered by a real chromium. The time is
// printed, not asserted (a shared machine); what is asserted is that the page is whole: every
// host's row with every bundle's cell, each the verdict the seeding gave it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompatDatabase } from '../../src/server/db/database.js';
import { databasePath } from '../../src/server/server.js';
import { createDashboardToken } from '../../src/server/dashboard/token.js';
import { startTestServer, type TestServer } from './fixtures.js';
import { launchBrowser, type TestBrowser } from './browser.js';

const HOSTS = 1000;
const BUNDLES = 100;
const DISTROS = [
  ['debian', '10'],
  ['debian', '11'],
  ['debian', '12'],
  ['debian', '13'],
  ['ubuntu', '20.04'],
  ['ubuntu', '22.04'],
  ['ubuntu', '24.04'],
  ['rhel', '8'],
  ['rhel', '9'],
  ['alpine', '3.20'],
] as const;

const hostName = (h: number): string => `host-${String(h).padStart(4, '0')}`;
/** The verdict the seeding gives host h (1-based) and bundle b (1-based), as the cell's class. */
const seeded = (h: number, b: number): string => ((h + b) % 3 === 0 ? 'f' : h % 10 === 0 ? 'v' : 'r');

function seed(file: string): void {
  const db = new CompatDatabase(file);
  db.db.transaction(() => {
    const host = db.db.prepare(
      `INSERT INTO hosts (id, name, distro_id, distro_version, arch, kernel, libc_kind, libc_version, source, added_at)
      VALUES (?, ?, ?, ?, 'x86_64', '6.1.0', 'glibc', '2.36', 'import', '2026-01-01')`,
    );
    for (let h = 1; h <= HOSTS; h++) {
      const [id, version] = DISTROS[h % DISTROS.length]!;
      host.run(h, hostName(h), id, version);
    }
    const bundle = db.db.prepare(
      `INSERT INTO bundles (id, digest, name, size, libc, glibc_floor, kernel_floor, python_version, archive_name,
      manifest, added_at) VALUES (?, ?, ?, 1000, 'host', '2.34', '3.2.0', '3.11.9', 'a.tar.gz', '{}', '2026-01-01')`,
    );
    for (let b = 1; b <= BUNDLES; b++)
      bundle.run(b, b.toString(16).padStart(64, '0'), `bundle-${String(b).padStart(3, '0')}`);
    const check = db.db.prepare(
      `INSERT INTO checks (bundle_id, host_id, kind, runs, loads, files_checked, glibc_floor, checked_at)
      VALUES (?, ?, ?, ?, ?, 40, '2.34', '2026-01-01')`,
    );
    const problem = db.db.prepare(
      `INSERT INTO check_problems (check_id, seq, kind, severity, message, file, object, version)
      VALUES (?, ?, 'missing-version', 'error', ?, 'bin/python3', '/lib/x86_64-linux-gnu/libc.so.6', ?)`,
    );
    for (let b = 1; b <= BUNDLES; b++)
      for (let h = 1; h <= HOSTS; h++) {
        const fails = seeded(h, b) === 'f';
        for (const kind of h % 10 === 0 ? ['predicted', 'verified'] : ['predicted']) {
          const id = Number(check.run(b, h, kind, fails ? 0 : 1, fails ? 0 : 1).lastInsertRowid);
          if (fails)
            for (const [i, v] of ['GLIBC_2.34', 'GLIBC_2.32'].entries())
              problem.run(
                id,
                i,
                `/lib/x86_64-linux-gnu/libc.so.6: version \`${v}' not found (required by bin/python3)`,
                v,
              );
        }
      }
  })();
  db.close();
}

let work: string;
/** Kept after the test, for a person to look at. */
let shots: string;
let ts: TestServer;
let token: string;
let browser: TestBrowser;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-dashboard-speed-'));
  shots = mkdtempSync(join(tmpdir(), 'pyrelo-dashboard-screenshots-'));
  const dir = join(work, 'server');
  mkdirSync(dir, { mode: 0o700 });
  seed(databasePath(dir));
  token = createDashboardToken(dir);
  ts = await startTestServer(dir, { dashboardListen: '127.0.0.1:0' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await ts?.server.stop(500);
  rmSync(work, { recursive: true, force: true });
});

test('a 1,000 hosts x 100 bundles matrix renders whole in the browser (time printed)', async (t) => {
  const page = await browser.context.newPage();
  await page.setExtraHTTPHeaders({ authorization: `Bearer ${token}` });
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    const response = await page.goto(ts.server.dashboardUrl!, { waitUntil: 'load' });
    // Two animation frames after load: the page has been laid out and painted.
    // (Strings run in the page: this project's TypeScript has no DOM types.)
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    times.push(performance.now() - started);
    assert.equal(response?.status(), 200);
    if (run === 0) {
      const timing = (await page.evaluate(`(() => {
        const n = performance.getEntriesByType('navigation')[0];
        return {
          response: n.responseEnd,
          dom: n.domContentLoadedEventEnd,
          load: n.loadEventEnd,
          bytes: n.transferSize,
        };
      })()`)) as { response: number; dom: number; load: number; bytes: number };
      t.diagnostic(
        `first load: response complete at ${timing.response.toFixed(0)} ms, ` +
          `DOMContentLoaded ${timing.dom.toFixed(0)} ms, ` +
          `load ${timing.load.toFixed(0)} ms, ${(timing.bytes / 1e6).toFixed(1)} MB`,
      );
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  t.diagnostic(
    `1,000 hosts x 100 bundles: navigation to painted page ${times.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} ` +
      `(best ${sorted[0]!.toFixed(0)} ms, median ${sorted[2]!.toFixed(0)} ms; ` +
      `load average ${loadavg()[0]!.toFixed(1)})`,
  );
  await page.screenshot({ path: join(shots, 'matrix-1000x100.png') });
  t.diagnostic(`screenshot: ${join(shots, 'matrix-1000x100.png')}`);
  // Whole: every host's row, every bundle's cell, each the seeded verdict.
  const rows = await page.$$eval('#matrix tr.h', (trs) =>
    trs.map((tr) => [
      tr.querySelector('th')!.textContent!,
      [...tr.querySelectorAll('td')].map((td) => td.className).join(''),
    ]),
  );
  assert.equal(rows.length, HOSTS);
  assert.equal(await page.locator('#matrix tr.h td').count(), HOSTS * BUNDLES);
  assert.equal(await page.locator('#matrix thead th.b').count(), BUNDLES);
  assert.equal(await page.locator('#matrix tr.d').count(), DISTROS.length);
  const expected = new Map<string, string>();
  for (let h = 1; h <= HOSTS; h++)
    expected.set(hostName(h), Array.from({ length: BUNDLES }, (_, i) => seeded(h, i + 1)).join(''));
  for (const [name, cells] of rows) assert.equal(cells, expected.get(name!), name!);
  const failing = await page.$eval('#matrix tr.h:has(a[href="/hosts/host-0002"]) td', (td) => td.getAttribute('title'));
  assert.equal(failing, "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by bin/python3)");
  await page.close();
});
