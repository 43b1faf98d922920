// The service commands as a user runs them: `pyrelo server` in its own process, the CLI against
// its control socket (hosts import, bundles add, compat with text and JSON, --distro), bad input
// with exit status 2, settings precedence, and a clean stop on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { resolveSettings, SettingsError } from '../../src/server/settings.js';
import { makeBundle } from './fixtures.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');
const pyrelo = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [MAIN, ...args], { reject: false, env });

test('settings: flags over environment over the config file over defaults; a bad file is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-settings-'));
  try {
    writeFileSync(
      join(dir, 'server.json'),
      JSON.stringify({ listen: '10.0.0.1:1', enrollListen: '10.0.0.1:2', logLevel: 'debug' }),
    );
    const s = resolveSettings({ dataDir: dir, listen: '127.0.0.1:9' }, { PYRELO_ENROLL_LISTEN: '127.0.0.1:8' });
    assert.equal(s.listen, '127.0.0.1:9');
    assert.equal(s.enrollListen, '127.0.0.1:8');
    assert.equal(s.logLevel, 'debug');
    assert.equal(s.control, `unix:${join(dir, 'control.sock')}`);
    writeFileSync(join(dir, 'server.json'), JSON.stringify({ lisen: 'x' }));
    assert.throws(
      () => resolveSettings({ dataDir: dir }, {}),
      (e: Error) => e instanceof SettingsError && /unknown setting "lisen"/.test(e.message),
    );
    assert.throws(() => resolveSettings({ dataDir: dir, heartbeatSeconds: -1 }, {}), /server.json|heartbeatSeconds/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'pyrelo server, hosts import, bundles add, compat; bad input exits 2; SIGTERM stops cleanly',
  { timeout: 120_000 },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'pyrelo-cli-service-'));
    const data = join(work, 'data');
    try {
      assert.equal((await pyrelo(['server', 'init', '--data', data])).exitCode, 0);
      const again = await pyrelo(['server', 'init', '--data', data]);
      assert.equal(again.exitCode, 2);
      assert.match(again.stderr, /a CA exists already/);
      const server = spawn(
        process.execPath,
        [MAIN, 'server', '--data', data, '--listen', '127.0.0.1:0', '--enroll-listen', '127.0.0.1:0'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
      while (!out.includes('"control"')) await new Promise((r) => setTimeout(r, 50));
      const env = { PYRELO_CONTROL: `unix:${join(data, 'control.sock')}` };

      const inventory = join(work, 'here.json.gz');
      assert.equal((await pyrelo(['inventory', '-o', inventory])).exitCode, 0);
      const imported = await pyrelo(['hosts', 'import', inventory, '--name', 'devbox'], env);
      assert.equal(imported.exitCode, 0, imported.stderr);
      assert.match(imported.stdout, /imported .* as host devbox/);
      const added = await pyrelo(['bundles', 'add', await makeBundle(work, 'cli-app', 'host-libc')], env);
      assert.equal(added.exitCode, 0, added.stderr);

      const text = await pyrelo(['compat', 'cli-app'], env);
      assert.equal(text.exitCode, 0, text.stderr);
      assert.match(text.stdout, /by distro:/);
      assert.match(text.stdout, /devbox +debian:\d+ +predicted to run/);
      const json = JSON.parse((await pyrelo(['compat', 'cli-app', '--json'], env)).stdout) as {
        hosts: { verdict: string }[];
      };
      assert.deepEqual(
        json.hosts.map((h) => h.verdict),
        ['predicted'],
      );
      const distro = await pyrelo(
        [
          'compat',
          '--distro',
          `debian:${/VERSION_ID="?([^"\n]+)/.exec((await execa('cat', ['/etc/os-release'])).stdout)?.[1]}`,
        ],
        env,
      );
      assert.match(distro.stdout, /cli-app .* predicted to run/);

      for (const [args, message] of [
        [['compat', 'nope'], /bundle nope: no such bundle/],
        [['hosts', 'show', 'nope'], /host nope: not known/],
        [['hosts', 'import', join(work, 'missing.json')], /ENOENT|no such file/],
        [['compat', '--distro', 'Debian 11!'], /expected ID:VERSION_ID/],
      ] as const) {
        const r = await pyrelo([...args], env);
        assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      const down = await pyrelo(['hosts', 'list'], { PYRELO_CONTROL: `unix:${join(work, 'no.sock')}` });
      assert.equal(down.exitCode, 2);
      assert.match(down.stderr, /is not reachable/);

      server.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(out, /"msg":"server stopped"/);
      assert.equal(existsSync(join(data, 'control.sock')), false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
