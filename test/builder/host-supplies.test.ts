// What else the host supplies, in roots that supply nothing: the --libc bundle build runs in the
// busybox root (no glibc, no /etc/ssl, no terminfo, no ldconfig, no gcc). ssl falls back to the
// bundled CA file, curses finds the bundled terminal descriptions, ctypes.util.find_library answers
// None instead of failing; 'localhost' resolves though no root of the lab has an /etc/hosts; no
// variable of ours reaches a child. In bookworm, find_library finds the host's libc as usual, and
// with an /etc/hosts the host's answer for localhost is the one used.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildApp, buildSkipReason } from './shared-build.js';

const TIMEOUT = 40 * 60_000;

/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
const PROBE = `import sys
out = {"started_with": sorted(m for m in ("ssl", "curses", "_curses", "socket") if m in sys.modules)}
import ctypes.util, curses, json, os, ssl, subprocess
out["cafile"] = ssl.get_default_verify_paths().cafile
out["ca_count"] = ssl.create_default_context().cert_store_stats()["x509_ca"]
try:
    curses.setupterm("xterm-256color", 1)
    out["colors"] = curses.tigetnum("colors")
except Exception as e:
    out["colors"] = repr(e)
out["find_library_c"] = ctypes.util.find_library("c")
out["environ"] = sorted(k for k in os.environ if k.startswith(("SSL_", "TERMINFO")))
out["child_env"] = [l for l in subprocess.run(["env"], capture_output=True, text=True).stdout.split("\\n") if l.startswith(("SSL_", "TERMINFO"))]
import socket
out["localhost"] = socket.gethostbyname("localhost")
server = socket.socket()
server.bind(("localhost", 0))  # resolved in C, past getaddrinfo
server.listen()
client = socket.create_connection(("localhost", server.getsockname()[1]), timeout=10)
client.sendall(b"ok")
out["localhost_echo"] = server.accept()[0].recv(2).decode()
out["unhooked_resolves"] = subprocess.run([sys.executable, "-S", "-c", "import socket; socket.getaddrinfo('localhost', 80)"], capture_output=True).returncode == 0
print(json.dumps(out))
`;
/* eslint-enable max-len */

interface Probe {
  started_with: string[];
  cafile: string | null;
  ca_count: number;
  colors: number | string;
  find_library_c: string | null;
  environ: string[];
  child_env: string[];
  localhost: string;
  localhost_echo: string;
  unhooked_resolves: boolean;
}

let shared: Promise<{ dir: string; bundle: string }> | null = null;

function setUp(): Promise<{ dir: string; bundle: string }> {
  shared ??= (async () => {
    const dir = await makeTempDir('pyrelo-host-supplies-');
    await buildApp(join(dir, 'bundle'), [], 'bundle');
    writeFileSync(join(dir, 'probe.py'), PROBE);
    return { dir, bundle: join(dir, 'bundle') };
  })();
  return shared;
}

test.after(async () => {
  if (shared !== null) await removeDir((await shared).dir);
});

/** Runs the probe in the root; `hosts`: an /etc/hosts to give the root (the lab's roots have none). */
async function probe(name: 'busybox' | 'bookworm', hosts: string | null = null): Promise<Probe> {
  const { dir, bundle } = await setUp();
  const root = await ensureRoot(name);
  if (hosts !== null) writeFileSync(join(dir, 'hosts'), hosts);
  const r = await runInRoot(root, ['/opt/bundle/bin/python3', '/srv/probe.py'], {
    bind: [{ hostPath: bundle, rootPath: '/opt/bundle', readOnly: true }],
    copyIn: [
      { hostPath: join(dir, 'probe.py'), rootPath: '/srv/probe.py' },
      ...(hosts === null ? [] : [{ hostPath: join(dir, 'hosts'), rootPath: '/etc/hosts' }]),
    ],
    env: { TERM: 'xterm-256color' },
    cwd: '/tmp',
    timeoutMs: 120_000,
  });
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as Probe;
}

test(
  'busybox (nothing supplied): bundled CA file, bundled terminfo, find_library None, children clean',
  { timeout: TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['busybox'])) return;
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const out = await probe('busybox');
    assert.deepEqual(out.started_with, [], 'start-up imports neither ssl nor curses');
    assert.equal(out.cafile, '/opt/bundle/lib/pyrelo/cacert.pem');
    assert.ok(out.ca_count > 100, `bundled CA file loaded (${out.ca_count})`);
    assert.equal(out.colors, 256, 'curses.setupterm found xterm-256color among the bundled entries');
    assert.equal(out.find_library_c, null, 'no ldconfig, gcc or ld: None, no exception');
    assert.deepEqual(out.environ, [], 'os.environ as it was');
    assert.deepEqual(out.child_env, []);
    // No /etc/hosts: glibc cannot resolve localhost (-S, without the hook, proves it), the hook can.
    assert.equal(out.unhooked_resolves, false, 'the root resolves localhost by itself: the test proves nothing');
    assert.equal(out.localhost, '127.0.0.1');
    assert.equal(out.localhost_echo, 'ok', 'bind and connect to localhost');
  },
);

test(
  'bookworm: the host supplies libc for find_library and terminfo for curses; children clean',
  { timeout: TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const out = await probe('bookworm');
    assert.equal(out.find_library_c, 'libc.so.6');
    assert.equal(out.colors, 256);
    assert.deepEqual(out.environ, []);
    assert.deepEqual(out.child_env, []);
    assert.equal(out.unhooked_resolves, false);
    assert.equal(out.localhost, '127.0.0.1');
    assert.equal(out.localhost_echo, 'ok');
  },
);

test(
  "bookworm with an /etc/hosts: the host's answer for localhost wins over the hook's",
  { timeout: TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    // 127.0.0.2 is loopback too (the whole 127/8 is), and no fallback would ever answer it.
    const out = await probe('bookworm', '127.0.0.2 localhost\n');
    assert.equal(out.unhooked_resolves, true);
    assert.equal(out.localhost, '127.0.0.2');
    assert.equal(out.localhost_echo, 'ok');
  },
);
