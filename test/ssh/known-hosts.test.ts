// known_hosts as OpenSSH reads it: names, ports, wildcards, negations, hashed names made by the
// real `ssh-keygen -H`, @revoked, and fingerprints equal to `ssh-keygen -lf`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  appendTrusted,
  fingerprintSha256,
  hostFieldMatches,
  KnownHosts,
  keyTypeOfBlob,
  parseKnownHosts,
} from '../../src/remote/ssh/known-hosts.js';
import { hostKeyAlgorithms } from '../../src/remote/ssh/connect.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pyrelo-kh-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh key pair from ssh-keygen; returns the public key's type and base64. */
async function newKey(
  dir: string,
  name: string,
  type = 'ed25519',
): Promise<{ type: string; base64: string; pubFile: string }> {
  const file = join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const [keyType, base64] = (await readFile(`${file}.pub`, 'utf8')).split(/\s+/);
  return { type: keyType!, base64: base64!, pubFile: `${file}.pub` };
}

test('fingerprints equal ssh-keygen -lf for ed25519, ecdsa and rsa keys', async (t) => {
  const dir = await scratch(t);
  for (const type of ['ed25519', 'ecdsa', 'rsa']) {
    const key = await newKey(dir, `k-${type}`, type);
    const printed = (await execa('ssh-keygen', ['-lf', key.pubFile])).stdout.split(/\s+/)[1];
    assert.equal(fingerprintSha256(Buffer.from(key.base64, 'base64')), printed, type);
    assert.equal(fingerprintSha256(key.base64), printed, `${type} from base64`);
    assert.equal(keyTypeOfBlob(Buffer.from(key.base64, 'base64')), key.type);
  }
});

test('plain names, comma lists, [host]:port, wildcards and negation', () => {
  assert.ok(hostFieldMatches('db1,db1.example.com', 'db1.example.com'));
  assert.ok(hostFieldMatches('DB1', 'db1'), 'case-insensitive');
  assert.ok(!hostFieldMatches('db1', '[db1]:2222'), 'a port-22 entry does not cover another port');
  assert.ok(hostFieldMatches('[db1]:2222', '[db1]:2222'));
  assert.ok(hostFieldMatches('*.example.com', 'web.example.com'));
  assert.ok(!hostFieldMatches('*.example.com', 'example.com'));
  assert.ok(hostFieldMatches('web?', 'web7'));
  assert.ok(!hostFieldMatches('web?', 'web70'));
  assert.ok(!hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com'), 'negation wins');
  assert.ok(hostFieldMatches('*.example.com,!bad.example.com', 'good.example.com'));
  assert.ok(!hostFieldMatches('!db1', 'db1'));
  assert.ok(!hostFieldMatches('!db1', 'db2'), 'a negation alone matches nothing');
  assert.ok(hostFieldMatches('[10.0.0.*]:2222', '[10.0.0.7]:2222'));
  assert.ok(!hostFieldMatches('db1.example.com', 'db1xexample.com'), 'a dot is not a wildcard');
});

test('known, unknown, changed (same type or another type) with file and line, revoked', async (t) => {
  const dir = await scratch(t);
  const [a, b, rsa] = await Promise.all([newKey(dir, 'a'), newKey(dir, 'b'), newKey(dir, 'r', 'rsa')]);
  const file = join(dir, 'known_hosts');
  await writeFile(
    file,
    [
      '# comment',
      '',
      `db1,db1.example.com ${a.type} ${a.base64} a comment`,
      `[db1]:2222 ${b.type} ${b.base64}`,
      `rsahost ${rsa.type} ${rsa.base64}`,
      `@revoked * ${b.type} ${b.base64}`,
      `@cert-authority *.example.com ${a.type} ${a.base64}`,
      'garbage line',
      '',
    ].join('\n'),
  );
  const kh = await KnownHosts.load([join(dir, 'missing'), file]);

  assert.deepEqual(kh.lookup('db1', 22, a.type, a.base64), { status: 'known', file, line: 3 });
  assert.deepEqual(kh.lookup('db1.example.com', 22, a.type, a.base64), { status: 'known', file, line: 3 });
  assert.deepEqual(kh.lookup('db2', 22, a.type, a.base64), { status: 'unknown' });
  // @cert-authority does not vouch for a plain key
  assert.deepEqual(kh.lookup('web.example.com', 22, a.type, a.base64), { status: 'unknown' });

  const changed = kh.lookup('db1', 22, a.type, Buffer.from('not the key').toString('base64'));
  assert.equal(changed.status, 'changed');
  assert.equal(changed.file, file);
  assert.equal(changed.line, 3);
  assert.equal(changed.knownKeyBase64, a.base64);

  const otherType = kh.lookup('rsahost', 22, a.type, a.base64);
  assert.equal(otherType.status, 'changed');
  assert.equal(otherType.line, 5);
  assert.deepEqual(kh.keyTypesFor('rsahost', 22), ['ssh-rsa']);
  assert.deepEqual(hostKeyAlgorithms(['ssh-rsa']).slice(0, 4), [
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
    'ssh-ed25519',
  ]);

  // b is known for [db1]:2222 but revoked everywhere: revoked wins
  assert.deepEqual(kh.lookup('db1', 2222, b.type, b.base64), { status: 'revoked', file, line: 6 });
  assert.equal(
    parseKnownHosts('@bogus host ssh-ed25519 AAAA\n', 'x').length,
    0,
    'unknown markers are skipped like ssh does',
  );
});

test('hashed entries written by ssh-keygen -H are matched (plain port and [host]:port)', async (t) => {
  const dir = await scratch(t);
  const key = await newKey(dir, 'h');
  const file = join(dir, 'known_hosts');
  await writeFile(file, `db1.example.com ${key.type} ${key.base64}\n[10.1.2.3]:2200 ${key.type} ${key.base64}\n`);
  await execa('ssh-keygen', ['-H', '-f', file]);
  const hashed = await readFile(file, 'utf8');
  assert.doesNotMatch(hashed, /db1|10\.1\.2\.3/, 'names are hashed');
  assert.equal((hashed.match(/^\|1\|/gm) ?? []).length, 2);

  const kh = await KnownHosts.load([file]);
  assert.equal(kh.lookup('db1.example.com', 22, key.type, key.base64).status, 'known');
  assert.equal(kh.lookup('DB1.example.com', 22, key.type, key.base64).status, 'known');
  assert.equal(kh.lookup('10.1.2.3', 2200, key.type, key.base64).status, 'known');
  assert.equal(kh.lookup('10.1.2.3', 22, key.type, key.base64).status, 'unknown');
  assert.equal(kh.lookup('db2.example.com', 22, key.type, key.base64).status, 'unknown');
  assert.equal(kh.lookup('db1.example.com', 22, key.type, Buffer.from('other').toString('base64')).status, 'changed');
});

test(
  'appendTrusted: atomic append as [host]:port, creates ' +
    'the folder 0700, keeps other lines; ssh-keygen -F finds it',
  async (t) => {
    const dir = await scratch(t);
    const key = await newKey(dir, 'k');
    const file = join(dir, 'new-ssh-dir', 'known_hosts');
    await appendTrusted(file, '127.0.0.1', 2222, key.type, key.base64);
    assert.equal((await stat(join(dir, 'new-ssh-dir'))).mode & 0o777, 0o700);
    await writeFile(file, `${await readFile(file, 'utf8')}# no newline at end`);
    await appendTrusted(file, 'db1', 22, key.type, key.base64);
    const text = await readFile(file, 'utf8');
    assert.equal(
      text,
      `[127.0.0.1]:2222 ${key.type} ${key.base64}\n# no newline at end\ndb1 ${key.type} ${key.base64}\n`,
    );
    const found = await execa('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file], { reject: false });
    assert.equal(found.exitCode, 0, 'ssh-keygen -F finds the [host]:port line');
    const kh = await KnownHosts.load([file]);
    assert.equal(kh.lookup('127.0.0.1', 2222, key.type, key.base64).status, 'known');
    assert.equal(kh.lookup('db1', 22, key.type, key.base64).status, 'known');
  },
);
