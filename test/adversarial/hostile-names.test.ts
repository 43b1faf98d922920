// Issue 13 item 14: `bundles add` stored bundle names that could never name a release folder
// (`$(…)`, a leading dot or dash, spaces, C1 control characters, 129+ characters), the CLI printed
// stored names raw (an escape sequence in a name retitles the terminal or clears it), and install
// prefixes were taken as given (`/opt/../etc`). Against a real server process: each hostile name
// is refused by `pyrelo bundles add` with exit 2 and one line, nothing kept; names an older server
// stored are printed escaped by every listing, in text and in JSON (which still parses back to the
// name); a `..` prefix is refused by hosts add, deploy and the host-side release commands, and
// another one is stored in its one spelling.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { manifestText } from '../../src/bundle/manifest.js';
import { CompatDatabase } from '../../src/server/db/database.js';
import { handTar } from '../bundle/tar-builder.js';
import { sampleManifest } from '../bundle/sample-manifest.js';
import { startFleet, type Fleet } from './fleet.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');
// Every control character a terminal acts on: C0 but line feed and tab, DEL, C1.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let work: string;
let fleet: Fleet;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-names-'));
  fleet = await startFleet(join(work, 'fleet'));
});

after(async () => {
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

function pyrelo(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(
    process.execPath,
    [MAIN, ...args, ...(args[0] === 'agent' ? [] : ['--control', fleet.control.address])],
    { encoding: 'utf8' },
  );
}

let archives = 0;
function archiveNamed(name: string): string {
  const file = join(work, `bundle-${archives++}.tar.gz`);
  writeFileSync(
    file,
    gzipSync(
      handTar([
        { name: 'pyrelo.json', data: manifestText({ ...sampleManifest(), name, grafted: [], elf: [], files: [] }) },
      ]),
    ),
  );
  return file;
}

const HOSTILE: readonly [string, string][] = [
  ['a command substitution', '$(reboot)'],
  ['a leading dash', '-rf'],
  ['a leading dot', '.hidden'],
  ['a space', 'two words'],
  ['a C1 control character (CSI)', 'csi\u009b2J'],
  ['129 characters', 'a'.repeat(129)],
  ['200 characters', 'b'.repeat(200)],
  ['a path', '../../etc/evil'],
  ['".."', '..'],
  ['NUL', 'nul\u0000x'],
  ['an escape sequence', 'title\u001b]0;owned\u0007x'],
  ['5,000 characters', 'c'.repeat(5000)],
];

for (const [what, name] of HOSTILE) {
  test(`bundles add refuses a bundle name with ${what}: exit 2, one line, nothing kept`, () => {
    const run = pyrelo(['bundles', 'add', archiveNamed(name)]);
    assert.equal(run.status, 2, run.stdout + run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.ok(run.stderr.length < 400, `a short line: ${run.stderr.length} characters`);
    assert.doesNotMatch(run.stderr, RAW_CONTROL);
    assert.match(run.stderr, /bundle name|invalid manifest: name/);
    assert.deepEqual(JSON.parse(pyrelo(['bundles', 'list', '--json']).stdout), []);
    for (const sub of ['archives', 'trees', 'incoming'])
      assert.deepEqual(readdirSync(join(fleet.dir, 'server', 'bundles', sub)), [], sub);
  });
}

test('a plain name is still stored', () => {
  const run = pyrelo(['bundles', 'add', archiveNamed('plain-app_1.0+local'), '--json']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).name, 'plain-app_1.0+local');
});

test('names an older server stored are printed escaped, in text and in JSON', () => {
  const name = 'evil\u001b]0;owned\u0007\u001b[2J\u009b31m\u007f\rover';
  // Stored as a server without the name rule stored it, next to the running server (WAL).
  const db = new CompatDatabase(join(fleet.dir, 'server', 'compat.sqlite'));
  const digest = 'e'.repeat(64);
  db.addBundle({
    digest,
    name,
    size: 1,
    libc: 'host',
    glibcFloor: null,
    kernelFloor: null,
    pythonVersion: '3.11.7',
    archiveName: 'x.tar.gz',
    manifest: '{}',
    elf: [],
  });
  db.close();
  for (const args of [
    ['bundles', 'list'],
    ['bundles', 'show', digest],
    ['compat', digest],
    ['bundles', 'list', '--json'],
    ['bundles', 'show', digest, '--json'],
  ]) {
    const run = pyrelo(args);
    assert.equal(run.status, 0, `${args.join(' ')}: ${run.stderr}`);
    assert.doesNotMatch(run.stdout, RAW_CONTROL, args.join(' '));
    assert.match(
      run.stdout,
      /evil\\u001b\]0;owned\\u0007\\u001b\[2J\\u009b31m\\u007f\\rover|evil\\u001b\]0;owned\\u0007\\u001b\[2J\\u009b31m\\u007f\\u000dover/,
      args.join(' '),
    );
  }
  const listed = JSON.parse(pyrelo(['bundles', 'list', '--json']).stdout) as { name: string }[];
  assert.ok(
    listed.some((b) => b.name === name),
    'the JSON still parses back to the stored name',
  );
  // A name given on the command line comes back in the error line, escaped too.
  const missing = pyrelo(['bundles', 'show', 'no\u001b[2Jsuch']);
  assert.equal(missing.status, 2);
  assert.doesNotMatch(missing.stderr, RAW_CONTROL);
  assert.match(missing.stderr, /no\\u001b\[2Jsuch/);
});

test(
  'a prefix with ".." is refused by hosts add, deploy and the host-side release commands; another is stored in ' +
    'its one spelling',
  () => {
    const refused = pyrelo(['hosts', 'add', 'web-1', '--chroot', '/srv/root', '--prefix', '/opt/../etc']);
    assert.equal(refused.status, 2, refused.stderr);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /--prefix "\/opt\/\.\.\/etc": holds a "\.\." segment/);

    const added = pyrelo([
      'hosts',
      'add',
      'web-2',
      '--chroot',
      '/srv/root',
      '--prefix',
      '/opt//pyrelo/./app/',
      '--json',
    ]);
    assert.equal(added.status, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).access.prefix, '/opt/pyrelo/app');

    const deploy = pyrelo([
      'deploy',
      archiveNamed('plain-app_1.0+local'),
      '--host',
      'web-2',
      '--prefix',
      '/opt/pyrelo/../../etc',
    ]);
    assert.equal(deploy.status, 2, deploy.stderr);
    assert.match(deploy.stderr, /^pyrelo: --prefix "\/opt\/pyrelo\/\.\.\/\.\.\/etc": holds a "\.\." segment/);
    for (const command of ['list', 'rollback', 'verify']) {
      const run = pyrelo(['agent', 'release', command, '--prefix', `${work}/p/../../etc`, '--json']);
      assert.equal(run.status, 2, `${command}: ${run.stderr}`);
      assert.match(run.stderr, /holds a "\.\." segment/);
    }
  },
);
