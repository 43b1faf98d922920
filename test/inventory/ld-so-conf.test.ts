// ld-so-conf: against `ldconfig -v` on this machine, and on a scratch root with nested includes,
// relative includes, comments, hwcap lines, =type suffixes, duplicates and an include loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLdSoConf } from '../../src/inventory/ld-so-conf.js';

/**
 * The directories `ldconfig -v` scans ("DIR: (from FILE:LINE)" lines), in its order; null when
 * there is no ldconfig.
 */
function ldconfigDirs(args: string[]): string[] | null {
  const r = spawnSync('ldconfig', ['-v', '-N', '-X', ...args], { encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
  assert.equal(r.status, 0, `ldconfig -v exited ${r.status}: ${r.error?.message ?? r.stderr}`);
  return r.stdout.split('\n').flatMap((l) => {
    const m = /^([^\t ].*?):(?: \(from .*\))?$/.exec(l);
    return m ? [m[1]!] : [];
  });
}

test('this machine: same directories, same order as `ldconfig -v`', (t) => {
  const want = ldconfigDirs([]);
  if (want === null) {
    t.skip('no ldconfig on PATH');
    return;
  }
  assert.ok(want.length > 0, '`ldconfig -v` printed no directory');
  assert.deepEqual(readLdSoConf('/'), want);
});

test('scratch root: includes, comments, hwcap, =type, duplicates, loops', () => {
  const root = mkdtempSync(join(tmpdir(), 'pyrelo-ldsoconf-'));
  try {
    for (const d of ['a', 'b', 'c', 'd', 'e', 'real', 'etc/ld.so.conf.d', 'etc/more']) {
      mkdirSync(join(root, d), { recursive: true });
    }
    symlinkSync('/real', join(root, 'alias')); // absolute link: resolved inside the root
    writeFileSync(
      join(root, 'etc/ld.so.conf'),
      [
        '# comment',
        '/a   # trailing comment',
        'include ld.so.conf.d/*.conf',
        '  hwcap 1 nosegneg',
        '/b/=libc6',
        '/missing',
        'include /etc/more/x.conf /etc/nothing-*.conf',
        '',
      ].join('\n'),
    );
    writeFileSync(join(root, 'etc/ld.so.conf.d/10-c.conf'), '/c//\n/a\n');
    writeFileSync(join(root, 'etc/ld.so.conf.d/20-loop.conf'), 'include ../ld.so.conf\n/d\n');
    writeFileSync(join(root, 'etc/ld.so.conf.d/.hidden.conf'), '/e\n');
    writeFileSync(join(root, 'etc/more/x.conf'), '/alias\ninclude y.conf\n');
    writeFileSync(join(root, 'etc/more/y.conf'), '/real\t\n/e\n');
    const dirs = readLdSoConf(root, '/etc/ld.so.conf', ['/a/', '/lib/']);
    // 20-loop.conf re-includes ld.so.conf, which is already being read: the loop is cut there.
    assert.deepEqual(dirs, ['/a', '/c', '/d', '/b', '/alias', '/e']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
