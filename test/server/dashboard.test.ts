// The web dashboard (src/server/dashboard/, README "Dashboard") in a real browser: Debian's chromium
// driven by playwright-core, against a real server holding the lab's real inventories
// (data/platforms/*.inventory.json.gz, imported as `pyrelo hosts import` does) and real bundles.
// Each page's verdicts are compared with what the database says through other code
// (CompatDatabase.resultsForBundle, the control service's Compat), a request without the token is
// refused, a hostile string an agent reported is shown as text, and screenshots are saved.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { ControlClient } from '../../src/client/control-client.js';
import { uploadBundle } from '../../src/client/commands/bundles.js';
import { verdictOf } from '../../src/server/compat-query.js';
import { createDashboardToken } from '../../src/server/dashboard/token.js';
import type { BundleInfo, PlatformVerdict } from '../../src/proto/messages.js';
import { makeBundle, startTestServer, type TestServer, verifiedRun, waitFor } from './fixtures.js';
import { launchBrowser, type TestBrowser } from './browser.js';

const PLATFORMS = join(import.meta.dirname, '..', '..', '..', 'data', 'platforms');
/** Lab inventories imported as hosts: host name -> file. */
const LAB_HOSTS: Readonly<Record<string, string>> = {
  'lab-debian-11': 'debian-11.inventory.json.gz',
  'lab-debian-12': 'debian-12.inventory.json.gz',
  'lab-debian-13': 'debian-13.inventory.json.gz',
  'lab-busybox': 'lab-busybox.inventory.json.gz',
  'lab-musl': 'lab-musl.inventory.json.gz',
};
/** What an agent's report may say: the dashboard must show it as text, never as markup. */
const HOSTILE = `<script>window.__pwned = 1</script><img src=x id=injected onerror="window.__pwned = 2">"'&`;
/** The class each verdict's cell has (src/server/dashboard/layout.ts), from compat-query's verdicts. */
const CELL_CLASS: Readonly<Record<string, string>> = { runs: 'v', predicted: 'r', fails: 'f', unknown: 'u' };

let work: string;
let shots: string;
let ts: TestServer;
let control: ControlClient;
let token: string;
let url: string;
let browser: TestBrowser;
let bundles: BundleInfo[];
const references = new Map<string, PlatformVerdict[]>();

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-dashboard-'));
  // Kept after the test, for a person to look at (its path is printed).
  shots = mkdtempSync(join(tmpdir(), 'pyrelo-dashboard-screenshots-'));
  const dir = join(work, 'server');
  mkdirSync(dir, { mode: 0o700 });
  token = createDashboardToken(dir);
  ts = await startTestServer(dir, { dashboardListen: '127.0.0.1:0' });
  assert.ok(ts.server.dashboardUrl !== null, 'the dashboard listens once a token exists');
  url = ts.server.dashboardUrl;
  control = new ControlClient(ts.server.controlAddress);
  for (const [name, file] of Object.entries(LAB_HOSTS))
    await control.call('ImportInventory', { name, inventory: readFileSync(join(PLATFORMS, file)) });
  bundles = [
    await uploadBundle(control, await makeBundle(work, 'app-host-libc', 'host-libc')),
    await uploadBundle(control, await makeBundle(work, 'app-static', 'static')),
  ];
  const hosts = Object.keys(LAB_HOSTS).length;
  await waitFor(
    () =>
      (ts.server.db.db.prepare("SELECT count(*) AS n FROM checks WHERE kind = 'predicted'").get() as { n: number })
        .n ===
      hosts * bundles.length,
    120_000,
  );
  // The reference rows, made by the server's worker: Compat waits for them.
  for (const b of bundles) references.set(b.digest, (await control.call('Compat', { bundle: b.digest })).platforms);
  // An agent's report of a failed run whose reason is markup, and a deployment whose reason is too.
  ts.server.db.recordVerified(
    'lab-debian-12',
    {
      ...verifiedRun('lab-debian-12', bundles[0]!.digest),
      runs: false,
      smokeExit: 1,
      problems: [
        {
          kind: 'smoke',
          severity: 'error',
          message: HOSTILE,
          file: 'bin/python3',
          object: '',
          requiredBy: '',
          library: '',
          version: '',
          symbol: '',
        },
      ],
    },
    { reportId: 'hostile-1' },
  );
  ts.server.db.recordVerified('lab-debian-13', verifiedRun('lab-debian-13', bundles[1]!.digest), {
    reportId: 'good-1',
  });
  ts.server.db.recordDeployment({
    host: 'lab-debian-12',
    bundleDigest: bundles[0]!.digest,
    bundleName: bundles[0]!.name,
    release: '20260101-000000',
    prefix: '/opt/pyrelo/app-host-libc',
    status: 'failed',
    reason: `<b id=deployment-injected>${HOSTILE}</b>`,
    bytesSent: 1234,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:05.000Z',
  });
  browser = await launchBrowser();
  // Logged in once, by the login link: the cookie it sets opens every page from now on.
  const page = await browser.context.newPage();
  const login = await page.goto(`${url}?token=${token}`);
  assert.equal(login?.status(), 200);
  await page.close();
});

after(async () => {
  await browser?.close();
  control?.close();
  await ts?.server.stop(500);
  rmSync(work, { recursive: true, force: true });
});

/** Every host with its expected cell class per bundle, as CompatDatabase and compat-query read them. */
function expectedCells(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const b of bundles) {
    const stored = ts.server.db.bundleByDigest(b.digest)!;
    for (const { host, predicted, verified } of ts.server.db.resultsForBundle(stored, 5, () => false)) {
      const row = out.get(host.name) ?? [];
      row.push(CELL_CLASS[verdictOf(predicted, verified)]!);
      out.set(host.name, row);
    }
  }
  return out;
}

async function open(path: string): Promise<Page> {
  const page = await browser.context.newPage();
  const response = await page.goto(`${url}${path.replace(/^\//, '')}`);
  assert.equal(response?.status(), 200, `${path}: ${response?.status()}`);
  return page;
}

/** Nothing the hostile strings carry became markup or ran. */
async function assertInert(page: Page): Promise<void> {
  assert.equal(await page.locator('#injected, #deployment-injected').count(), 0, 'no injected element');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
}

describe('dashboard', () => {
  test('no page opens without the token: 401 with no token, a wrong one, or a wrong login link', async () => {
    for (const path of ['', 'fleet', 'hosts/lab-debian-12', `bundles/${bundles[0]!.digest}`]) {
      const bare = await fetch(`${url}${path}`, { redirect: 'manual' });
      assert.equal(bare.status, 401, `${path} without a token`);
      assert.doesNotMatch(await bare.text(), /lab-debian|app-host/, 'a refusal shows nothing of the fleet');
      const wrong = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}x` } });
      assert.equal(wrong.status, 401, `${path} with a wrong bearer token`);
      const cookie = await fetch(`${url}${path}`, { headers: { cookie: `pyrelo_dashboard=${token.slice(0, -1)}` } });
      assert.equal(cookie.status, 401, `${path} with a wrong cookie`);
      const link = await fetch(`${url}${path}?token=nope`, { redirect: 'manual' });
      assert.equal(link.status, 401, `${path} with a wrong login link`);
      const bearer = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(bearer.status, 200, `${path} with the bearer token`);
    }
    // A login link whose path reads as another site's address redirects to this one.
    // (node:http sends the path as written; fetch would normalise it first.)
    const away = await new Promise<IncomingMessage>((resolve, reject) =>
      httpGet(`${url}x`, { path: `/.//evil.example/x?token=${token}` }, resolve).on('error', reject),
    );
    away.resume();
    assert.equal(away.statusCode, 303);
    assert.equal(away.headers.location, '/evil.example/x');
    // In the browser too, once its cookie is gone; then the login link again.
    const page = await browser.context.newPage();
    await browser.context.clearCookies();
    assert.equal((await page.goto(url))?.status(), 401);
    const login = await page.goto(`${url}?token=${token}`);
    assert.equal(login?.status(), 200);
    assert.equal(page.url(), url, 'the login link leaves the token out of the address');
    const cookies = await browser.context.cookies(url);
    assert.equal(cookies.find((c) => c.name === 'pyrelo_dashboard')?.httpOnly, true);
    await page.close();
  });

  test("the matrix shows each host's verdict as the database has it, and the reference platforms'", async () => {
    const page = await open('/');
    const digests = await page.$$eval('#matrix thead th.b a', (links) =>
      links.map((a) => decodeURIComponent(a.getAttribute('href')!.split('/').pop()!)),
    );
    assert.deepEqual(
      digests,
      bundles.map((b) => b.digest),
    );
    const rows = await page.$$eval('#matrix tr.h', (trs) =>
      trs.map((tr) => ({
        host: tr.querySelector('th')!.textContent!,
        cells: [...tr.querySelectorAll('td')].map((td) => ({ cls: td.className, title: td.getAttribute('title') })),
      })),
    );
    const expected = expectedCells();
    assert.deepEqual(new Set(rows.map((r) => r.host)), new Set(expected.keys()));
    for (const row of rows)
      assert.deepEqual(
        row.cells.map((c) => c.cls),
        expected.get(row.host),
        row.host,
      );
    // The lab's roots as glibc decides: the host-libc program does not load on busybox and musl.
    const busybox = rows.find((r) => r.host === 'lab-busybox')!;
    assert.equal(busybox.cells[0]!.cls, 'f');
    assert.ok(busybox.cells[0]!.title, 'a failing cell has its first reason on hover');
    const firstReason = ts.server.db
      .resultsForBundle(ts.server.db.bundleByDigest(bundles[0]!.digest)!, 5, () => false)
      .find((r) => r.host.name === 'lab-busybox')!
      .predicted!.problems.find((p) => p.severity === 'error')!.message;
    assert.equal(busybox.cells[0]!.title, firstReason);
    // Reference platforms: one row each, its cells the verdicts compat gives.
    const referenceRows = await page.$$eval('#matrix tr.ref', (trs) =>
      trs.map((tr) => ({
        platform: tr.querySelector('th')!.firstChild!.textContent!.trim(),
        cells: [...tr.querySelectorAll('td')].map((td) => ({ cls: td.className, title: td.getAttribute('title') })),
      })),
    );
    const platforms = references.get(bundles[0]!.digest)!;
    assert.ok(platforms.length >= 20, `${platforms.length} reference platforms`);
    assert.deepEqual(
      referenceRows.map((r) => r.platform),
      platforms.map((p) => p.platform),
    );
    for (const row of referenceRows)
      bundles.forEach((b, i) => {
        const verdict = references.get(b.digest)!.find((p) => p.platform === row.platform)!;
        assert.equal(row.cells[i]!.cls, verdict.verdict === 'predicted' ? 'r' : 'f', `${row.platform} ${b.name}`);
      });
    await page.screenshot({ path: join(shots, 'matrix.png'), fullPage: true });
    await page.close();
  });

  test('a hostile string an agent reported is shown as text, on every page', async () => {
    const matrix = await open('/');
    const title = await matrix.$eval('#matrix tr.h:has(a[href="/hosts/lab-debian-12"]) td', (td) =>
      td.getAttribute('title'),
    );
    assert.equal(title, HOSTILE, 'the title holds the reason as it was reported');
    await assertInert(matrix);
    await matrix.close();
    for (const path of ['/hosts/lab-debian-12', `/bundles/${bundles[0]!.digest}`]) {
      const page = await open(path);
      assert.ok((await page.locator('main').innerText()).includes(HOSTILE), `${path} shows the reason as text`);
      await assertInert(page);
      await page.close();
    }
  });

  test("a host's page: its inventory's facts, every bundle's verdict, its deployments", async () => {
    const page = await open('/hosts/lab-debian-12');
    const facts = Object.fromEntries(
      await page.$$eval('#facts dd', (dds) => dds.map((dd) => [dd.getAttribute('data-fact'), dd.textContent])),
    ) as Record<string, string>;
    const inventory = JSON.parse(gunzipSync(readFileSync(join(PLATFORMS, LAB_HOSTS['lab-debian-12']!))).toString());
    assert.equal(facts.distro, `${inventory.host.osRelease.id} ${inventory.host.osRelease.versionId}`);
    assert.equal(facts.libc, `${inventory.host.libc.kind} ${inventory.host.libc.version}`);
    assert.equal(facts.kernel, inventory.host.kernelRelease);
    assert.equal(facts.architecture, inventory.host.arch);
    assert.equal(facts['page size'], `${inventory.loader.pageSize} bytes`);
    assert.equal(
      facts['inventory collected'],
      `${inventory.collectedAt.slice(0, 10)} ${inventory.collectedAt.slice(11, 16)} UTC`,
    );
    assert.match(facts['last seen']!, /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, 'seen when its report came');
    const verdicts = await page.$$eval('#checks tbody tr', (trs) =>
      trs.map((tr): [string | null, string | null] => [
        tr.getAttribute('data-bundle'),
        tr.querySelector('[data-verdict]')!.getAttribute('data-verdict'),
      ]),
    );
    const expected = expectedCells().get('lab-debian-12')!;
    const word: Record<string, string> = { v: 'verified', r: 'runs', f: 'fails', u: 'unknown' };
    assert.deepEqual(new Map(verdicts), new Map(bundles.map((b, i) => [b.digest, word[expected[i]!]!])));
    const deployments = await page.$$eval('#deployments tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.equal(deployments.length, 1);
    assert.match(deployments[0]!, /failed/);
    await page.screenshot({ path: join(shots, 'host.png'), fullPage: true });
    await page.close();
  });

  test("a bundle's page: floors, grafted libraries, reference platforms, every host, verified runs", async () => {
    const stored = ts.server.db.bundleByDigest(bundles[0]!.digest)!;
    const manifest = JSON.parse(stored.manifest);
    const page = await open(`/bundles/${stored.digest}`);
    const facts = Object.fromEntries(
      await page.$$eval('#facts dd', (dds) => dds.map((dd) => [dd.getAttribute('data-fact'), dd.textContent])),
    ) as Record<string, string>;
    assert.equal(facts['glibc floor'], manifest.glibcFloor || 'none');
    assert.equal(facts['kernel floor'], manifest.kernelFloor || 'none');
    assert.equal(await page.locator('#grafted tbody tr').count(), manifest.grafted.length);
    const platforms = await page.$$eval('#references tbody tr', (trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-platform'),
        tr.querySelector('[data-verdict]')!.getAttribute('data-verdict'),
      ]),
    );
    assert.deepEqual(
      platforms,
      references.get(stored.digest)!.map((p) => [p.platform, p.verdict === 'predicted' ? 'runs' : 'fails']),
    );
    const hosts = await page.$$eval('#hosts tbody tr', (trs) =>
      trs.map((tr): [string | null, string | null] => [
        tr.getAttribute('data-host'),
        tr.querySelector('[data-verdict]')!.getAttribute('data-verdict'),
      ]),
    );
    const word: Record<string, string> = { v: 'verified', r: 'runs', f: 'fails', u: 'unknown' };
    const expected = expectedCells();
    assert.deepEqual(new Map(hosts), new Map([...expected].map(([host, cells]) => [host, word[cells[0]!]!])));
    const runs = await page.$$eval('#verified tbody tr', (trs) =>
      trs.map((tr) => [tr.getAttribute('data-host'), tr.querySelector('[data-verdict]')!.getAttribute('data-verdict')]),
    );
    assert.deepEqual(runs, [['lab-debian-12', 'fails']]);
    await page.screenshot({ path: join(shots, 'bundle.png'), fullPage: true });
    await page.close();
  });

  test("the fleet's page counts each fact as pyrelo fleet does, with the stale hosts", async () => {
    const answer = await control.call('Fleet', { staleAfterDays: 0 });
    const page = await open('/fleet');
    for (const key of ['distros', 'libcs', 'kernels', 'architectures', 'isaLevels', 'pageSizes'] as const) {
      const shown = await page.$$eval(`#${key} tbody tr`, (trs) =>
        trs.map((tr) => [tr.getAttribute('data-value'), Number(tr.querySelector('[data-hosts]')!.textContent)]),
      );
      assert.deepEqual(
        shown,
        answer[key].map((v) => [v.value, v.hosts]),
        key,
      );
    }
    assert.ok(
      answer.distros.some((d) => d.value === 'debian:12' && d.hosts === 1),
      'the lab inventories are counted',
    );
    const stale = await page.$$eval('#stale tr[data-host]', (trs) => trs.map((tr) => tr.getAttribute('data-host')));
    assert.deepEqual(
      stale,
      answer.stale.map((h) => h.name),
    );
    assert.match(
      await page.locator('#counts').innerText(),
      new RegExp(`^${answer.hosts} hosts, ${answer.withInventory} with`),
    );
    await page.screenshot({ path: join(shots, 'fleet.png'), fullPage: true });
    await page.close();
  });

  test('unknown pages, hosts and bundles are 404; only GET and HEAD are answered', async () => {
    const auth = { authorization: `Bearer ${token}` };
    for (const path of ['hosts/nope', `bundles/${'0'.repeat(64)}`, 'bundles/zz', 'etc/passwd', 'hosts/%E0%A4%A'])
      assert.equal((await fetch(`${url}${path}`, { headers: auth })).status, 404, path);
    assert.equal((await fetch(url, { method: 'POST', headers: auth })).status, 405);
  });

  test('screenshots are saved', (t) => {
    t.diagnostic(`screenshots: ${shots}`);
  });
});
