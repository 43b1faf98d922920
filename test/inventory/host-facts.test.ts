// host-facts: against /etc/os-release, the running libc's banner and `ld.so --help` /
// `--list-diagnostics`, plus scratch roots for os-release quoting, musl and an empty root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipBeforeGlibc } from '../support/running-glibc.js';
import {
  chrootCanonInner,
  detectLibc,
  parseOsRelease,
  readGlibcBannerVersion,
  readLoaderDefaults,
  readOsRelease,
} from '../../src/inventory/host-facts.js';

const LDSO = '/lib64/ld-linux-x86-64.so.2';
const notX86 = process.arch === 'x64' ? false : 'the ld.so comparisons need x86-64';

test('readOsRelease("/") agrees with sourcing /etc/os-release in sh', () => {
  const os = readOsRelease('/');
  assert.ok(os);
  const sh = spawnSync(
    'sh',
    ['-c', '. /etc/os-release; printf "%s\\n" "$ID" "$VERSION_ID" "$PRETTY_NAME" "$ID_LIKE"'],
    { encoding: 'utf8' },
  );
  const [id, versionId, prettyName, idLike] = sh.stdout.split('\n');
  assert.equal(os.id, id);
  assert.equal(os.versionId ?? '', versionId);
  assert.equal(os.prettyName ?? '', prettyName);
  assert.deepEqual(
    os.idLike,
    (idLike ?? '').split(' ').filter((s) => s),
  );
});

test('os-release quoting per os-release(5)', () => {
  const os = parseOsRelease(
    [
      '# comment',
      'ID=rocky',
      'ID_LIKE="rhel centos fedora"',
      'PRETTY_NAME=\'Rocky "Blue" Linux\'',
      'VERSION_ID="9.\\$3\\"x\\\\"',
      'VERSION_CODENAME=',
    ].join('\n'),
  );
  assert.deepEqual(os, {
    id: 'rocky',
    versionId: '9.$3"x\\',
    prettyName: 'Rocky "Blue" Linux',
    versionCodename: null,
    idLike: ['rhel', 'centos', 'fedora'],
  });
  assert.equal(parseOsRelease('NAME=x\n').id, 'linux');
});

test('detectLibc("/") finds the glibc the loader uses, with the version libc.so.6 prints', { skip: notX86 }, () => {
  const libc = detectLibc('/');
  assert.equal(libc.kind, 'glibc');
  assert.ok(libc.path);
  // Running libc.so.6 prints its banner; ldd --version ends its first line with the version.
  const banner = spawnSync(libc.path, [], { encoding: 'utf8' }).stdout;
  assert.match(banner, new RegExp(`release version ${libc.version!.replace('.', '\\.')}\\b`));
  const ldd = spawnSync('ldd', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!;
  assert.ok(ldd.endsWith(' ' + libc.version), ldd);
  // The same file the loader resolves for libc.so.6.
  const resolved = spawnSync(LDSO, ['--list', '/bin/sh'], { encoding: 'utf8' }).stdout;
  const m = /libc\.so\.6 => (\S+)/.exec(resolved);
  assert.ok(m);
  assert.equal(m[1], libc.path);
});

test('readGlibcBannerVersion: the banner anywhere in a file, across a 1 MiB read and after look-alikes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-banner-'));
  try {
    const banner = 'GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\n';
    // Words that start like the banner but are not it come first: the search goes on past them.
    const lookAlikes = ['', 'GNU C Library \0', 'GNU C Library GNU C Library x\n'];
    const MiB = 1 << 20;
    for (const offset of [0, 4096, MiB - 300, MiB - 40, MiB - 3, MiB + 1, 2 * MiB - 100]) {
      for (const before of lookAlikes) {
        const bytes = Buffer.alloc(offset + 2048, 'x');
        Buffer.from(before + banner, 'latin1').copy(bytes, offset);
        const file = join(dir, `libc-${offset}-${before.length}`);
        writeFileSync(file, bytes);
        assert.equal(readGlibcBannerVersion(file), '2.36', `banner at ${offset} after ${JSON.stringify(before)}`);
      }
    }
    const none = join(dir, 'none');
    writeFileSync(none, Buffer.concat([Buffer.alloc(MiB + 10, 'x'), Buffer.from('GNU C Library release 2.36\n')]));
    assert.equal(readGlibcBannerVersion(none), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readLoaderDefaults("/") matches ld.so --help and --list-diagnostics', { skip: notX86 }, (t) => {
  const d = readLoaderDefaults('/', 'x86_64');
  assert.ok(d);
  assert.equal(d.source, 'ld.so');
  assert.equal(d.interpreter, LDSO);
  assert.equal(readLoaderDefaults('/', 'sparc'), null);
  const ldso = (option: string): string => {
    const run = spawnSync(LDSO, [option], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${LDSO} ${option} exited ${run.status}: ${run.error?.message ?? run.stderr}`);
    return run.stdout;
  };
  // glibc 2.33 added the "(system search path)" lines to --help, 2.34 --list-diagnostics.
  if (skipBeforeGlibc(t, 2, 33, 'system search path in `ld.so --help`')) return;
  const helpDirs = [...ldso('--help').matchAll(/^ {2}(\S+) \(system search path\)$/gm)].map((m) => m[1]!);
  assert.ok(helpDirs.length > 0, '`ld.so --help` lists no "(system search path)" line');
  assert.deepEqual(
    d.systemDirs.map((s) => s.replace(/\/$/, '')),
    helpDirs,
  );
  if (skipBeforeGlibc(t, 2, 34, '`ld.so --list-diagnostics`')) return;
  const diag = ldso('--list-diagnostics');
  const lib = /^dl_dst_lib="(.*)"$/m.exec(diag);
  assert.ok(lib, '`ld.so --list-diagnostics` prints no dl_dst_lib');
  assert.equal(d.libToken, lib[1]);
  const sys = [...diag.matchAll(/^path\.system_dirs\[0x[0-9a-f]+\]="(.*)"$/gm)].map((m) => m[1]!);
  assert.ok(sys.length > 0, '`ld.so --list-diagnostics` prints no path.system_dirs');
  assert.deepEqual(d.systemDirs, sys);
});

test('scratch roots: musl, no libc, fallback defaults, chroot_canon', () => {
  const root = mkdtempSync(join(tmpdir(), 'pyrelo-hostfacts-'));
  try {
    assert.deepEqual(detectLibc(root), { kind: 'none', version: null, path: null });
    assert.equal(readOsRelease(root), null);

    mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
    mkdirSync(join(root, 'usr/lib'), { recursive: true });
    writeFileSync(join(root, 'lib/ld-musl-x86_64.so.1'), 'not really');
    writeFileSync(join(root, 'lib/apk/db/installed'), 'P:busybox\nV:1.36.1-r5\n\nP:musl\nV:1.2.4-r2\nA:x86_64\n\n');
    writeFileSync(join(root, 'usr/lib/os-release'), 'ID=alpine\nVERSION_ID=3.19.1\n');
    symlinkSync('../usr/lib/os-release', join(root, 'os-release-link'));
    assert.deepEqual(detectLibc(root), { kind: 'musl', version: '1.2.4', path: '/lib/ld-musl-x86_64.so.1' });
    assert.equal(readOsRelease(root)?.id, 'alpine');

    // An interpreter whose bytes hold no SYSTEM_DIRS: the data file's layout for the distro.
    mkdirSync(join(root, 'lib64'), { recursive: true });
    writeFileSync(join(root, 'lib64/ld-linux-x86-64.so.2'), 'stub');
    writeFileSync(join(root, 'usr/lib/os-release'), 'ID=rocky\nID_LIKE="rhel centos fedora"\n');
    assert.deepEqual(readLoaderDefaults(root, 'x86_64'), {
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      systemDirs: ['/lib64/', '/usr/lib64/'],
      libToken: 'lib64',
      source: 'data',
    });
    writeFileSync(join(root, 'usr/lib/os-release'), 'ID=ubuntu\nID_LIKE=debian\n');
    assert.equal(readLoaderDefaults(root, 'x86_64')?.libToken, 'lib/x86_64-linux-gnu');

    // Links resolve inside the root; '..' stops at its top.
    symlinkSync('/usr/lib', join(root, 'libalias'));
    assert.equal(chrootCanonInner(root, '/libalias/../../../usr/lib/os-release'), '/usr/lib/os-release');
    assert.equal(chrootCanonInner(root, '/libalias/os-release'), '/usr/lib/os-release');
    assert.equal(chrootCanonInner(root, '/nope/x'), null);
    assert.equal(chrootCanonInner(root, '/usr/lib/absent'), '/usr/lib/absent');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  assert.ok(readFileSync('/etc/os-release').length > 0);
});
