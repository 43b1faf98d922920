// The host side of `pyrelo deploy` through the real `pyrelo agent release …` commands: install and
// switch, list, a redeploy that reuses what is there, a delta that gives the same tree as the full
// archive, a release that does not run rolled back, rollback and verify, the lock, and pruning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArchiveEntries } from '../../src/bundle/archive-manifest.js';
import { listBundleFiles, walkBundle } from '../../src/bundle/file-list.js';
import { normalisedName } from '../../src/bundle/extract.js';
import { makeDeltaArchive } from '../../src/release/delta.js';
import type {
  ReleaseInstallResult,
  ReleaseListing,
  ReleaseRollbackResult,
  ReleaseVerification,
} from '../../src/release/types.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { fakeBundle, installArgs, release, upload, type FakeBundle } from './fixtures.js';

async function install(
  prefix: string,
  bundle: FakeBundle,
  extra: readonly string[] = [],
): Promise<{ exitCode: number; result: ReleaseInstallResult; stderr: string }> {
  const r = await release(installArgs(prefix, bundle, upload(prefix, bundle.archive), extra));
  return { exitCode: r.exitCode, result: r.json as ReleaseInstallResult, stderr: r.stderr };
}

async function list(prefix: string): Promise<ReleaseListing> {
  const r = await release(['list', '--prefix', prefix, '--json']);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.json as ReleaseListing;
}

test(
  'install switches current to the new release; ' + 'list shows current and previous; the archive is deleted',
  async () => {
    const work = await makeTempDir();
    try {
      const prefix = join(work, 'opt', 'hello');
      assert.deepEqual(await list(prefix), { prefix, current: null, previous: null, releases: [], leftovers: [] });
      // A real ELF file: the loader check must find it through P/current.
      const v1 = await fakeBundle(work, { version: '1', files: { 'libexec/true': readFileSync('/bin/true') } });
      const v2 = await fakeBundle(work, { version: '2' });

      const first = await install(prefix, v1);
      assert.equal(first.exitCode, 0, first.stderr);
      assert.equal(first.result.release, `hello-${v1.digest.slice(0, 12)}`);
      assert.deepEqual(
        { ...first.result, check: undefined },
        {
          prefix,
          release: v1.id,
          previous: null,
          current: v1.id,
          reused: false,
          status: 'verified',
          rolledBack: false,
          check: undefined,
        },
      );
      assert.equal(first.result.check.runs, true);
      assert.equal(first.result.check.filesChecked, 1, 'libexec/true checked');
      assert.equal(first.result.check.smokeOutput.trim(), '1');
      assert.equal(readlinkSync(join(prefix, 'current')), `releases/${v1.id}`);
      assert.deepEqual(listBundleFiles(join(prefix, 'current')), listBundleFiles(v1.dir));

      const second = await install(prefix, v2);
      assert.equal(second.exitCode, 0, second.stderr);
      assert.equal(second.result.current, v2.id);
      assert.equal(second.result.previous, v1.id);
      assert.equal(readFileSync(join(prefix, 'current', 'share', 'version.txt'), 'utf8'), '2\n');
      assert.deepEqual(readdirSync(join(prefix, '.pyrelo', 'incoming')), [], 'archives deleted after the install');

      const listing = await list(prefix);
      assert.equal(listing.current, v2.id);
      assert.equal(listing.previous, v1.id);
      assert.deepEqual(
        listing.releases.map((r) => [r.id, r.name, r.bundleDigest, r.manifestSha256, r.status, r.isCurrent]),
        [
          [v1.id, 'hello', v1.digest, v1.manifestSha256, 'verified', false],
          [v2.id, 'hello', v2.digest, v2.manifestSha256, 'verified', true],
        ],
      );
      assert.deepEqual(listing.leftovers, []);
      const state = JSON.parse(readFileSync(join(prefix, '.pyrelo', 'state.json'), 'utf8'));
      assert.deepEqual(
        state.activations.map((a: { release: string; previous: string | null }) => [a.release, a.previous]),
        [
          [v1.id, null],
          [v2.id, v1.id],
        ],
      );
      assert.equal(existsSync(join(prefix, '.pyrelo', 'lock')), false, 'lock released');

      const readable = await release(['list', '--prefix', prefix]);
      assert.match(readable.stdout, new RegExp(`^\\* ${v2.id}  verified`, 'm'));
    } finally {
      await removeDir(work);
    }
  },
);

test('a redeploy of the same bundle reuses the release: with the archive sent again, and without it', async () => {
  const work = await makeTempDir();
  try {
    const prefix = join(work, 'p');
    const v1 = await fakeBundle(work, { version: '1' });
    const v2 = await fakeBundle(work, { version: '2' });
    assert.equal((await install(prefix, v1)).exitCode, 0);
    assert.equal((await install(prefix, v2)).exitCode, 0);
    const again = await install(prefix, v2);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(again.result.reused, true);
    assert.equal(again.result.current, v2.id);
    assert.equal(again.result.previous, v1.id, 'previous is still the one before');
    const noArchive = await release(installArgs(prefix, v2));
    assert.equal(noArchive.exitCode, 0, noArchive.stderr);
    assert.equal((noArchive.json as ReleaseInstallResult).reused, true);
    // Back to v1 by redeploying it (no archive: it is still on the host as the previous release).
    const back = await release(installArgs(prefix, v1));
    assert.equal(back.exitCode, 0, back.stderr);
    assert.deepEqual(
      [(back.json as ReleaseInstallResult).current, (back.json as ReleaseInstallResult).previous],
      [v1.id, v2.id],
    );
    const missing = await release(installArgs(prefix, await fakeBundle(work, { version: '3' })));
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /--archive: missing, and no release under .* has bundle digest/);
  } finally {
    await removeDir(work);
  }
});

test(
  'a delta install from the base gives the same tree ' + 'as the full archive; the delta holds only what changed',
  async () => {
    const work = await makeTempDir();
    try {
      const big = randomBytes(300_000); // incompressible: the delta must leave it out to be small
      const v1 = await fakeBundle(work, {
        version: '1',
        files: { 'lib/old-only.txt': 'removed in 2', 'lib/big.bin': big },
      });
      const v2 = await fakeBundle(work, {
        version: '2',
        files: { 'lib/new-only.txt': 'added in 2', 'lib/big.bin': big },
      });
      const delta = join(work, 'delta.tar.gz');
      const stats = await makeDeltaArchive(v2.archive, v1.manifest.files, delta);
      // Changed: share/version.txt, app/__init__.py (content), lib/new-only.txt (added).
      assert.deepEqual([stats.changedFiles, stats.totalFiles], [3, v2.manifest.files.length]);
      assert.equal(stats.bytes, readFileSync(delta).length);
      const entries = (await readArchiveEntries(delta))
        .filter((e) => e.type !== 'directory')
        .map((e) => normalisedName(e, delta))
        .sort();
      assert.deepEqual(entries, [
        'lib/new-only.txt',
        'lib/python3.11/site-packages/app/__init__.py',
        'pyrelo.json',
        'share/version.txt',
      ]);
      await makeDeltaArchive(v2.archive, v1.manifest.files, join(work, 'delta2.tar.gz'));
      assert.ok(readFileSync(delta).equals(readFileSync(join(work, 'delta2.tar.gz'))), 'reproducible delta');
      assert.ok(stats.bytes < readFileSync(v2.archive).length / 2);

      const byDelta = join(work, 'a');
      const byFull = join(work, 'b');
      assert.equal((await install(byDelta, v1)).exitCode, 0);
      const sent = upload(byDelta, delta);
      const r = await release(installArgs(byDelta, v2, sent, ['--base', v1.id]));
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal((r.json as ReleaseInstallResult).current, v2.id);
      assert.equal(existsSync(sent.path), false);
      assert.equal((await install(byFull, v2)).exitCode, 0);
      const a = join(byDelta, 'releases', v2.id);
      const b = join(byFull, 'releases', v2.id);
      assert.deepEqual(listBundleFiles(a), listBundleFiles(b));
      assert.deepEqual(walkBundle(a), walkBundle(b));
      assert.ok(readFileSync(join(a, 'pyrelo.json')).equals(readFileSync(join(b, 'pyrelo.json'))));
    } finally {
      await removeDir(work);
    }
  },
);

test(
  'a release whose smoke command fails is rolled back ' + 'and reported failed; on a first install current is removed',
  async () => {
    const work = await makeTempDir();
    try {
      const prefix = join(work, 'p');
      const v1 = await fakeBundle(work, { version: '1' });
      const bad = await fakeBundle(work, { version: 'bad', smokeExit: 7 });
      assert.equal((await install(prefix, v1)).exitCode, 0);
      const r = await install(prefix, bad);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.equal(r.result.status, 'failed');
      assert.equal(r.result.rolledBack, true);
      assert.equal(r.result.current, v1.id);
      assert.equal(r.result.previous, v1.id);
      assert.match(r.result.reason ?? '', /smoke command exited 7: bad/);
      assert.equal(r.result.check.smokeExit, 7);
      assert.equal(readlinkSync(join(prefix, 'current')), `releases/${v1.id}`);
      const listing = await list(prefix);
      assert.deepEqual(
        listing.releases.map((x) => x.id),
        [v1.id],
        'the failed release is removed',
      );
      const state = JSON.parse(readFileSync(join(prefix, '.pyrelo', 'state.json'), 'utf8'));
      assert.deepEqual(state.activations.at(-1).status, 'failed');

      const fresh = join(work, 'q');
      const first = await install(fresh, bad);
      assert.equal(first.exitCode, 1);
      assert.equal(first.result.current, null);
      assert.equal(existsSync(join(fresh, 'current')), false);
    } finally {
      await removeDir(work);
    }
  },
);

test('rollback verifies the release it switches to; verify names every problem', async () => {
  const work = await makeTempDir();
  try {
    const prefix = join(work, 'p');
    const v1 = await fakeBundle(work, { version: '1' });
    const v2 = await fakeBundle(work, { version: '2' });
    const none = await release(['rollback', '--prefix', prefix, '--json']);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /no releases here/);
    await install(prefix, v1);
    const only = await release(['rollback', '--prefix', prefix, '--json']);
    assert.equal(only.exitCode, 2);
    assert.match(only.stderr, /no previous release to roll back to/);
    await install(prefix, v2);

    const ok = await release(['verify', '--prefix', prefix, '--json']);
    assert.equal(ok.exitCode, 0);
    assert.deepEqual(ok.json, { release: v2.id, ok: true, problems: [] });

    const back = await release(['rollback', '--prefix', prefix, '--json']);
    assert.equal(back.exitCode, 0, back.stderr);
    assert.deepEqual(back.json as ReleaseRollbackResult, {
      prefix,
      current: v1.id,
      previous: v2.id,
      ok: true,
      problems: [],
    });
    assert.equal(readlinkSync(join(prefix, 'current')), `releases/${v1.id}`);
    const forth = await release(['rollback', '--prefix', prefix, '--json']);
    assert.equal((forth.json as ReleaseRollbackResult).current, v2.id, 'rolling back again returns to v2');

    // Damage v1: a changed file, an extra file, a changed mode.
    const v1dir = join(prefix, 'releases', v1.id);
    chmodSync(join(v1dir, 'share'), 0o755);
    writeFileSync(join(v1dir, 'share', 'version.txt'), 'tampered\n');
    writeFileSync(join(v1dir, 'share', 'extra'), '');
    chmodSync(join(v1dir, 'bin', 'python3.11'), 0o700);
    const bad = await release(['verify', '--prefix', prefix, '--release', v1.id, '--json']);
    assert.equal(bad.exitCode, 1);
    assert.deepEqual((bad.json as ReleaseVerification).problems, [
      { path: 'bin/python3.11', problem: 'mode 700, expected 755' },
      { path: 'share/version.txt', problem: 'checksum mismatch' },
      { path: 'share/extra', problem: 'not in the manifest' },
    ]);
    const refused = await release(['rollback', '--prefix', prefix, '--to', v1.id, '--json']);
    assert.equal(refused.exitCode, 1);
    assert.equal((refused.json as ReleaseRollbackResult).ok, false);
    assert.equal(
      readlinkSync(join(prefix, 'current')),
      `releases/${v2.id}`,
      'not switched to a release that does not verify',
    );
    const gone = await release(['verify', '--prefix', prefix, '--release', 'nope-000000000000', '--json']);
    assert.equal(gone.exitCode, 2);
    assert.match(gone.stderr, /no release nope-000000000000/);
    const unknown = await release(['rollback', '--prefix', prefix, '--to', 'nope-000000000000', '--json']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /no release nope-000000000000/);
  } finally {
    await removeDir(work);
  }
});

test('the lock: a live holder is refused (exit 2), a dead one is taken over', async () => {
  const work = await makeTempDir();
  try {
    const prefix = join(work, 'p');
    const v1 = await fakeBundle(work, { version: '1' });
    mkdirSync(join(prefix, '.pyrelo'), { recursive: true });
    const lock = join(prefix, '.pyrelo', 'lock');
    writeFileSync(lock, `${process.pid}\n`);
    const refused = await install(prefix, v1);
    assert.equal(refused.exitCode, 2);
    assert.match(
      refused.stderr,
      new RegExp(`${lock}: held by process ${process.pid}: another install or rollback is running`),
    );
    assert.equal(existsSync(join(prefix, 'current')), false);
    assert.equal(readFileSync(lock, 'utf8'), `${process.pid}\n`, 'a live lock is left alone');
    const dead = spawnSync('true').pid!;
    writeFileSync(lock, `${dead}\n`);
    const taken = await install(prefix, v1);
    assert.equal(taken.exitCode, 0, taken.stderr);
    assert.equal(existsSync(lock), false);
  } finally {
    await removeDir(work);
  }
});

test('old releases are pruned: current, previous, at most three verified in all', async () => {
  const work = await makeTempDir();
  try {
    const prefix = join(work, 'p');
    const bundles: FakeBundle[] = [];
    for (let i = 1; i <= 5; i += 1) {
      const b = await fakeBundle(work, { version: String(i) });
      bundles.push(b);
      assert.equal((await install(prefix, b)).exitCode, 0);
    }
    const listing = await list(prefix);
    assert.deepEqual(
      listing.releases.map((r) => r.id),
      bundles.slice(2).map((b) => b.id),
    );
    assert.equal(listing.current, bundles[4]!.id);
    assert.equal(listing.previous, bundles[3]!.id);
    const state = JSON.parse(readFileSync(join(prefix, '.pyrelo', 'state.json'), 'utf8'));
    assert.deepEqual(
      Object.keys(state.releases).sort(),
      bundles
        .slice(2)
        .map((b) => b.id)
        .sort(),
    );
    assert.equal(state.activations.length, 5);
  } finally {
    await removeDir(work);
  }
});
