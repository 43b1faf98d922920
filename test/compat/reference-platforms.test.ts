// The reference platforms (README "Reference platforms"): the catalog in data/platforms/ reads and
// is refused when damaged; `pyrelo check --platform` answers without a server; and, for honesty,
// the prediction from a platform's facts alone equals the prediction from the lab root's real
// inventory of the same distribution, bundle by bundle, problem by problem.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPlatform, referencePlatforms, validatePlatform } from '../../src/inventory/platform-catalog.js';
import { choosePlatform, predictFromFacts, predictOnPlatform } from '../../src/compat/platform-prediction.js';
import { problemKey, sameVerdict } from '../../src/compat/check-bundle.js';
import { runCheck } from '../../src/client/commands/check.js';
import { DataFileError } from '../../src/common/package-files.js';
import { UserInputError } from '../../src/common/user-input-error.js';
import { fixtureRoot, makeBundle } from '../server/fixtures.js';
import { buildApp, buildSkipReason } from '../builder/shared-build.js';
import type { CheckResult, CompatResponse } from '../../src/proto/messages.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';
import { ControlClient } from '../../src/client/control-client.js';
import { bundlesAdd } from '../../src/client/commands/bundles.js';
import { renderCompat, runCompat } from '../../src/client/commands/compat.js';
import { packBundle } from '../../src/bundle/pack.js';
import { quietly } from '../support/quietly.js';

/** The platforms the issue names, each with facts (and the lab's with an inventory). */
const REQUIRED = [
  'debian:11',
  'debian:12',
  'debian:13',
  'rhel:8',
  'rhel:9',
  'rhel:10',
  'almalinux:9',
  'rocky:8',
  'ubuntu:20.04',
  'ubuntu:22.04',
  'ubuntu:24.04',
  'sles:15',
  'amzn:2',
  'amzn:2023',
  'alpine:3.20',
  'kylin:V10',
  'uos:20',
  'openEuler:20.03',
  'openEuler:22.03',
  'openEuler:24.03',
  'lab:busybox',
  'lab:musl',
];
/** The lab's roots stored as inventories: the facts of the same platform must predict the same. */
const WITH_INVENTORY = ['debian:11', 'debian:12', 'debian:13', 'lab:busybox', 'lab:musl'];

let work: string;
/** Unpacked bundle folders by name: gcc fixtures always, the builder's own bundles when it can build. */
const bundles = new Map<string, string>();

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-platforms-'));
  await makeBundle(work, 'tiny-host', 'host-libc');
  bundles.set('tiny-host', fixtureRoot(work, 'tiny-host'));
  await makeBundle(work, 'tiny-static', 'static');
  bundles.set('tiny-static', fixtureRoot(work, 'tiny-static'));
  if (buildSkipReason() === undefined) {
    // The yamlsmoke app on this machine's CPython (its base stage is cached), in both libc modes.
    for (const libc of ['host', 'bundle'] as const) {
      const dir = join(work, `yamlsmoke-${libc}`);
      await buildApp(dir, [], libc);
      bundles.set(`yamlsmoke-${libc}`, dir);
    }
  }
});

let ts: TestServer | undefined;

after(async () => {
  await ts?.server.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

test('the catalog holds every platform the issue names, each with its sources', () => {
  const names = new Set(referencePlatforms().flatMap((p) => [p.name, ...p.aliases]));
  for (const name of REQUIRED) assert.ok(names.has(name), `${name} is in data/platforms/`);
  for (const p of referencePlatforms()) {
    assert.ok(p.source.length > 0 && p.kernel.source.length > 0, `${p.name} names its sources`);
    if (p.libc.kind === 'glibc') {
      assert.ok(p.symbolVersions!.source.includes('manylinux-policy.json'), `${p.name}: versions from auditwheel`);
      assert.ok(p.baseLibraries.some((b) => b.soname === 'libstdc++.so.6'));
    }
  }
  for (const name of WITH_INVENTORY) assert.notEqual(findPlatform(name)?.platform.inventory ?? null, null, name);
  assert.equal(findPlatform('rhel:9/aarch64')?.arch, 'aarch64');
  assert.equal(findPlatform('rhel:9/mips'), null);
});

test('a damaged platform file is refused, naming the file and the field', () => {
  const good = JSON.parse(JSON.stringify(referencePlatforms().find((p) => p.name === 'rhel:8')));
  const file = JSON.stringify({ ...good, symbolVersions: { source: 's', ...good.symbolVersions.byArch } });
  const sound = JSON.parse(file) as Record<string, unknown>;
  assert.equal(validatePlatform(sound, 'rhel-8.json').name, 'rhel:8');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...sound, name: 'rhel 8' }, /rhel-8\.json: name: expected ID:VERSION_ID/],
    [{ ...sound, kernel: { release: 'four', source: 's' } }, /kernel\.release: expected x\.y\.z/],
    [{ ...sound, libc: { kind: 'glibc', version: '2.34', source: 's' } }, /lists no GLIBC_2\.34/],
    [{ ...sound, baseLibraries: [{ soname: '../libc.so.6', families: ['GLIBC'] }] }, /baseLibraries\[0\]\.soname/],
    [{ ...sound, inventory: '../../etc/passwd' }, /inventory: expected a file name/],
    [{ ...sound, layout: 'redhat' }, /rhel-8\.json: layout: expected one of .*upstream/],
  ];
  for (const [bad, message] of cases)
    assert.throws(
      () => validatePlatform(bad, 'rhel-8.json'),
      (e: Error) => e instanceof DataFileError && message.test(e.message),
    );
});

function verdictLines(r: CheckResult): string[] {
  return r.problems.map(problemKey).sort();
}

test('honesty: on the lab roots, the prediction from facts equals the one from the real inventory', (t) => {
  t.diagnostic(`bundles: ${[...bundles.keys()].join(', ')}`);
  for (const [name, dir] of bundles) {
    for (const platform of WITH_INVENTORY) {
      const choice = choosePlatform(platform);
      const fromInventory = predictOnPlatform(choice, dir, 'digest');
      assert.equal(fromInventory.basis, 'inventory', `${platform} has an inventory`);
      const fromFacts = predictFromFacts(choice, dir, 'digest');
      assert.ok(
        sameVerdict(fromFacts, fromInventory.result),
        [
          `${name} on ${platform}: facts ${fromFacts.loads}, inventory ${fromInventory.result.loads}`,
          'facts:',
          ...verdictLines(fromFacts),
          'inventory:',
          ...verdictLines(fromInventory.result),
        ].join('\n  '),
      );
    }
  }
  // Not vacuous: Debian 11's glibc (2.31) is too old for a program built on Debian 12.
  const old = predictFromFacts(choosePlatform('debian:11'), bundles.get('tiny-host')!, 'digest');
  assert.equal(old.loads, false);
  assert.ok(old.problems.some((p) => p.kind === 'missing-version' && p.version.startsWith('GLIBC_2.3')));
});

test('pyrelo check --platform answers without a server, labelled, and refuses an unknown platform', async () => {
  const bundle = bundles.get('tiny-host')!;
  const output: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => output.push(String(chunk)) > 0) as typeof process.stdout.write;
  let rhel8: number;
  let debian12: number;
  let json: number;
  try {
    rhel8 = runCheck([bundle], { platform: 'rhel:8', env: [], cache: false });
    debian12 = runCheck([bundle], { platform: 'debian:12', env: [], cache: false });
    json = runCheck([bundle], { platform: 'rocky:9', env: [], json: true, cache: false });
  } finally {
    process.stdout.write = write;
  }
  assert.equal(rhel8, 1, 'a program built against glibc 2.36 does not run on RHEL 8 (glibc 2.28)');
  assert.equal(debian12, 0);
  assert.equal(json, 0, 'RHEL 9 (glibc 2.34) has what a trivial program needs');
  const text = output.join('');
  assert.match(text, /on rhel:8 \(predicted from reference\)/);
  assert.match(text, /\/lib64\/libc\.so\.6: version `GLIBC_2\.34' not found/);
  assert.match(text, /on debian:12 \(predicted from inventory\)/);
  const answer = JSON.parse(output[output.length - 1]!) as { platform: { name: string; basis: string }; host: string };
  assert.equal(answer.host, 'rocky:9 (predicted from reference)', 'named as the user named it');
  assert.deepEqual(answer.platform, { name: 'rocky:9', basis: 'reference', uncertain: [] });
  assert.throws(
    () => runCheck([bundle], { platform: 'windows:11', env: [], cache: false }),
    (e: Error) => e instanceof UserInputError && /--platform windows:11: not a reference platform/.test(e.message),
  );
});

/** What `pyrelo compat DIGEST --json` prints. */
async function compatJson(control: string, digest: string): Promise<CompatResponse> {
  const output: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => output.push(String(chunk)) > 0) as typeof process.stdout.write;
  try {
    assert.equal(await runCompat(digest, { control, json: true }), 0);
  } finally {
    process.stdout.write = write;
  }
  return JSON.parse(output.join('')) as CompatResponse;
}

test('a fresh server with no hosts answers for every reference platform', { timeout: 600_000 }, async (t) => {
  const skip = buildSkipReason();
  if (skip !== undefined) return t.skip(skip);
  ts = await startTestServer(join(work, 'server'));
  const control = new ControlClient(ts.server.controlAddress);
  const digests = new Map<string, string>();
  try {
    for (const libc of ['host', 'bundle'] as const) {
      const archive = join(work, `yamlsmoke-${libc}.tar.gz`);
      await packBundle(bundles.get(`yamlsmoke-${libc}`)!, archive);
      await quietly(() => bundlesAdd(archive, { control: control.address }));
      const listed = (await control.call('ListBundles', {})).bundles.map((b) => b.digest);
      digests.set(
        libc,
        listed.find((d) => ![...digests.values()].includes(d))!,
      );
    }
  } finally {
    control.close();
  }
  assert.equal((await compatJson(ts.server.controlAddress, digests.get('host')!)).hosts.length, 0, 'no hosts');

  // Built on Debian 12 (this machine) against its glibc: Debian 12 and 13 yes; Debian 11 and RHEL 8, no, for glibc.
  const host = await compatJson(ts.server.controlAddress, digests.get('host')!);
  const row = (c: CompatResponse, name: string) => {
    const found = c.platforms.find((p) => p.platform === name);
    assert.ok(found !== undefined, `${name} has a row`);
    return found;
  };
  assert.deepEqual(
    host.platforms.map((p) => p.platform),
    referencePlatforms().map((p) => p.name),
    'every reference platform answers',
  );
  for (const name of ['debian:12', 'debian:13']) assert.equal(row(host, name).verdict, 'predicted', name);
  for (const name of ['debian:11', 'rhel:8']) {
    const r = row(host, name);
    assert.equal(r.verdict, 'fails', name);
    const first = r.result!.problems.find((p) => p.severity === 'error')!;
    assert.equal(first.kind, 'missing-version', `${name}: the first reason is glibc's`);
    assert.match(first.message, /libc\.so\.6: version `GLIBC_2\.3\d' not found/, name);
  }
  assert.equal(row(host, 'rhel:8').basis, 'reference');
  assert.equal(row(host, 'debian:11').basis, 'inventory');
  const text = renderCompat(host).join('\n');
  assert.match(text, /rhel:8 +will not run +predicted from reference +.*GLIBC_2\.3\d' not found/);
  assert.match(text, /debian:12 +predicted to run +predicted from inventory/);

  // With its own glibc, it runs on every glibc platform and every libc-less one alike, on x86_64.
  const own = await compatJson(ts.server.controlAddress, digests.get('bundle')!);
  for (const p of own.platforms)
    assert.equal(
      p.verdict,
      'predicted',
      `--libc bundle on ${p.platform}: ${p.result?.problems.map((x) => x.message).join('; ')}`,
    );
  assert.equal(own.platforms.length, referencePlatforms().length);
});
