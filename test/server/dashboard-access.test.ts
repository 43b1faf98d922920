// Who may open the dashboard (src/server/dashboard/listener.ts, token.ts; README "Dashboard"),
// without a browser: the token made by `pyrelo server dashboard-token` is stored only hashed and
// 0600, a new one shuts the old out at once, no token means no listener, a non-loopback address
// is refused without TLS, and over TLS a client certificate of the configured CA opens it while
// an agent's certificate (the server's own CA) does not. Real servers, real openssl certificates.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { createDashboardToken, tokenFile } from '../../src/server/dashboard/token.js';
import { loadPki, signAgentKey } from '../../src/server/pki.js';
import { startTestServer } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-dashboard-access-'));
});

after(() => rmSync(work, { recursive: true, force: true }));

function serverDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** A GET over HTTPS with an optional client certificate; resolves with the status. */
function httpsGet(url: string, options: { ca: Buffer; cert?: Buffer; key?: Buffer; token?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: options.ca,
        ...(options.cert && { cert: options.cert, key: options.key }),
        ...(options.token && { headers: { authorization: `Bearer ${options.token}` } }),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard access', () => {
  test('pyrelo server dashboard-token: the token is shown once, stored as its sha256 in a 0600 file', async () => {
    const dir = serverDir('cli');
    const result = await execa(process.execPath, [MAIN, 'server', 'dashboard-token', '--data', dir], { reject: false });
    assert.equal(result.exitCode, 0, result.stderr);
    const token = /^ {2}(pyd_\S+)$/m.exec(result.stdout)?.[1];
    assert.ok(token, result.stdout);
    assert.match(result.stdout, new RegExp(`log in: http://127\\.0\\.0\\.1:7480/\\?token=${token}`));
    const file = tokenFile(dir);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = readFileSync(file, 'utf8');
    assert.match(stored, /^[0-9a-f]{64}\n$/);
    assert.ok(!stored.includes(token.slice(4, 20)), 'the file holds no part of the token');
  });

  test('a new token shuts the old one out at once, without a restart', async () => {
    const dir = serverDir('rotate');
    const first = createDashboardToken(dir);
    const ts = await startTestServer(dir, { dashboardListen: '127.0.0.1:0' });
    try {
      const get = (token: string) =>
        fetch(ts.server.dashboardUrl!, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      assert.equal(await get(first), 200);
      const second = createDashboardToken(dir);
      assert.equal(await get(first), 401, 'the old token');
      assert.equal(await get(second), 200, 'the new token');
      assert.equal(statSync(tokenFile(dir)).mode & 0o777, 0o600);
    } finally {
      await ts.server.stop(500);
    }
  });

  test('with no token and no client CA the dashboard does not listen', async () => {
    const ts = await startTestServer(serverDir('none'), { dashboardListen: '127.0.0.1:0' });
    try {
      assert.equal(ts.server.dashboardUrl, null);
      assert.match(ts.logs.text, /dashboard off: no token yet/);
    } finally {
      await ts.server.stop(500);
    }
  });

  test('a non-loopback address is refused without TLS, before anything listens', async () => {
    const dir = serverDir('public');
    createDashboardToken(dir);
    const outcome = await startTestServer(dir, { dashboardListen: '0.0.0.0:0' }).catch((error: Error) => error);
    if (!(outcome instanceof Error)) {
      await outcome.server.stop(500); // a server that listened anyway must not hold the test open
      assert.fail(`the dashboard listened on ${outcome.server.dashboardUrl}`);
    }
    assert.equal(outcome.name, 'ServerStartError');
    assert.match(
      outcome.message,
      /^dashboard address 0\.0\.0\.0:0: not a loopback address: the dashboard is served there only over TLS/,
    );
    // The command line: exit 2, one line naming the address, no stack trace.
    const cli = await execa(
      process.execPath,
      [MAIN, 'server', '--data', dir, '--listen', '127.0.0.1:0', '--enroll-listen', '127.0.0.1:0'].concat([
        '--control',
        `unix:${join(dir, 'cli.sock')}`,
        '--dashboard-listen',
        '0.0.0.0:7480',
      ]),
      { reject: false, timeout: 60_000 },
    );
    assert.equal(cli.exitCode, 2, cli.stderr);
    assert.match(cli.stderr.trim(), /^pyrelo: dashboard address 0\.0\.0\.0:7480: not a loopback address: [^\n]*$/);
  });

  test("over TLS a client certificate of the configured CA opens it; an agent's certificate does not", async () => {
    const dir = serverDir('tls');
    const certs = join(work, 'certs');
    mkdirSync(certs);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    // The operators' CA and one operator's client certificate.
    await execa(
      'openssl',
      ['req', '-x509', ...ec, '-keyout', join(certs, 'ops.key'), '-out', join(certs, 'ops.crt')].concat([
        '-days',
        '2',
        '-subj',
        '/CN=ops CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
      ]),
    );
    await execa(
      'openssl',
      ['req', ...ec, '-keyout', join(certs, 'alice.key'), '-out', join(certs, 'alice.csr')].concat([
        '-subj',
        '/CN=alice',
      ]),
    );
    writeFileSync(join(certs, 'ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
    await execa(
      'openssl',
      ['x509', '-req', '-in', join(certs, 'alice.csr'), '-CA', join(certs, 'ops.crt')]
        .concat(['-CAkey', join(certs, 'ops.key'), '-CAcreateserial', '-days', '2'])
        .concat(['-extfile', join(certs, 'ext'), '-out', join(certs, 'alice.crt')]),
    );
    // The dashboard serves the server's own certificate (its CA is the pyrelo CA).
    const ts = await startTestServer(dir, {
      dashboardListen: '127.0.0.1:0',
      dashboardCert: join(dir, 'pki', 'server.crt'),
      dashboardKey: join(dir, 'pki', 'server.key'),
      dashboardClientCa: join(certs, 'ops.crt'),
    });
    try {
      const url = ts.server.dashboardUrl!;
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      const ca = readFileSync(join(dir, 'pki', 'ca.crt'));
      assert.equal(await httpsGet(url, { ca }), 401, 'no certificate, no token');
      const alice = { cert: readFileSync(join(certs, 'alice.crt')), key: readFileSync(join(certs, 'alice.key')) };
      assert.equal(await httpsGet(url, { ca, ...alice }), 200, "an operator's certificate");
      // An agent's certificate, issued by the server's CA at enrollment: a host is not an operator.
      const agent = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const agentCert = await signAgentKey(
        loadPki(dir),
        agent.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        'agent-1',
      );
      const agentKey = agent.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      assert.equal(
        await httpsGet(url, { ca, cert: Buffer.from(agentCert), key: Buffer.from(agentKey) }),
        401,
        "an agent's certificate",
      );
    } finally {
      await ts.server.stop(500);
    }
  });
});
