// Issue 13 ("seen in the code"): the control socket was made 0600 only after bind, so under a
// umask of 0 it was 0777 for a moment, and any local user who could enter its folder could connect
// and administer the server (tokens, bundles, hosts). The moment is widened to seconds here: a real
// `pyrelo server` runs under strace, which delays every chmod by 2 s (strace's fault injection, not
// a change to the server), with umask 0 and --control in a folder `nobody` can enter. Meanwhile the
// real user `nobody` tries to connect every millisecond. The socket must be 0600 when it appears,
// and `nobody` must never connect.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initPki } from '../../src/server/pki.js';
import { freePort } from '../server/fixtures.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');

// Run as nobody: connects to the socket every millisecond until told to stop (stdin closes),
// then prints how many attempts it made and how many connected.
const CONNECTOR = `
const net = require('node:net');
let attempts = 0, connected = 0, stop = false;
process.stdin.on('end', () => { stop = true; }); process.stdin.resume();
const attempt = () => {
  if (stop) { console.log(JSON.stringify({ attempts, connected })); return; }
  attempts++;
  const s = net.connect(process.argv[2]);
  s.on('connect', () => { connected++; s.destroy(); setTimeout(attempt, 1); });
  s.on('error', () => setTimeout(attempt, 1));
};
attempt();
`;

let work: string;
const children: ChildProcess[] = [];
let traced: ChildProcess | null = null;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-socket-'));
  chmodSync(work, 0o755);
});

after(() => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    if (child === traced) stopTraced(child);
    child.kill('SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
});

const usable = (): string | null => {
  if (process.geteuid?.() !== 0) return 'connecting as nobody needs root (runuser)';
  if (spawnSync('strace', ['-V']).status !== 0) return 'strace is not installed';
  return null;
};

test(
  'the control socket is 0600 from the start: nobody never connects, even while chmod is held for 2 s',
  { timeout: 120_000 },
  async (t) => {
    const missing = usable();
    if (missing !== null) return t.skip(missing);
    const data = join(work, 'data');
    await initPki(data);
    const shared = join(work, 'shared'); // a folder any user can enter, as /run/pyrelo might be
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    const socket = join(shared, 'control.sock');
    const connectorFile = join(shared, 'connector.cjs');
    writeFileSync(connectorFile, CONNECTOR, { mode: 0o644 });

    const connector = spawn('runuser', ['-u', 'nobody', '--', process.execPath, connectorFile, socket], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(connector);
    let report = '';
    connector.stdout!.on('data', (d: Buffer) => {
      report += d.toString();
    });

    const serverArgs = [
      MAIN,
      'server',
      '--data',
      data,
      '--control',
      `unix:${socket}`,
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--enroll-listen',
      `127.0.0.1:${await freePort()}`,
      '--log-level',
      'warn',
    ];
    const strace = [
      'strace',
      '-f',
      '-qq',
      '--seccomp-bpf',
      '-o',
      '/dev/null',
      '-e',
      'trace=chmod,fchmodat,fchmod',
      '-e',
      'inject=chmod,fchmodat,fchmod:delay_enter=2000000',
    ];
    const server = spawn('sh', ['-c', 'umask 000 && exec "$@"', 'sh', ...strace, process.execPath, ...serverArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(server);
    traced = server;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"control"')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
    assert.equal((statSync(socket).mode & 0o777).toString(8), '600');
    await new Promise((r) => setTimeout(r, 2_500)); // past any chmod still held
    connector.stdin!.end();
    await new Promise((r) => connector.once('exit', r));
    const { attempts, connected } = JSON.parse(report) as { attempts: number; connected: number };
    assert.ok(attempts > 100, `nobody kept trying (${attempts} attempts)`);
    assert.equal(connected, 0, `nobody connected ${connected} times`);
    // Root, the owner, can.
    const root = spawnSync(process.execPath, [MAIN, 'hosts', 'list', '--control', `unix:${socket}`, '--json'], {
      encoding: 'utf8',
    });
    assert.equal(root.status, 0, root.stderr);
    stopTraced(server);
  },
);

/** Kills the server strace runs (a killed strace leaves its tracee running), then strace ends. */
function stopTraced(strace: ChildProcess): void {
  const pid = strace.pid!;
  const tracees = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  for (const child of tracees) process.kill(child, 'SIGKILL');
}
