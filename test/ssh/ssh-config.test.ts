// Resolving a target the way OpenSSH would: specs, `ssh -G` with a config file, jump chains,
// the known_hosts override, and plain defaults when there is no ssh client at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  describeTarget,
  parseSshDashG,
  parseTargetSpec,
  resolveSshTarget,
  SshSpecError,
  trustFile,
} from '../../src/remote/ssh/ssh-config.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pyrelo-sshcfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('target specs: user@host:port, bare host, [v6]:port, bare v6; bad ports named', () => {
  assert.deepEqual(parseTargetSpec('root@db1:2222'), { user: 'root', host: 'db1', port: 2222 });
  assert.deepEqual(parseTargetSpec('db1'), { host: 'db1' });
  assert.deepEqual(parseTargetSpec('deploy@[2001:db8::1]:2200'), { user: 'deploy', host: '2001:db8::1', port: 2200 });
  assert.deepEqual(parseTargetSpec('[::1]'), { host: '::1' });
  assert.deepEqual(parseTargetSpec('fe80::1'), { host: 'fe80::1' });
  assert.deepEqual(parseTargetSpec('a@b@host'), { user: 'a@b', host: 'host' });
  assert.throws(
    () => parseTargetSpec('root@db1:99999'),
    (e: unknown) => e instanceof SshSpecError && /root@db1:99999/.test(e.message) && /99999/.test(e.message),
  );
  assert.throws(() => parseTargetSpec('root@db1:ssh'), /port "ssh"/);
  assert.throws(() => parseTargetSpec('root@'), /no host name/);
  assert.throws(() => parseTargetSpec('@db1'), /empty user/);
  assert.equal(describeTarget({ user: 'root', hostname: '2001:db8::1', port: 22 }), 'root@[2001:db8::1]:22');
});

test('ssh -G output: lists, ConnectTimeout, HostKeyAlias, ProxyJump none; ProxyCommand refused', () => {
  const config = parseSshDashG(
    [
      'user deploy',
      'hostname 10.0.0.5',
      'port 2200',
      'identityfile ~/.ssh/id_ed25519',
      'identityfile /keys/extra',
      'userknownhostsfile /a/known_hosts /a/known_hosts2',
      'globalknownhostsfile /etc/ssh/ssh_known_hosts',
      'connecttimeout 7',
      'hostkeyalias db-alias',
      'proxyjump none',
      '',
    ].join('\n'),
  );
  assert.deepEqual(config, {
    hostname: '10.0.0.5',
    port: 2200,
    user: 'deploy',
    identityFiles: ['~/.ssh/id_ed25519', '/keys/extra'],
    userKnownHostsFiles: ['/a/known_hosts', '/a/known_hosts2'],
    globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts'],
    hostKeyAlias: 'db-alias',
    connectTimeoutMs: 7000,
  });
  assert.throws(() => parseSshDashG('hostname x\nproxycommand nc %h %p\n'), /ProxyCommand nc %h %p/);
});

test(
  'a config file through PYRELO_SSH_CONFIG: Host blocks, only existing keys, ProxyJump chain; PYRELO_KNOWN_HOSTS ' +
    'replaces known_hosts',
  async (t) => {
    const dir = await scratch(t);
    const key = join(dir, 'site_key');
    await writeFile(key, 'not read here');
    const config = join(dir, 'config');
    await writeFile(
      config,
      [
        'Host site',
        '  HostName 192.0.2.10',
        '  Port 2201',
        '  User deploy',
        `  IdentityFile ${key}`,
        `  IdentityFile ${join(dir, 'missing_key')}`,
        '  ConnectTimeout 5',
        '  ProxyJump bastion',
        'Host bastion',
        '  HostName 192.0.2.1',
        '  User jump',
        'Host inner',
        '  HostName 192.0.2.2',
        '  ProxyJump bastion',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, PYRELO_SSH_CONFIG: config, PYRELO_KNOWN_HOSTS: join(dir, 'kh') };
    const site = await resolveSshTarget('site', { env });
    assert.equal(site.hostname, '192.0.2.10');
    assert.equal(site.port, 2201);
    assert.equal(site.user, 'deploy');
    assert.deepEqual(site.identityFiles, [key]);
    assert.equal(site.connectTimeoutMs, 5000);
    assert.deepEqual(site.userKnownHostsFiles, [join(dir, 'kh')]);
    assert.deepEqual(site.globalKnownHostsFiles, []);
    assert.equal(trustFile(site), join(dir, 'kh'));
    assert.deepEqual(
      [site.via?.hostname, site.via?.user, site.via?.port, site.via?.via],
      ['192.0.2.1', 'jump', 22, undefined],
    );

    // The command line wins over the config, as with ssh: user, port and -J.
    const override = await resolveSshTarget('admin@site:2300', { env, jump: 'x@192.0.2.50:2022,inner' });
    assert.deepEqual([override.user, override.port], ['admin', 2300]);
    // -J a,b: reach a, then b through a, then the target through b; b's own ProxyJump is overridden.
    assert.deepEqual(
      [
        override.via?.hostname,
        override.via?.via?.hostname,
        override.via?.via?.user,
        override.via?.via?.port,
        override.via?.via?.via,
      ],
      ['192.0.2.2', '192.0.2.50', 'x', 2022, undefined],
    );

    await assert.rejects(
      resolveSshTarget('site', { env, identityFile: join(dir, 'nope') }),
      /identity file .*nope does not exist/,
    );
  },
);

test('without an ssh client: OpenSSH defaults (port 22, current user, ~/.ssh keys and known_hosts)', async () => {
  const env = { PATH: '/nonexistent' }; // no ssh to run
  const target = await resolveSshTarget('db9', { env });
  assert.deepEqual([target.hostname, target.port, target.user], ['db9', 22, userInfo().username]);
  assert.deepEqual(target.userKnownHostsFiles, [
    join(homedir(), '.ssh/known_hosts'),
    join(homedir(), '.ssh/known_hosts2'),
  ]);
  assert.deepEqual(target.globalKnownHostsFiles, ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  for (const file of target.identityFiles)
    assert.ok(['id_ed25519', 'id_ecdsa', 'id_rsa'].some((name) => file === join(homedir(), '.ssh', name)));
  const jumped = await resolveSshTarget('u@[2001:db8::7]:2222', {
    env: { ...env, PYRELO_KNOWN_HOSTS: '/tmp/kh' },
    jump: 'j@gw:22',
  });
  assert.deepEqual(
    [jumped.hostname, jumped.port, jumped.user, jumped.via?.hostname, jumped.via?.user],
    ['2001:db8::7', 2222, 'u', 'gw', 'j'],
  );
  assert.deepEqual(jumped.userKnownHostsFiles, ['/tmp/kh']);
});
