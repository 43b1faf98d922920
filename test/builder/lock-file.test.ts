// -r FILE as a lock file (src/builder/lock-file.ts): what the manifest records of it, pip's refusal
// of a wheel whose hash differs said in one line, and a real build each way: a hash-pinned file
// installs and is recorded (file name, sha256, hashes); a wrong hash ends with exit 2, one line
// naming the file, the package and both hashes, and no OUTPUT.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readManifest, validateManifest } from '../../src/bundle/manifest.js';
import { BuildInputError } from '../../src/builder/errors.js';
import { MAX_REQUIREMENTS_BYTES, hashMismatchError, readRequirementsLock } from '../../src/builder/lock-file.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, ensureSdistWheelhouse } from './wheelhouse.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const WRONG = '0'.repeat(64);

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

test(
  'readRequirementsLock: name, sha256, hashes on only for a real --hash option; ' + 'bounded; a folder refused',
  async () => {
    const dir = await makeTempDir('pyrelo-lock-');
    try {
      const hashed = join(dir, 'requirements.txt');
      const text = `# locked\nwheel==0.45.1 \\\n    --hash=sha256:${'a'.repeat(64)}\n`;
      writeFileSync(hashed, text);
      assert.deepEqual(readRequirementsLock(hashed), {
        kind: 'requirements',
        file: 'requirements.txt',
        sha256: sha256(text),
        hashes: true,
      });
      const plain = join(dir, 'plain.txt');
      writeFileSync(plain, '# pin with --hash=sha256:… some day\nwheel==0.45.1\n');
      assert.equal(readRequirementsLock(plain).hashes, false, 'a comment is not an option');
      const big = join(dir, 'big.txt');
      writeFileSync(big, '');
      truncateSync(big, MAX_REQUIREMENTS_BYTES + 1);
      assert.throws(
        () => readRequirementsLock(big),
        (e: unknown) => e instanceof BuildInputError && /more than a requirements file holds/.test(e.message),
      );
      mkdirSync(join(dir, 'folder'));
      assert.throws(() => readRequirementsLock(join(dir, 'folder')), BuildInputError);
    } finally {
      await removeDir(dir);
    }
  },
);

test(
  "hashMismatchError: pip's refusal as one line naming the package and both hashes; " + 'other failures left alone',
  () => {
    const got = 'b'.repeat(64);
    const output = [
      'Processing /w/wheel-0.45.1-py3-none-any.whl (from -r bad.txt (line 1))',
      'ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. ' +
        'If you have updated the package versions, please update the hashes. ' +
        'Otherwise, examine the package contents carefully; someone may have tampered with them.',
      '    wheel==0.45.1 from file:///w/wheel-0.45.1-py3-none-any.whl (from -r bad.txt (line 1)):',
      `        Expected sha256 ${WRONG}`,
      `             Got        ${got}`,
      '',
    ].join('\n');
    const error = hashMismatchError(output, 'bad.txt');
    assert.ok(error instanceof BuildInputError);
    assert.equal(
      error.message,
      "-r bad.txt: a package's hash differs from the one the file pins: " +
        `wheel==0.45.1 (wheel-0.45.1-py3-none-any.whl) has sha256 ${got}, the file lists ${WRONG}; ` +
        'nothing was installed: use the wheel the file was locked with, or lock the file again',
    );
    assert.equal(hashMismatchError('ERROR: No matching distribution found for nope', 'r.txt'), null);
  },
);

test('manifest: python.lock is checked when read', () => {
  const manifest = (lock: unknown): unknown => ({
    format: 'pyrelo-bundle/1',
    name: 'x',
    python: { version: '3.11.2', executable: 'bin/python3.11', packages: [], lock },
    libc: 'host',
    glibcFloor: null,
    kernelFloor: null,
    entryPoints: {},
    steps: [],
    slimmed: [],
    grafted: [],
    elf: [],
    files: [],
  });
  for (const [lock, field] of [
    [{ kind: 'pylock', file: 'r.txt', sha256: WRONG, hashes: true }, 'python.lock.kind'],
    [{ kind: 'requirements', file: '../r.txt', sha256: WRONG, hashes: true }, 'python.lock.file'],
    [{ kind: 'requirements', file: 'r.txt', sha256: 'abc', hashes: true }, 'python.lock.sha256'],
    [{ kind: 'requirements', file: 'r.txt', sha256: WRONG, hashes: 'yes' }, 'python.lock.hashes'],
  ] as const)
    assert.throws(() => validateManifest(manifest(lock), 'pyrelo.json'), new RegExp(field.replace(/\./g, '\\.')));
});

test(
  'build -r with pinned hashes: installs and records the lock file; ' + 'a wrong hash is exit 2 and no OUTPUT',
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const dir = await makeTempDir('pyrelo-lock-build-');
    try {
      const wheelhouse = await ensureSdistWheelhouse();
      const wheel = readdirSync(wheelhouse).find((n) => n.startsWith('wheel-0.45.1-'))!;
      const real = sha256(readFileSync(join(wheelhouse, wheel)));
      const good = `wheel==0.45.1 --hash=sha256:${real}\n`;
      writeFileSync(join(dir, 'locked.txt'), good);
      writeFileSync(join(dir, 'bad.txt'), `wheel==0.45.1 --hash=sha256:${WRONG}\n`);
      const common = [
        'build',
        '--python',
        BASE_PYTHON,
        '--wheelhouse',
        wheelhouse,
        '--without-pip',
        '--entry',
        'w=wheel.cli:main',
      ];

      const ok = await execa(process.execPath, [PYRELO, ...common, '-r', 'locked.txt', '-o', 'out'], {
        cwd: dir,
        reject: false,
      });
      assert.equal(ok.exitCode, 0, ok.stderr);
      const manifest = readManifest(join(dir, 'out'));
      assert.deepEqual(manifest.python.lock, {
        kind: 'requirements',
        file: 'locked.txt',
        sha256: sha256(good),
        hashes: true,
      });
      assert.ok(manifest.python.packages.some((p) => p.name === 'wheel' && p.version === '0.45.1'));
      const install = manifest.steps.find((s) => s.name === 'install')!;
      assert.match(install.summary, /\(-r locked\.txt, sha256 [0-9a-f]{12}…, every package hash-checked\)/);

      const bad = await execa(process.execPath, [PYRELO, ...common, '-r', 'bad.txt', '-o', 'refused'], {
        cwd: dir,
        reject: false,
      });
      assert.equal(bad.exitCode, 2, bad.stderr);
      const said = bad.stderr.split('\n').filter((l) => l.startsWith('pyrelo: '));
      assert.deepEqual(said, [
        "pyrelo: -r bad.txt: a package's hash differs from the one the file pins: " +
          `wheel==0.45.1 (${wheel}) has sha256 ${real}, the file lists ${WRONG}; ` +
          'nothing was installed: use the wheel the file was locked with, or lock the file again',
      ]);
      assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(readdirSync(dir).sort(), ['bad.txt', 'locked.txt', 'out']);
    } finally {
      await removeDir(dir);
    }
  },
);
