// The pyrelo command as a user runs it: exit codes, messages that name the input, JSON output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { scenarioBuilders } from '../support/scenarios.js';
import { buildPyreloBin, PYRELO_BIN } from '../support/pyrelo-bin.js';

const cli = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const pyrelo = (...args: string[]) => execa('node', [cli, ...args], { reject: false });

test('check: a loadable program exits 0 and shows where each library was found', async () => {
  const r = await pyrelo('check', '/usr/bin/ls');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /libc\.so\.6 => \/lib\/x86_64-linux-gnu\/libc\.so\.6 \[ld\.so\.cache\]/);
  assert.match(r.stdout, /1 file checked on this host: 1 load, 0 would not/);
});

test("check: a missing library exits 1 with the loader's own words and what was tried", async () => {
  const dir = await makeTempDir('pyrelo-cli-');
  try {
    const scenario = await scenarioBuilders['missing-library']!(dir);
    const r = await pyrelo('check', scenario.files[0]!);
    assert.equal(r.exitCode, 1);
    assert.match(r.stdout, /error: .*: cannot open shared object file: No such file or directory/);
    assert.match(r.stdout, /not found/);
    assert.match(r.stdout, /tried .*\(default path: absent\)/);
    const json = await pyrelo('check', '--json', scenario.files[0]!);
    const parsed = JSON.parse(json.stdout) as {
      summary: { failing: number };
      files: { problems: { kind: string }[] }[];
    };
    assert.equal(parsed.summary.failing, 1);
    assert.ok(parsed.files[0]!.problems.some((p) => p.kind === 'missing-library'));
  } finally {
    await removeDir(dir);
  }
});

test('check: bad input exits 2 and names the input and the problem', async () => {
  const dir = await makeTempDir('pyrelo-cli-bad-');
  try {
    const missing = await pyrelo('check', join(dir, 'nothing-here'));
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /nothing-here: no such file or directory/);

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello');
    const notElf = await pyrelo('check', text);
    assert.equal(notElf.exitCode, 2);
    assert.match(notElf.stderr, /notes\.txt: not an ELF file/);

    // A library cut short after its header: the reader refuses it by name and field.
    const truncated = join(dir, 'libcut.so');
    copyFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1', truncated);
    writeFileSync(truncated, readFileSync(truncated).subarray(0, 200));
    const cut = await pyrelo('check', truncated);
    assert.equal(cut.exitCode, 2);
    assert.match(cut.stdout, /libcut\.so: .*(e_phoff|program header|e_shoff|too short|out of)/i);

    const usage = await pyrelo('check', '--env', 'FOO=bar', '/usr/bin/ls');
    assert.equal(usage.exitCode, 2);
    assert.match(usage.stderr, /FOO is not emulated/);
  } finally {
    await removeDir(dir);
  }
});

test('inventory: prints the host facts', async () => {
  const r = await pyrelo('inventory');
  assert.equal(r.exitCode, 0, r.stderr);
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1];
  assert.ok(pretty);
  assert.ok(r.stdout.includes(pretty), r.stdout);
  assert.match(r.stdout, /libc: +glibc 2\.\d+/);
});

test("--version prints package.json's version, with the commit from a git checkout, and exits 0", async () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const head = await execa('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], { reject: false });
  const expected = head.exitCode === 0 ? `${version}+${head.stdout.trim()}` : version;
  // Asked for only on use (cli.ts): the same through the one-file executable.
  await buildPyreloBin();
  for (const entry of [cli, PYRELO_BIN]) {
    for (const flag of ['--version', '-V']) {
      const r = await execa('node', [entry, flag], { reject: false });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout.trim(), expected, `${entry} ${flag}`);
    }
  }
});
