// bin/activate and bin/activate.fish, sourced by the real shells (bash, zsh, dash with
// PYRELO_BUNDLE, fish) from a bundle folder whose path has a space and a non-ASCII character:
// the bundle's bin/ comes first on PATH, the prompt carries the name, PYRELO_BUNDLE names the
// bundle, and deactivate puts PATH and the prompt back exactly as they were.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeActivate } from '../../src/builder/launchers.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

const PATH = '/usr/bin:/bin';

/** A folder with bin/python3 (printing "bundled") and both activation scripts, for prompt `name`. */
async function fakeBundle(name: string): Promise<{ dir: string; bundle: string }> {
  const dir = await makeTempDir('pyrelo-activate-');
  const bundle = join(dir, 'my bündle');
  mkdirSync(join(bundle, 'bin'), { recursive: true });
  writeFileSync(join(bundle, 'bin', 'python3'), '#!/bin/sh\necho bundled\n');
  chmodSync(join(bundle, 'bin', 'python3'), 0o755);
  writeActivate(bundle, name);
  return { dir, bundle };
}

function shellFor(name: string): string | null {
  for (const dir of ['/usr/bin', '/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

// Each prints: python3's output, PYRELO_BUNDLE, the prompt, then after deactivate PATH, the prompt
// and whether PYRELO_BUNDLE is still set.
// (The shells' own start-up files may change PATH first: the PATH before activation is printed too.)
const POSIX = (source: string): string =>
  `PS1='$ '; echo "$PATH"; ${source} && python3 && echo "$PYRELO_BUNDLE" && echo "$PS1" ` +
  '&& deactivate && echo "$PATH" && echo "$PS1" && echo "${PYRELO_BUNDLE-unset}"';

for (const shell of ['bash', 'zsh', 'dash'] as const) {
  test(`bin/activate in ${shell}`, async (t) => {
    const path = shellFor(shell);
    if (path === null) return t.skip(`${shell} is not installed (scripts/install-system-deps.sh)`);
    const { dir, bundle } = await fakeBundle("it's");
    try {
      // dash cannot tell where a sourced file is: the script says so, and PYRELO_BUNDLE helps.
      const source =
        shell === 'dash' ? `PYRELO_BUNDLE='${bundle}' . '${bundle}/bin/activate'` : `. '${bundle}/bin/activate'`;
      // The C locale: non-ASCII bytes in the bundle's path must survive it.
      const r = await execa(path, ['-c', POSIX(source)], {
        cwd: '/',
        env: { PATH, LC_ALL: 'C' },
        extendEnv: false,
        stdin: 'ignore',
      });
      const [before, ...rest] = r.stdout.split('\n');
      assert.deepEqual(rest, ['bundled', bundle, "(it's) $ ", before, '$ ', 'unset']);
      if (shell === 'dash') {
        const lost = await execa(path, ['-c', `. '${bundle}/bin/activate'`], {
          cwd: '/',
          env: { PATH },
          extendEnv: false,
          reject: false,
          stdin: 'ignore',
        });
        assert.notEqual(lost.exitCode, 0);
        assert.match(lost.stderr, /set PYRELO_BUNDLE=\/path\/to\/bundle first/);
      }
    } finally {
      await removeDir(dir);
    }
  });
}

test('bin/activate.fish in fish', async (t) => {
  const fish = shellFor('fish');
  if (fish === null) return t.skip('fish is not installed (scripts/install-system-deps.sh)');
  const { dir, bundle } = await fakeBundle("it's");
  try {
    const script = [
      'function fish_prompt; echo -n "fish$status> "; end', // shows the exit status it was given
      `source '${bundle}/bin/activate.fish'`,
      'python3',
      'echo $PYRELO_BUNDLE',
      'echo (fish_prompt)',
      'false; echo (fish_prompt)', // the original prompt still sees the last exit status
      'deactivate',
      'echo (string join : $PATH)',
      'echo (fish_prompt)',
      'set -q PYRELO_BUNDLE; or echo unset',
      'functions -q deactivate; or echo no-deactivate',
    ].join('\n');
    const r = await execa(fish, ['--no-config', '-c', `echo (string join : $PATH)\n${script}`], {
      cwd: '/',
      env: { PATH, HOME: dir, LC_ALL: 'C' },
      extendEnv: false,
      stdin: 'ignore',
    });
    const [before, ...rest] = r.stdout.split('\n');
    assert.deepEqual(rest, [
      'bundled',
      bundle,
      "(it's) fish0> ",
      "(it's) fish1> ",
      before,
      'fish0> ',
      'unset',
      'no-deactivate',
    ]);
  } finally {
    await removeDir(dir);
  }
});
