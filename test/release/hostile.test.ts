// Hostile and damaged archives sent to `pyrelo agent release install` on a prefix that already
// runs a release: every one is refused with exit 2 and a message naming the archive and the entry
// or problem; everything under the test's folder (the prefix and what lies next to it) is
// byte-identical afterwards, except that an archive with a wrong --sha256 is deleted from incoming.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { manifestText, type Manifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import { makeDeltaArchive } from '../../src/release/delta.js';
import { handTar, type HandEntry } from '../bundle/tar-builder.js';
import { sampleManifest } from '../bundle/sample-manifest.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { fakeBundle, installArgs, release, sha256, snapshot, upload, type FakeBundle } from './fixtures.js';

interface Sent {
  /** Archive bytes as uploaded. */
  readonly bytes: Buffer;
  /** Overrides of what the command line says. */
  readonly sha256?: string;
  readonly manifestSha256?: string;
  readonly bundleDigest?: string;
  readonly base?: string;
}

const ESCAPED = `/tmp/pyrelo-escaped-${randomBytes(4).toString('hex')}.txt`;

function evilManifest(name = 'evil'): Manifest {
  return { ...sampleManifest(), name, grafted: [], elf: [], files: [] };
}

/** A gzipped hand-made tar whose first entry is a valid pyrelo.json, then `entries`. */
function withManifest(entries: readonly HandEntry[], manifest = evilManifest()): Sent {
  const text = manifestText(manifest);
  return {
    bytes: gzipSync(handTar([{ name: 'pyrelo.json', data: text }, ...entries])),
    manifestSha256: sha256(Buffer.from(text)),
  };
}

interface Corpus {
  v2: FakeBundle;
  lying: FakeBundle;
  v1: FakeBundle;
}

const CASES: Array<[string, (c: Corpus) => Sent | Promise<Sent>, RegExp]> = [
  [
    'path traversal',
    () => withManifest([{ name: '../escaped.txt', data: 'pwned' }]),
    /: \.\.\/escaped\.txt: path leaves the destination/,
  ],
  [
    'nested traversal',
    () => withManifest([{ name: 'a/b/../../../../escaped.txt', data: 'pwned' }]),
    /: a\/b\/\.\.\/\.\.\/\.\.\/\.\.\/escaped\.txt: path leaves/,
  ],
  [
    'absolute path',
    () => withManifest([{ name: ESCAPED, data: 'pwned' }]),
    /: \/tmp\/pyrelo-escaped-[0-9a-f]+\.txt: absolute path refused/,
  ],
  [
    'symlink escape',
    () => withManifest([{ name: 'link', type: 'symlink', linkName: '../../../current' }]),
    /: link: symlink pointing out of the destination refused/,
  ],
  [
    'symlink then write through it',
    () =>
      withManifest([
        { name: 'sub', type: 'symlink', linkName: '.' },
        { name: 'sub/x', data: 'y' },
      ]),
    /: sub\/x: entry would be written through a symlink/,
  ],
  [
    'dotted symlink trick',
    () =>
      withManifest([
        { name: 'here', type: 'symlink', linkName: '.' },
        { name: 'out', type: 'symlink', linkName: 'here/../../escaped.txt' },
      ]),
    /: out: symlink pointing out/,
  ],
  [
    'device file',
    () => withManifest([{ name: 'null', type: 'character-device' }]),
    /: null: character-device entries are not allowed/,
  ],
  ['fifo', () => withManifest([{ name: 'pipe', type: 'fifo' }]), /: pipe: fifo entries are not allowed/],
  [
    'hard link',
    () => withManifest([{ name: 'b', type: 'hardlink', linkName: '/etc/passwd' }]),
    /: b: hardlink entries are not allowed/,
  ],
  [
    'pyrelo.json as a symlink',
    () => ({
      bytes: gzipSync(handTar([{ name: 'pyrelo.json', type: 'symlink', linkName: '../current/pyrelo.json' }])),
    }),
    /: pyrelo\.json: symlink entries are not allowed/,
  ],
  [
    'no pyrelo.json',
    () => ({ bytes: gzipSync(handTar([{ name: 'a', data: 'x' }])) }),
    /: no pyrelo\.json \(not a pyrelo bundle archive\)/,
  ],
  [
    'bundle name that is a path',
    () => withManifest([], evilManifest('../../etc')),
    /: pyrelo\.json: invalid manifest: name: "\.\.\/\.\.\/etc": holds "\/"/,
  ],
  [
    'a file the manifest does not list',
    () => withManifest([{ name: 'bin/extra', data: 'x' }]),
    /: does not match its manifest \(1 problem\(s\)\): bin\/extra: not in the manifest/,
  ],
  [
    'wrong file checksum in the manifest',
    (c) => ({ bytes: readFileSync(c.lying.archive), manifestSha256: c.lying.manifestSha256 }),
    /: does not match its manifest \(1 problem\(s\)\): share\/version\.txt: checksum mismatch/,
  ],
  [
    'wrong --sha256',
    (c) => ({ bytes: readFileSync(c.v2.archive), sha256: 'f'.repeat(64) }),
    /: checksum mismatch \(sha256 [0-9a-f]{64}, expected f{64}\); deleted, sent again on the next deploy/,
  ],
  [
    'wrong --manifest-sha256',
    (c) => ({ bytes: readFileSync(c.v2.archive), manifestSha256: 'e'.repeat(64) }),
    /: pyrelo\.json: checksum mismatch \(sha256 [0-9a-f]{64}, expected e{64}\)/,
  ],
  [
    'truncated gzip',
    (c) => {
      const b = readFileSync(c.v2.archive);
      return { bytes: b.subarray(0, b.length - 100) };
    },
    /: corrupt or truncated gzip data/,
  ],
  [
    'truncated tar',
    () => {
      const t = handTar([
        { name: 'pyrelo.json', data: manifestText(evilManifest()) },
        { name: 'big', data: 'z'.repeat(5000) },
      ]);
      return { bytes: gzipSync(t.subarray(0, 3072)) };
    },
    /: truncated: 5000 bytes announced/,
  ],
  [
    'corrupt tar header',
    () => {
      const t = handTar([{ name: 'pyrelo.json', data: manifestText(evilManifest()) }]);
      t[0] = 0x41;
      return { bytes: gzipSync(t) };
    },
    /: corrupt tar header \(checksum\)/,
  ],
];

test('release install refuses every hostile archive and leaves the prefix byte-identical', async () => {
  const work = await makeTempDir();
  try {
    const prefix = join(work, 'opt', 'hello');
    mkdirSync(join(work, 'outside'));
    writeFileSync(join(work, 'outside', 'canary'), 'untouched');
    const bundles = join(work, 'bundles');
    mkdirSync(bundles);
    const v1 = await fakeBundle(bundles, { version: '1' });
    const v2 = await fakeBundle(bundles, { version: '2' });
    // A well-formed archive whose manifest lies about one file.
    const lying = await fakeBundle(bundles, { version: 'lying' });
    writeFileSync(join(lying.dir, 'share', 'version.txt'), 'not what the manifest says\n');
    await packBundle(lying.dir, lying.archive);
    const corpus: Corpus = { v1, v2, lying };
    const installed = await release(installArgs(prefix, v1, upload(prefix, v1.archive)));
    assert.equal(installed.exitCode, 0, installed.stderr);

    const check = async (what: string, sent: Sent, expected: RegExp): Promise<void> => {
      const path = join(prefix, '.pyrelo', 'incoming', `${sha256(sent.bytes)}.tar.gz`);
      writeFileSync(path, sent.bytes);
      const before = snapshot(work);
      const digest = sent.bundleDigest ?? sha256(randomBytes(8)); // a new release id each time
      const r = await release([
        'install',
        '--prefix',
        prefix,
        '--archive',
        path,
        '--sha256',
        sent.sha256 ?? sha256(sent.bytes),
        '--bundle-digest',
        digest,
        '--manifest-sha256',
        sent.manifestSha256 ?? sha256(randomBytes(8)),
        ...(sent.base ? ['--base', sent.base] : []),
        '--json',
      ]);
      assert.equal(r.exitCode, 2, `${what}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
      assert.ok(r.stderr.startsWith(`pyrelo: ${path}: `), `${what}: message names the archive: ${r.stderr}`);
      assert.match(r.stderr, expected, what);
      const after = snapshot(work);
      if (sent.sha256 !== undefined) {
        assert.equal(existsSync(path), false, `${what}: a damaged upload is deleted`);
        before.delete(path.slice(work.length + 1));
      }
      assert.deepEqual(after, before, `${what}: nothing changed`);
      assert.equal(existsSync(ESCAPED), false);
      assert.equal(existsSync(join(prefix, 'escaped.txt')), false);
    };

    for (const [what, make, expected] of CASES) await check(what, await make(corpus), expected);

    // A delta whose unchanged files would come from a base that was changed on the host.
    const delta = join(bundles, 'delta.tar.gz');
    await makeDeltaArchive(v2.archive, v1.manifest.files, delta);
    writeFileSync(join(prefix, 'releases', v1.id, 'lib', 'python3.11', 'os.py'), '# tampered on the host\n');
    await check(
      'delta over a tampered base',
      { bytes: readFileSync(delta), bundleDigest: v2.digest, manifestSha256: v2.manifestSha256, base: v1.id },
      /: does not match its manifest \(1 problem\(s\)\): lib\/python3\.11\/os\.py: not in the delta, and base release hello-[0-9a-f]{12}'s copy cannot be used \(checksum mismatch\)/,
    );
    await check(
      'delta against a base that is not there',
      {
        bytes: readFileSync(delta),
        bundleDigest: v2.digest,
        manifestSha256: v2.manifestSha256,
        base: 'hello-000000000000',
      },
      /: is a delta against hello-000000000000 \(--base\), and there is no such release under/,
    );
  } finally {
    await removeDir(work);
  }
});
