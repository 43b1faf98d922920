// Issue 13 item 2: a local user who can write a release prefix, or a folder above it, must not get
// code run by the installer (root, usually). The attacker is the real user `nobody`; the installer
// is the real `pyrelo agent release install` process, run as root. Replays:
//   - a prefix whose parent belongs to nobody (nobody could rename the prefix away and put their
//     own `current` in its place), a parent writable by all without the sticky bit, and a prefix
//     that belongs to nobody: each refused with exit 2 and one line naming the folder, nothing
//     created under it;
//   - `releases/` and `.pyrelo/` planted as symlinks to folders elsewhere (made while the prefix
//     was writable): refused, nothing written into their targets;
//   - the smoke command runs from the real path of the release just verified (its $0 is
//     P/releases/<id>/bin/smoke), never through `current`, which a swap could redirect.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BundleError } from '../../src/bundle/errors.js';
import { installRelease } from '../../src/release/install.js';
import { fakeBundle, installArgs, release, sha256, upload, type FakeBundle } from '../release/fixtures.js';

const NOBODY = 65534;
let work: string;
let bundle: FakeBundle;
const isRoot = process.geteuid?.() === 0;

before(async () => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-prefix-')));
  chmodSync(work, 0o755);
  bundle = await fakeBundle(work, { version: '1.0' });
});

after(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Uploads the bundle the way the client does (as root, into P/.pyrelo/incoming) and installs it. */
async function install(prefix: string): Promise<{ exitCode: number; stderr: string; json: unknown }> {
  const archive = upload(prefix, bundle.archive);
  return release(installArgs(prefix, bundle, archive));
}

function assertRefused(result: { exitCode: number; stderr: string }, pattern: RegExp): void {
  assert.equal(result.exitCode, 2, `exit 2 (stderr: ${result.stderr})`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.match(lines[0]!, pattern);
}

test('a prefix under a folder that belongs to nobody is refused', async (t) => {
  if (!isRoot) return t.skip('needs root (chown to nobody, install as root)');
  const shared = join(work, 'shared-by-nobody');
  mkdirSync(shared, { mode: 0o755 });
  chownSync(shared, NOBODY, NOBODY);
  // Root's prefix inside it: nobody could rename it away and put their own in its place.
  const prefix = join(shared, 'app');
  const result = await install(prefix);
  assertRefused(
    result,
    new RegExp(`^pyrelo: ${shared}: owned by uid ${NOBODY}, not root or the installing user .*refused`),
  );
  assert.deepEqual(
    readdirSync(join(prefix, '.pyrelo')).filter((n) => n !== 'incoming'),
    [],
    'no state written',
  );
  assert.equal(readdirSync(prefix).includes('current'), false, 'no current');
});

test('a prefix under a folder writable by everyone (no sticky bit) is refused', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const open = join(work, 'world-writable');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const prefix = join(open, 'app');
  const result = await install(prefix);
  assertRefused(result, new RegExp(`^pyrelo: ${open}: writable by its group and others \\(mode 777\\).*refused`));
  assert.equal(readdirSync(prefix).includes('releases'), false, 'nothing installed');
});

test('a prefix that belongs to nobody is refused', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const home = join(work, 'home-of-nobody');
  mkdirSync(home, { mode: 0o755 });
  chownSync(home, NOBODY, NOBODY);
  const prefix = join(home, 'app');
  // nobody makes the folder, as they can where they may write, then root deploys into it.
  await execa('runuser', ['-u', 'nobody', '--', 'mkdir', '-m', '0755', prefix]);
  const archive = upload(prefix, bundle.archive);
  const result = await release(installArgs(prefix, bundle, archive));
  assertRefused(result, new RegExp(`^pyrelo: ${prefix}: owned by uid ${NOBODY}`));
  assert.equal(readdirSync(prefix).includes('current'), false);
});

for (const planted of ['releases', '.pyrelo'] as const) {
  test(`${planted}/ planted as a symlink is refused and its target is not written`, async (t) => {
    if (!isRoot) return t.skip('needs root');
    const prefix = join(work, `planted-${planted.replace('.', '')}`);
    const target = join(work, `target-of-${planted.replace('.', '')}`);
    mkdirSync(prefix, { mode: 0o755 });
    mkdirSync(target, { mode: 0o777 });
    chownSync(target, NOBODY, NOBODY);
    // The upload goes to a real incoming folder when .pyrelo is the planted one: the archive must
    // reach the installer for the attack to matter.
    if (planted === 'releases') {
      symlinkSync(target, join(prefix, 'releases'));
      const result = await install(prefix);
      assertRefused(result, new RegExp(`^pyrelo: ${prefix}/releases: a symlink pyrelo did not create.*refused`));
    } else {
      mkdirSync(join(target, 'incoming'), { mode: 0o777 });
      chownSync(join(target, 'incoming'), NOBODY, NOBODY);
      symlinkSync(target, join(prefix, '.pyrelo'));
      const archive = upload(prefix, bundle.archive);
      const before = readdirSync(target, { recursive: true }).map(String).sort();
      const result = await release(installArgs(prefix, bundle, archive));
      assertRefused(result, new RegExp(`^pyrelo: ${prefix}/\\.pyrelo: a symlink pyrelo did not create.*refused`));
      assert.deepEqual(
        readdirSync(target, { recursive: true }).map(String).sort(),
        before,
        'nothing written into the target (no state.json, no lock)',
      );
      return;
    }
    assert.deepEqual(readdirSync(target), [], 'nothing written into the target');
  });
}

test('the smoke command runs from the real path of the release just verified, not through current', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const prefix = join(work, 'good');
  const result = await install(prefix);
  assert.equal(result.exitCode, 0, result.stderr);
  const json = result.json as { status: string; release: string; check: { smokeOutput?: string; smokeRan?: boolean } };
  // The fixture's smoke exits 3 unless its $0 is P/releases/<id>/bin/smoke.
  assert.equal(json.status, 'verified', JSON.stringify(json.check));
  assert.equal(json.release, bundle.id);
});

// The route through an agent: the daemon hands an order's prefix to installRelease as the server
// sent it. The server refuses a `..` prefix, but a misbehaving one must not get `/opt/../etc` either:
// the installer itself refuses it, before it creates anything (src/release/secure-prefix.ts).
test('an install whose prefix has a ".." segment is refused by the installer itself, nothing created', async () => {
  const target = join(work, 'dotdot-target');
  const prefix = `${work}/elsewhere/../dotdot-target`;
  await assert.rejects(
    installRelease({
      prefix,
      archive: bundle.archive,
      sha256: sha256(readFileSync(bundle.archive)),
      bundleDigest: bundle.digest,
      manifestSha256: bundle.manifestSha256,
    }),
    (error: Error) =>
      error instanceof BundleError &&
      error.message === `${prefix}: not an install prefix: holds a ".." segment (give the folder itself)`,
  );
  assert.equal(existsSync(target), false, 'nothing created where the prefix resolves');
  assert.equal(existsSync(join(work, 'elsewhere')), false, 'nor where it starts');
});
