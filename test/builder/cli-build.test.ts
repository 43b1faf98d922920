// pyrelo build with bad input: one clear line naming the input, exit status 2, and nothing left
// behind (no OUTPUT, no staging folder).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { BASE_PYTHON, ensureWheelhouse } from './wheelhouse.js';
import { buildSkipReason } from './shared-build.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

async function pyrelo(args: string[], cwd: string): Promise<{ exitCode: number; stderr: string }> {
  const r = await execa(process.execPath, [PYRELO, ...args], { cwd, reject: false });
  return { exitCode: r.exitCode ?? -1, stderr: r.stderr };
}

test('build refuses bad input with exit 2 and writes nothing', { timeout: 120_000 }, async (t) => {
  const reason = buildSkipReason();
  if (reason) return t.skip(reason);
  const dir = await makeTempDir();
  try {
    mkdirSync(join(dir, 'exists'));
    writeFileSync(join(dir, 'exists', 'keep'), 'x');
    const cases: Array<[string[], RegExp]> = [
      [['--python', '/nonexistent/python3', '-o', 'out'], /^pyrelo: --python \/nonexistent\/python3: cannot run it/m],
      [['--python', BASE_PYTHON, '--wheelhouse', 'nope', '-o', 'out'], /^pyrelo: --wheelhouse nope: no such folder$/m],
      [['--python', BASE_PYTHON, '-r', 'missing.txt', '-o', 'out'], /^pyrelo: -r missing.txt: no such file$/m],
      [['--python', BASE_PYTHON, '--entry', 'bad entry', '-o', 'out'], /^pyrelo: --entry bad entry: expected NAME=module:function$/m],
      [['--python', BASE_PYTHON, '-o', 'exists'], /^pyrelo: -o exists: already exists \(use --clear to replace it\)$/m],
      [['--python', BASE_PYTHON, '--libc', 'auto', '--min-glibc', 'new', '-o', 'out'], /^pyrelo: --min-glibc new: expected a glibc version such as 2\.17$/m],
      [['--python', BASE_PYTHON, '--libc', 'musl', '-o', 'out'], /error: option '--libc <policy>' argument 'musl' is invalid/],
    ];
    for (const [args, expected] of cases) {
      const r = await pyrelo(['build', ...args], dir);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected);
    }
    // A requirement the wheelhouse cannot satisfy fails in the install step; the staging folder goes.
    const wheelhouse = await ensureWheelhouse();
    const r = await pyrelo(['build', 'no-such-package-pyrelo', '--python', BASE_PYTHON, '--wheelhouse', wheelhouse, '-o', 'out.tar.gz'], dir);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /^pyrelo build: \[install\] \.\.\.$/m);
    assert.match(r.stderr, /^pyrelo: no-such-package-pyrelo: pip install failed \(exit 1\):/m);
    assert.match(r.stderr, /No matching distribution found for no-such-package-pyrelo/);
    assert.deepEqual(readdirSync(dir).sort(), ['exists']);
    assert.deepEqual(readdirSync(join(dir, 'exists')), ['keep']);
  } finally {
    await removeDir(dir);
  }
});
