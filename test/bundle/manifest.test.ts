// The manifest: a written manifest reads back equal; every kind of bad manifest is refused with an
// error naming the file and the field, and nothing is written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError } from '../../src/bundle/errors.js';
import {
  readManifest,
  symlinkStaysInside,
  validateManifest,
  writeManifest,
  type Manifest,
} from '../../src/bundle/manifest.js';
import { sampleManifest } from './sample-manifest.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

test('manifest: write then read gives the same manifest', async () => {
  const dir = await makeTempDir();
  try {
    writeManifest(dir, sampleManifest());
    assert.deepEqual(readManifest(dir), sampleManifest());
    assert.deepEqual(readdirSync(dir), ['pyrelo.json'], 'no temporary file left');
  } finally {
    await removeDir(dir);
  }
});

test(
  'manifest: the project version and the removed folders of a slim category read back; older manifests without ' +
    'them stay readable',
  async () => {
    const dir = await makeTempDir();
    try {
      const named: Manifest = {
        ...sampleManifest(),
        version: '2.0.post1',
        slimmed: [
          {
            category: 'package tests (--slim-package-tests)',
            files: 2,
            bytes: 90,
            paths: ['lib/python3.11/site-packages/app/tests'],
          },
        ],
      };
      writeManifest(dir, named);
      const read = readManifest(dir);
      assert.equal(read.version, '2.0.post1');
      assert.deepEqual(read.slimmed[0]?.paths, ['lib/python3.11/site-packages/app/tests']);
      // Written before names were checked: a name no build writes today is still read.
      writeFileSync(join(dir, 'pyrelo.json'), JSON.stringify({ ...sampleManifest(), name: 'my app' }));
      const old = readManifest(dir);
      assert.equal(old.name, 'my app');
      assert.equal('version' in old, false);
      assert.equal('paths' in old.slimmed[0]!, false);
    } finally {
      await removeDir(dir);
    }
  },
);

test('manifest: a smoke command reads back; without one the field stays absent', async () => {
  const dir = await makeTempDir();
  try {
    const withSmoke: Manifest = { ...sampleManifest(), smoke: ['bin/python3', '-c', 'import ssl'] };
    writeManifest(dir, withSmoke);
    assert.deepEqual(readManifest(dir).smoke, ['bin/python3', '-c', 'import ssl']);
    writeManifest(dir, sampleManifest());
    assert.equal('smoke' in readManifest(dir), false);
  } finally {
    await removeDir(dir);
  }
});

test('manifest: run-time needs read back; a manifest of an older pyrelo, without them, still reads', async () => {
  const dir = await makeTempDir();
  try {
    const needs = [
      { name: 'libyaml-0.so.2', caller: 'bin/python3.11', grafted: 'lib/pyrelo-grafted/libyaml-0.so.2' },
      { name: '/usr/lib/x86_64-linux-gnu/libGL.so.1', caller: 'bin/python3.11', grafted: null },
    ];
    writeManifest(dir, { ...sampleManifest(), runtimeNeeds: needs });
    assert.deepEqual(readManifest(dir).runtimeNeeds, needs);
    writeManifest(dir, sampleManifest());
    assert.equal('runtimeNeeds' in readManifest(dir), false);
  } finally {
    await removeDir(dir);
  }
});

const NEED = { name: 'libmagic.so.1', caller: 'bin/python3.11', grafted: null };
const ALLOWED = { soname: 'libodbc.so.2', neededBy: ['bin/python3.11'] };

test(
  'manifest: the libraries allowed missing (--allow-missing) read back; older manifests without them stay ' +
    'readable',
  async () => {
    const dir = await makeTempDir();
    try {
      writeManifest(dir, { ...sampleManifest(), allowMissing: [ALLOWED] });
      assert.deepEqual(readManifest(dir).allowMissing, [ALLOWED]);
      writeManifest(dir, sampleManifest());
      assert.equal('allowMissing' in readManifest(dir), false);
    } finally {
      await removeDir(dir);
    }
  },
);

test(
  'manifest: the files only ever preloaded ' + '(--preload-only) read back; older manifests without them stay readable',
  async () => {
    const dir = await makeTempDir();
    try {
      writeManifest(dir, { ...sampleManifest(), preloadOnly: ['bin/python3.11'] });
      assert.deepEqual(readManifest(dir).preloadOnly, ['bin/python3.11']);
      writeManifest(dir, sampleManifest());
      assert.equal('preloadOnly' in readManifest(dir), false);
    } finally {
      await removeDir(dir);
    }
  },
);

const BAD: Array<[string, (m: Record<string, unknown>) => void, RegExp]> = [
  [
    'preload-only path outside the bundle',
    (m) => {
      m.preloadOnly = ['../libjemalloc.so'];
    },
    /preloadOnly\[0\]/,
  ],
  [
    'preload-only path not in files',
    (m) => {
      m.preloadOnly = ['lib/nothere.so'];
    },
    /preloadOnly\[0\]: lib\/nothere\.so is not in files/,
  ],
  [
    'preload-only path listed twice',
    (m) => {
      m.preloadOnly = ['bin/python3.11', 'bin/python3.11'];
    },
    /preloadOnly: a path listed twice/,
  ],
  [
    'wrong format',
    (m) => {
      m.format = 'other/9';
    },
    /format: expected "pyrelo-bundle\/1"/,
  ],
  [
    'absolute file path',
    (m) => {
      (m.files as Array<Record<string, unknown>>)[1]!.path = '/etc/passwd';
    },
    /files\[1\]\.path: unsafe path/,
  ],
  [
    '.. in a path',
    (m) => {
      (m.files as Array<Record<string, unknown>>)[1]!.path = 'bin/../../x';
    },
    /unsafe path/,
  ],
  [
    'bad sha256',
    (m) => {
      (m.files as Array<Record<string, unknown>>)[1]!.sha256 = 'xyz';
    },
    /files\[1\]\.sha256: expected 64 lowercase hex digits/,
  ],
  [
    'missing mode',
    (m) => {
      delete (m.files as Array<Record<string, unknown>>)[1]!.mode;
    },
    /files\[1\]\.mode: expected a non-negative integer/,
  ],
  [
    'symlink out',
    (m) => {
      (m.files as Array<Record<string, unknown>>)[0]!.target = '../../etc';
    },
    /leaves the bundle/,
  ],
  [
    'duplicate file',
    (m) => {
      (m.files as unknown[]).push((m.files as unknown[])[1]);
    },
    /listed twice/,
  ],
  [
    'absolute RUNPATH',
    (m) => {
      (m.elf as Array<Record<string, unknown>>)[0]!.runpath = '/opt/python/lib';
    },
    /elf\[0\]\.runpath: element "\/opt\/python\/lib" is not \$ORIGIN-relative/,
  ],
  [
    'ELF not in files',
    (m) => {
      (m.elf as Array<Record<string, unknown>>)[0]!.path = 'bin/nothere';
    },
    /bin\/nothere is not in files/,
  ],
  [
    'bad libc',
    (m) => {
      m.libc = 'musl';
    },
    /libc: expected "host" or "bundle"/,
  ],
  [
    'bad glibc floor',
    (m) => {
      m.glibcFloor = 'GLIBC_2.34';
    },
    /glibcFloor: not a version/,
  ],
  [
    'empty smoke command',
    (m) => {
      m.smoke = [];
    },
    /smoke: expected a program and its arguments/,
  ],
  [
    'smoke argument not a string',
    (m) => {
      m.smoke = ['bin/python3', 1];
    },
    /smoke\[1\]: expected a string/,
  ],
  [
    'absolute smoke program',
    (m) => {
      m.smoke = ['/bin/sh', '-c', 'true'];
    },
    /smoke\[0\]: unsafe path/,
  ],
  [
    'name with a slash',
    (m) => {
      m.name = '../app';
    },
    /name: "\.\.\/app": holds "\/" or a control character/,
  ],
  [
    'name with a control character',
    (m) => {
      m.name = 'app\u001b[31m';
    },
    /name: "app\\u001b\[31m": holds/,
  ],
  [
    'name of 300 characters',
    (m) => {
      m.name = 'a'.repeat(300);
    },
    /name: "a{60}…" \(300 characters\): longer than 255 characters/,
  ],
  [
    'bad project version',
    (m) => {
      m.version = '1.0; rm -rf /';
    },
    /version: not a package version/,
  ],
  [
    'slim path outside the bundle',
    (m) => {
      (m.slimmed as Array<Record<string, unknown>>)[0]!.paths = ['../x'];
    },
    /slimmed\[0\]\.paths\[0\]: unsafe path/,
  ],
  [
    'smoke program not in files',
    (m) => {
      m.smoke = ['bin/nothere'];
    },
    /smoke\[0\]: bin\/nothere is not in files/,
  ],
  [
    'run-time needs not a list',
    (m) => {
      m.runtimeNeeds = {};
    },
    /runtimeNeeds: expected an array/,
  ],
  [
    'run-time need named by a relative path',
    (m) => {
      m.runtimeNeeds = [{ ...NEED, name: 'lib/libmagic.so.1' }];
    },
    /runtimeNeeds\[0\]\.name: expected a library name or an absolute path/,
  ],
  [
    'run-time need caller outside the bundle',
    (m) => {
      m.runtimeNeeds = [{ ...NEED, caller: '/usr/bin/python3' }];
    },
    /runtimeNeeds\[0\]\.caller: unsafe path/,
  ],
  [
    'run-time need caller not in files',
    (m) => {
      m.runtimeNeeds = [{ ...NEED, caller: 'lib/nothere.so' }];
    },
    /runtimeNeeds\[0\]\.caller: lib\/nothere\.so is not in files/,
  ],
  [
    'allowed missing not a list',
    (m) => {
      m.allowMissing = 'libodbc.so.2';
    },
    /allowMissing: expected an array/,
  ],
  [
    'allowed missing named by a path',
    (m) => {
      m.allowMissing = [{ ...ALLOWED, soname: '/usr/lib/libodbc.so.2' }];
    },
    /allowMissing\[0\]\.soname: not a library name/,
  ],
  [
    'allowed missing with a blank name',
    (m) => {
      m.allowMissing = [{ ...ALLOWED, soname: '' }];
    },
    /allowMissing\[0\]\.soname: not a library name/,
  ],
  [
    'allowed missing needed by a file not in files',
    (m) => {
      m.allowMissing = [{ ...ALLOWED, neededBy: ['lib/nothere.so'] }];
    },
    /allowMissing\[0\]\.neededBy: lib\/nothere\.so is not in files/,
  ],
  [
    'allowed missing listed twice',
    (m) => {
      m.allowMissing = [ALLOWED, ALLOWED];
    },
    /allowMissing: a soname listed twice/,
  ],
  [
    'run-time need grafted where nothing is',
    (m) => {
      m.runtimeNeeds = [{ ...NEED, grafted: 'lib/pyrelo-grafted/libmagic.so.1' }];
    },
    /runtimeNeeds\[0\]\.grafted: lib\/pyrelo-grafted\/libmagic\.so\.1 is not in files/,
  ],
];

for (const [what, damage, expected] of BAD) {
  test(`manifest validation refuses: ${what}`, async () => {
    const m = JSON.parse(JSON.stringify(sampleManifest())) as Record<string, unknown>;
    damage(m);
    assert.throws(
      () => validateManifest(m, 'X/pyrelo.json'),
      (e: unknown) =>
        e instanceof BundleError && /^X\/pyrelo\.json: invalid manifest: /.test(e.message) && expected.test(e.message),
    );
    const dir = await makeTempDir();
    try {
      assert.throws(() => writeManifest(dir, m as unknown as Manifest), BundleError);
      assert.equal(existsSync(join(dir, 'pyrelo.json')), false, 'nothing written');
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      await removeDir(dir);
    }
  });
}

test('manifest: not JSON and missing are clear errors', async () => {
  const dir = await makeTempDir();
  try {
    assert.throws(() => readManifest(dir), /pyrelo\.json: no manifest \(not a pyrelo bundle\)/);
    writeFileSync(join(dir, 'pyrelo.json'), '{');
    assert.throws(() => readManifest(dir), /pyrelo\.json: not JSON/);
  } finally {
    await removeDir(dir);
  }
});

test('symlink rule: only leading .. that stays inside', () => {
  assert.equal(symlinkStaysInside('bin/python3', 'python3.11'), true);
  assert.equal(symlinkStaysInside('lib/a/b', '../../bin/x'), true);
  assert.equal(symlinkStaysInside('lib/a', '../../x'), false);
  assert.equal(symlinkStaysInside('a', '/etc'), false);
  assert.equal(symlinkStaysInside('b', 'a/../x'), false);
});
