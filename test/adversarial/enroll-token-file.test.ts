// Issue 13 item 10: `pyrelo agent enroll --token T` put the one-time token on the command line,
// where any local user reads it from /proc/PID/cmdline while the agent enrolls, and the CLI's hint
// printed that form. The real user `nobody` reads the command line of a real enrolling agent (held
// in its TLS handshake by a listener that never answers): with --token it sees the token; with
// --token-file FILE or --token-file - it does not, and the agent enrolls with the real server
// from a file or from stdin. `pyrelo hosts token` prints the --token-file form.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../server/fixtures.js';
import { startFleet, type Fleet } from './fleet.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');

let work: string;
let fleet: Fleet;
let silent: Server;
const held: Socket[] = [];
let childId = 0;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-token-'));
  fleet = await startFleet(join(work, 'fleet'));
  // Accepts and never answers: an enrolling agent waits here in its TLS handshake.
  silent = createServer((socket) => {
    held.push(socket);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  for (const socket of held) socket.destroy();
  silent?.close();
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

const ca = (): string => join(fleet.dir, 'server', 'pki', 'ca.crt');

/** What `nobody` reads of the command line of an agent enrolling with `args`, while it waits on the silent listener. */
async function cmdlineSeenByNobody(args: readonly string[]): Promise<string> {
  const port = (silent.address() as { port: number }).port;
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'agent',
      'enroll',
      '--server',
      `127.0.0.1:${port}`,
      '--ca',
      ca(),
      '--dir',
      join(work, `agent-${childId++}`),
      ...args,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  child.stdin.end('tok-from-stdin-never-sent\n');
  try {
    const before = held.length;
    await waitFor(() => held.length > before, 20_000); // it reached the listener: enrolling
    const read = spawnSync('runuser', ['-u', 'nobody', '--', 'cat', `/proc/${child.pid}/cmdline`], {
      encoding: 'utf8',
    });
    assert.equal(read.status, 0, read.stderr);
    return read.stdout.replaceAll('\0', ' ');
  } finally {
    child.kill('SIGKILL');
  }
}
test("nobody reads a --token from the enrolling agent's command line, and nothing of --token-file", async (t) => {
  if (process.geteuid?.() !== 0) return t.skip('reading as nobody needs root (runuser)');
  const secret = 'visible-token-0123456789';
  assert.match(
    await cmdlineSeenByNobody(['--token', secret]),
    new RegExp(secret),
    'the attack works: --token is in /proc/PID/cmdline',
  );

  const file = join(work, 'token');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  const seen = await cmdlineSeenByNobody(['--token-file', file]);
  assert.match(seen, /agent enroll/);
  assert.doesNotMatch(seen, new RegExp(secret));
  assert.doesNotMatch(await cmdlineSeenByNobody(['--token-file', '-']), /tok-from-stdin/);
  const read = spawnSync('runuser', ['-u', 'nobody', '--', 'cat', file], { encoding: 'utf8' });
  assert.notEqual(read.status, 0, 'nor can nobody read the 0600 token file');
});

test('the agent enrolls with the real server from --token-file FILE and from --token-file - (stdin)', async () => {
  const fromFile = await fleet.control.call('CreateEnrollToken', { name: 'from-file' });
  const file = join(work, 'from-file.token');
  writeFileSync(file, `${fromFile.token}\n`, { mode: 0o600 });
  const a = spawnSync(
    process.execPath,
    [
      MAIN,
      'agent',
      'enroll',
      '--server',
      fleet.enrollAddress,
      '--ca',
      ca(),
      '--dir',
      join(work, 'enrolled-file'),
      '--token-file',
      file,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, 'enrolled as host from-file\n');

  const fromStdin = await fleet.control.call('CreateEnrollToken', { name: 'from-stdin' });
  const b = spawnSync(
    process.execPath,
    [
      MAIN,
      'agent',
      'enroll',
      '--server',
      fleet.enrollAddress,
      '--ca',
      ca(),
      '--dir',
      join(work, 'enrolled-stdin'),
      '--token-file',
      '-',
    ],
    { encoding: 'utf8', input: `${fromStdin.token}\n` },
  );
  assert.equal(b.status, 0, b.stderr);
  assert.equal(b.stdout, 'enrolled as host from-stdin\n');
  assert.equal(readFileSync(join(work, 'enrolled-stdin', 'host'), 'utf8'), 'from-stdin\n');
});

test('an empty token file, both forms at once, or neither: exit 2 with one line', () => {
  const empty = join(work, 'empty.token');
  writeFileSync(empty, '\n');
  const base = [MAIN, 'agent', 'enroll', '--server', fleet.enrollAddress, '--ca', ca(), '--dir', join(work, 'refused')];
  for (const [args, pattern] of [
    [['--token-file', empty], /--token-file .*empty\.token: holds no token/],
    [['--token-file', empty, '--token', 'x'], /--token.*cannot be used with.*--token-file/],
    [[], /give the token with --token-file FILE/],
  ] as const) {
    const run = spawnSync(process.execPath, [...base, ...args], { encoding: 'utf8', input: '' });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, pattern);
  }
});

test('pyrelo hosts token prints the --token-file form, and the token only on its own line', () => {
  const run = spawnSync(process.execPath, [MAIN, 'hosts', 'token', 'hinted', '--control', fleet.control.address], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const [token, ...hints] = run.stdout.trim().split('\n');
  assert.match(hints.join('\n'), /pyrelo agent enroll .*--token-file -/);
  assert.ok(!hints.join('\n').includes(token!), 'the hint does not repeat the token on a command line');
});
