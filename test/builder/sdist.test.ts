// sdists in the wheelhouse build offline: build isolation takes the sdist's build requirements
// from the wheelhouse (and ensurepip's wheels); when they are not there, the build stops with a
// message that names the sdist, the missing requirement and the ways out, and writes nothing.
// --index-url lets pip fetch what the wheelhouse lacks: tested with a PEP 503 index on loopback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { readManifest } from '../../src/bundle/manifest.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, ensureSdistWheelhouse, SDIST_NAME, WRITE_SDIST } from './wheelhouse.js';

const PYRELO = join(import.meta.dirname, '..', '..', 'src', 'client', 'main.js');
const HELLO = ['-c', 'import greet; print(greet.hello())'];

function pyrelo(
  args: string[],
  cwd = process.cwd(),
  project = 'greet',
): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  return execa(process.execPath, [PYRELO, 'build', project, '--python', BASE_PYTHON, '--without-pip', ...args], {
    reject: false,
    cwd,
  });
}

/**
 * Runs `body` with the cached sdist wheelhouse and a temporary folder (removed after); skips where
 * builds cannot run.
 */
async function withSdistWheelhouse(
  t: { skip(reason: string): void },
  body: (cached: string, dir: string) => Promise<void>,
): Promise<void> {
  const reason = buildSkipReason();
  if (reason) return t.skip(reason);
  const cached = await ensureSdistWheelhouse();
  const dir = await makeTempDir('pyrelo-sdist-');
  try {
    await body(cached, dir);
  } finally {
    await removeDir(dir);
  }
}

test('an sdist with its build requirements in the wheelhouse builds offline and runs', { timeout: 300_000 }, (t) =>
  withSdistWheelhouse(t, async (wheelhouse, dir) => {
    const r = await pyrelo(['--wheelhouse', wheelhouse, '-o', join(dir, 'bundle')]);
    assert.equal(r.exitCode, 0, r.stderr);
    const manifest = readManifest(join(dir, 'bundle'));
    assert.ok(manifest.python.packages.some((p) => p.name === 'greet' && p.version === '1.0'));
    assert.deepEqual([manifest.name, manifest.version], ['greet', '1.0'], 'a requirement names the bundle');
    assert.equal(
      (await execa(join(dir, 'bundle', 'bin', 'python3'), HELLO, { cwd: '/' })).stdout,
      'hello from an sdist',
    );
  }),
);

test(
  "relative paths are the user's: a project folder, -r and --wheelhouse relative to the working directory",
  { timeout: 300_000 },
  (t) =>
    withSdistWheelhouse(t, async (cached, dir) => {
      symlinkSync(cached, join(dir, 'wh'));
      mkdirSync(join(dir, 'proj', 'hi'), { recursive: true });
      writeFileSync(
        join(dir, 'proj', 'pyproject.toml'),
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = ' +
          '"setuptools.build_meta"\n\n[project]\nname = "hi"\nversion = "2.0"\n',
      );
      writeFileSync(join(dir, 'proj', 'hi', '__init__.py'), 'WORD = "hi"\n');
      writeFileSync(join(dir, 'reqs.txt'), 'greet\n');
      // A folder named like a module pip imports, in the working directory: it must not shadow it.
      mkdirSync(join(dir, 'json'));
      writeFileSync(join(dir, 'json', '__init__.py'), 'raise SystemExit("the working directory shadowed a module")\n');
      const r = await pyrelo(['-r', 'reqs.txt', '--wheelhouse', 'wh', '-o', 'out'], dir, 'proj');
      assert.equal(r.exitCode, 0, r.stderr);
      const manifest = readManifest(join(dir, 'out'));
      const names = manifest.python.packages.map((p) => `${p.name} ${p.version}`);
      assert.ok(names.includes('hi 2.0') && names.includes('greet 1.0'), names.join(', '));
      assert.deepEqual(
        [manifest.name, manifest.version],
        ['hi', '2.0'],
        'the folder proj is named after its [project] name',
      );
    }),
);

test(
  'an sdist whose build requirement is missing: a clear error naming both, exit 2, nothing written; ' +
    '--index-url fetches it',
  { timeout: 300_000 },
  (t) =>
    withSdistWheelhouse(t, async (cached, dir) => {
      let server: ReturnType<typeof execa> | null = null;
      try {
        // Only the sdist: setuptools comes from ensurepip's wheels, `wheel` from nowhere.
        const wheelhouse = join(dir, 'wheelhouse');
        mkdirSync(wheelhouse);
        symlinkSync(join(cached, SDIST_NAME), join(wheelhouse, SDIST_NAME));
        const failed = await pyrelo(['--wheelhouse', wheelhouse, '-o', join(dir, 'bundle')]);
        assert.equal(failed.exitCode, 2, failed.stderr);
        assert.match(failed.stderr, new RegExp(`${SDIST_NAME.replace(/\./g, '\\.')}: building it needs wheel`));
        assert.match(failed.stderr, /pip download wheel --only-binary=:all: -d WHEELHOUSE/);
        assert.match(failed.stderr, /--index-url/);
        assert.deepEqual(readdirSync(dir).sort(), ['wheelhouse'], 'no bundle, no staging folder');

        // An sdist that fails for another reason (an invalid version) is not reported as missing anything.
        const broken = join(dir, 'broken');
        mkdirSync(broken);
        const wheelFile = readdirSync(cached).find((n) => n.startsWith('wheel-') && n.endsWith('.whl'))!;
        symlinkSync(join(cached, wheelFile), join(broken, wheelFile));
        await execa(BASE_PYTHON, [
          '-I',
          '-c',
          WRITE_SDIST,
          join(broken, 'greet-1.0.tar.gz'),
          JSON.stringify({
            'greet-1.0/pyproject.toml':
              '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = ' +
              '"setuptools.build_meta"\n\n[project]\nname = "greet"\nversion = "not a version"\n',
            'greet-1.0/PKG-INFO': 'Metadata-Version: 2.1\nName: greet\nVersion: 1.0\n',
          }),
        ]);
        const other = await pyrelo(['--wheelhouse', broken, '-o', join(dir, 'bundle')]);
        assert.equal(other.exitCode, 2, other.stderr);
        assert.doesNotMatch(other.stderr, /building it needs/);
        assert.match(other.stderr, /greet: pip install failed \(exit 1\)/);
        rmSync(broken, { recursive: true });

        // A PEP 503 index on loopback that serves the `wheel` wheel: with --index-url the build works.
        const index = join(dir, 'index');
        mkdirSync(join(index, 'simple', 'wheel'), { recursive: true });
        symlinkSync(join(cached, wheelFile), join(index, 'simple', 'wheel', wheelFile));
        server = execa(BASE_PYTHON, ['-m', 'http.server', '--bind', '127.0.0.1', '0', '--directory', index], {
          reject: false,
          buffer: false,
        });
        const port = await new Promise<number>((resolve, reject) => {
          server!.stdout!.on('data', (chunk: Buffer) => {
            const m = /port (\d+)/.exec(chunk.toString());
            if (m) resolve(Number(m[1]));
          });
          server!.on('exit', () => reject(new Error('http.server exited')));
        });
        const fetched = await pyrelo([
          '--wheelhouse',
          wheelhouse,
          '--index-url',
          `http://127.0.0.1:${port}/simple`,
          '-o',
          join(dir, 'bundle'),
        ]);
        assert.equal(fetched.exitCode, 0, fetched.stderr);
        assert.match(
          readManifest(join(dir, 'bundle')).steps.find((s) => s.name === 'install')!.summary,
          new RegExp(`from the wheelhouse and http://127\\.0\\.0\\.1:${port}/simple`),
        );
        assert.equal(
          (await execa(join(dir, 'bundle', 'bin', 'python3'), HELLO, { cwd: '/' })).stdout,
          'hello from an sdist',
        );

        const bad = await pyrelo([
          '--wheelhouse',
          wheelhouse,
          '--index-url',
          'pypi.org/simple',
          '-o',
          join(dir, 'other'),
        ]);
        assert.equal(bad.exitCode, 2);
        assert.match(bad.stderr, /--index-url pypi\.org\/simple: expected an http:\/\/, https:\/\/ or file:\/\/ URL/);
        assert.equal(existsSync(join(dir, 'other')), false);
      } finally {
        server?.kill();
      }
    }),
);
