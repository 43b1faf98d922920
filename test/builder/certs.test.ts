// Certificates the host supplies: the bundle's OpenSSL was built with this machine's OPENSSLDIR
// (/usr/lib/ssl), which the lab roots do not have. A loopback HTTPS server whose CA (made here with
// openssl) is installed in a root's store, Debian's way (bookworm) or RHEL's (trixie, store moved
// to /etc/pki/tls/certs/ca-bundle.crt): the bundle in the root connects with
// ssl.create_default_context() + urllib; without the CA it fails with CERTIFICATE_VERIFY_FAILED;
// SSL_CERT_FILE wins; nothing SSL_CERT_* reaches child processes; a root with no store at all
// falls back to the bundled CA file. A venv made from the bundle in trixie trusts the CA through
// the RHEL-layout store too (the hook is the stdlib's sitecustomize.py, which venvs share).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { ensureRoot, runInRoot, skipUnlessLab, type CopyIn } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildApp, buildSkipReason } from './shared-build.js';

const TIMEOUT = 40 * 60_000;
const HOST_STORE = '/etc/ssl/certs/ca-certificates.crt';

/** Connects to argv[1] as an application would, and reports what ssl saw. */
const PROBE = `import sys
out = {"started_with_ssl": "ssl" in sys.modules}
import json, ssl, subprocess, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(), timeout=20) as r:
        out["body"] = r.read().decode()
except Exception as e:
    out["error"] = repr(e)
try:
    with urllib.request.urlopen(sys.argv[1], timeout=20) as r:
        out["plain_urlopen"] = r.read().decode()
except Exception as e:
    out["plain_urlopen"] = repr(e)
out["prefix"], out["base_prefix"] = sys.prefix, sys.base_prefix
out["paths"] = ssl.get_default_verify_paths()._asdict()
out["stats"] = ssl.create_default_context().cert_store_stats()
out["child_env"] = subprocess.run(["env"], capture_output=True, text=True).stdout
print(json.dumps(out))
`;

interface Probe {
  started_with_ssl: boolean;
  body?: string;
  error?: string;
  plain_urlopen: string;
  prefix: string;
  base_prefix: string;
  paths: { cafile: string | null; capath: string | null };
  stats: { x509_ca: number; x509: number };
  child_env: string;
}

interface Lab {
  dir: string;
  bundle: string;
  ca: string;
  server: Server;
  url: string;
}

let shared: Promise<Lab> | null = null;

async function makeCa(dir: string): Promise<void> {
  const run = (args: string[]) => execa('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=pyrelo test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' +
      'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  await run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '2',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  ]);
}

function setUp(): Promise<Lab> {
  shared ??= (async () => {
    const dir = await makeTempDir('pyrelo-certs-');
    await buildApp(join(dir, 'bundle'));
    await makeCa(dir);
    writeFileSync(join(dir, 'probe.py'), PROBE);
    // The host's store with the test CA appended: what update-ca-certificates would make.
    writeFileSync(
      join(dir, 'store-with-ca.crt'),
      readFileSync(HOST_STORE, 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'),
    );
    const server = createServer(
      { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) },
      (_req, res) => res.end('pyrelo-ok'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { dir, bundle: join(dir, 'bundle'), ca: join(dir, 'ca.pem'), server, url: `https://127.0.0.1:${port}/` };
  })();
  return shared;
}

test.after(async () => {
  if (shared === null) return;
  const lab = await shared;
  await new Promise<void>((resolve) => lab.server.close(() => resolve()));
  await removeDir(lab.dir);
});

/** With venv, the probe runs in a venv made from the bundle inside the root (`python3 -m venv`). */
async function probe(
  root: string,
  lab: Lab,
  copyIn: CopyIn[],
  env: Record<string, string> = {},
  script = '/srv/probe.py',
  venv = false,
): Promise<Probe> {
  const argv = venv
    ? [
        '/bin/sh',
        '-c',
        '/opt/bundle/bin/python3 -m venv --without-pip /tmp/venv && exec /tmp/venv/bin/python "$0" "$1"',
        script,
        lab.url,
      ]
    : ['/opt/bundle/bin/python3', script, lab.url];
  const r = await runInRoot(root, argv, {
    bind: [{ hostPath: lab.bundle, rootPath: '/opt/bundle', readOnly: true }],
    copyIn: [{ hostPath: join(lab.dir, 'probe.py'), rootPath: '/srv/probe.py' }, ...copyIn],
    env,
    cwd: '/tmp',
    timeoutMs: 120_000,
  });
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as Probe;
}

function assertChildClean(out: Probe, allowed: string[] = []): void {
  const leaked = out.child_env
    .split('\n')
    .filter((l) => /^SSL_CERT_|^OPENSSL_/.test(l) && !allowed.some((a) => l.startsWith(`${a}=`)));
  assert.deepEqual(leaked, [], 'nothing SSL_CERT_* injected into children');
}

function skip(t: { skip(reason: string): void }): boolean {
  if (skipUnlessLab(t, ['debootstrap'])) return true;
  const reason = buildSkipReason();
  if (reason) {
    t.skip(reason);
    return true;
  }
  return false;
}

test(
  'bookworm, Debian layout: the CA in /etc/ssl/certs/ca-certificates.crt is trusted; start-up imports no ssl; ' +
    'children clean',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t)) return;
    const lab = await setUp();
    const root = await ensureRoot('bookworm');
    const out = await probe(root, lab, [{ hostPath: join(lab.dir, 'store-with-ca.crt'), rootPath: HOST_STORE }]);
    assert.equal(out.body, 'pyrelo-ok', out.error);
    assert.equal(out.plain_urlopen, 'pyrelo-ok', 'urlopen without a context uses the same default');
    assert.equal(out.started_with_ssl, false, 'the start-up hook does not import ssl');
    assert.equal(out.paths.cafile, HOST_STORE);
    assert.ok(out.stats.x509_ca > 100, `the whole store is loaded: ${JSON.stringify(out.stats)}`);
    assertChildClean(out);
  },
);

test(
  'trixie, RHEL layout (/etc/pki/tls/certs/ca-bundle.crt): trusted; without the CA: CERTIFICATE_VERIFY_FAILED',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t)) return;
    const lab = await setUp();
    const root = await ensureRoot('trixie');
    const rhel = '/etc/pki/tls/certs/ca-bundle.crt';
    const out = await probe(root, lab, [{ hostPath: join(lab.dir, 'store-with-ca.crt'), rootPath: rhel }]);
    assert.equal(out.body, 'pyrelo-ok', out.error);
    assert.equal(out.paths.cafile, rhel);
    assertChildClean(out);
    const without = await probe(root, lab, [{ hostPath: HOST_STORE, rootPath: rhel }]);
    assert.equal(without.body, undefined);
    assert.match(without.error ?? '', /CERTIFICATE_VERIFY_FAILED/);
    assert.ok(without.stats.x509_ca > 100, 'the store was loaded, only the test CA is not in it');
  },
);

test(
  'a venv made from the bundle keeps the hook: RHEL layout in trixie trusted through the host store; without ' +
    'the CA: CERTIFICATE_VERIFY_FAILED',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t)) return;
    const lab = await setUp();
    const root = await ensureRoot('trixie');
    const rhel = '/etc/pki/tls/certs/ca-bundle.crt';
    const started = Date.now();
    const out = await probe(
      root,
      lab,
      [{ hostPath: join(lab.dir, 'store-with-ca.crt'), rootPath: rhel }],
      {},
      '/srv/probe.py',
      true,
    );
    assert.equal(out.prefix, '/tmp/venv', 'it ran in the venv');
    assert.equal(out.base_prefix, '/opt/bundle');
    assert.equal(out.body, 'pyrelo-ok', out.error);
    assert.equal(out.plain_urlopen, 'pyrelo-ok');
    assert.equal(out.paths.cafile, rhel);
    assert.equal(out.started_with_ssl, false, 'start-up imports no ssl in the venv either');
    assertChildClean(out);
    const without = await probe(root, lab, [{ hostPath: HOST_STORE, rootPath: rhel }], {}, '/srv/probe.py', true);
    assert.equal(without.prefix, '/tmp/venv');
    assert.equal(without.body, undefined);
    assert.match(without.error ?? '', /CERTIFICATE_VERIFY_FAILED/);
    assert.equal(without.paths.cafile, rhel, 'the host store was used, it only lacks the test CA');
    t.diagnostic(`two venvs made and probed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
);

test(
  'SSL_CERT_FILE wins over the host store, in both directions, and is all the child sees',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t)) return;
    const lab = await setUp();
    const root = await ensureRoot('bookworm');
    // The store lacks the CA, SSL_CERT_FILE has it: trusted.
    const yes = await probe(
      root,
      lab,
      [
        { hostPath: HOST_STORE, rootPath: HOST_STORE },
        { hostPath: lab.ca, rootPath: '/srv/ca.pem' },
      ],
      { SSL_CERT_FILE: '/srv/ca.pem' },
    );
    assert.equal(yes.body, 'pyrelo-ok', yes.error);
    assert.equal(yes.paths.cafile, '/srv/ca.pem');
    assert.equal(yes.stats.x509_ca, 1, 'only the file SSL_CERT_FILE names');
    assertChildClean(yes, ['SSL_CERT_FILE']);
    assert.match(yes.child_env, /^SSL_CERT_FILE=\/srv\/ca\.pem$/m, "the user's own variable passes through unchanged");
    // The store has the CA, SSL_CERT_FILE does not: not trusted (the host store is not added).
    const no = await probe(
      root,
      lab,
      [
        { hostPath: join(lab.dir, 'store-with-ca.crt'), rootPath: HOST_STORE },
        { hostPath: HOST_STORE, rootPath: '/srv/other.pem' },
      ],
      { SSL_CERT_FILE: '/srv/other.pem' },
    );
    assert.match(no.error ?? '', /CERTIFICATE_VERIFY_FAILED/);
  },
);

test(
  'a root with no CA store at all falls back to the bundled CA file (and still does not trust the test CA)',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t)) return;
    const lab = await setUp();
    const root = await ensureRoot('bookworm'); // minbase: no ca-certificates, no /etc/ssl, no /usr/lib/ssl
    const out = await probe(root, lab, []);
    assert.equal(out.paths.cafile, '/opt/bundle/lib/pyrelo/cacert.pem');
    assert.equal(out.paths.capath, null);
    assert.ok(out.stats.x509_ca > 100, `bundled CA file loaded: ${JSON.stringify(out.stats)}`);
    assert.match(out.error ?? '', /CERTIFICATE_VERIFY_FAILED/);
    assertChildClean(out);
    const manifest = JSON.parse(readFileSync(join(lab.bundle, 'pyrelo.json'), 'utf8')) as {
      steps: Array<{ name: string; summary: string }>;
      files: Array<{ path: string }>;
    };
    const step = manifest.steps.find((s) => s.name === 'host');
    assert.match(
      step?.summary ?? '',
      /fallback lib\/pyrelo\/cacert\.pem: \d+ certificates from (certifi|this build host)/,
    );
    const recorded = JSON.parse(readFileSync(join(lab.bundle, 'lib/pyrelo/host-certs.json'), 'utf8')) as {
      fallback: string;
      fallbackSource: string;
    };
    assert.equal(recorded.fallback, 'cacert.pem');
    assert.ok(manifest.files.some((f) => f.path === 'lib/pyrelo/cacert.pem'));
  },
);
