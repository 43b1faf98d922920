// A library meant only for LD_PRELOAD (README "pyrelo build", --preload-only): preloadsmoke, a wheel
// made here with gcc, ships `libbigtls.so`, a library with 16 KiB of initial-exec TLS (as ray ships
// its jemalloc and preloads it into its workers). No dlopen can take it ("cannot allocate memory in
// static TLS block"), but a process started with it in LD_PRELOAD runs.
// - `pyrelo build` refuses it with exit 1, in ld.so's words, and names the flag that fits;
// - with --preload-only PATH it builds, the manifest records the path, and `pyrelo check` says the
//   library loads, checked as preloaded into the bundle's interpreter;
// - the ground truth, with the bundle's own interpreter in bookworm: ctypes.CDLL of the library
//   fails with the words of the refusal, and the interpreter started with it in LD_PRELOAD runs;
// - a path that is not in the bundle, or that climbs out of it, ends with exit 2 and one line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readManifest } from '../../src/bundle/manifest.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, writeWheel } from './wheelhouse.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const LIBRARY = 'lib/python3.11/site-packages/preloadsmoke/libbigtls.so';
const AT = '/opt/preloadsmoke';
const TIMEOUT = 10 * 60_000;
const STATIC_TLS = 'cannot allocate memory in static TLS block';

async function pyrelo(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('node', [PYRELO, ...args], { reject: false, env: { LC_ALL: 'C' } });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The preloadsmoke wheel in `dir`/wheelhouse. */
async function writePreloadWheel(dir: string): Promise<string> {
  // No C library: the file needs no GLIBC_x.y version.
  const library = await compileSharedLibrary({
    dir,
    file: 'src/libbigtls.so',
    source: 'static __thread char big[16384];\nint big_touch(int i) { big[i] = 1; return big[0]; }\n',
    cflags: ['-nostdlib', '-ftls-model=initial-exec'],
  });
  const wheelhouse = join(dir, 'wheelhouse');
  mkdirSync(wheelhouse, { recursive: true });
  await writeWheel(wheelhouse, {
    name: 'preloadsmoke',
    version: '1.0',
    tag: 'py3-none-linux_x86_64',
    requires: [],
    files: { 'preloadsmoke/__init__.py': 'VALUE = 42\n' },
    binaryFiles: { 'preloadsmoke/libbigtls.so': library },
  });
  return wheelhouse;
}

test(
  'a library only ever preloaded: refused as dlopened with the hint, built with --preload-only, checked as ' +
    'LD_PRELOAD loads it',
  { timeout: TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const reason = buildSkipReason();
    if (reason !== undefined) return t.skip(reason);
    const dir = await makeTempDir('pyrelo-preload-only-');
    try {
      const wheelhouse = await writePreloadWheel(dir);
      const common = ['build', 'preloadsmoke', '--python', BASE_PYTHON, '--wheelhouse', wheelhouse, '--without-pip'];

      const refused = await pyrelo([...common, '-o', join(dir, 'refused')]);
      assert.equal(refused.exitCode, 1, refused.stderr);
      const failure = refused.stderr.slice(refused.stderr.indexOf('pyrelo build: failed:'));
      t.diagnostic(failure);
      assert.ok(failure.includes(`${LIBRARY}: ${LIBRARY}: ${STATIC_TLS}`), failure);
      assert.ok(failure.includes(`pass --preload-only ${LIBRARY})`), failure);
      assert.equal(existsSync(join(dir, 'refused')), false, 'nothing written');

      for (const [path, words] of [
        ['lib/nothere.so', 'no dynamically linked ELF file at that path in the bundle'],
        ['../escape.so', 'expected a path inside the bundle'],
      ] as const) {
        const bad = await pyrelo([...common, '--preload-only', path, '-o', join(dir, 'bad')]);
        assert.equal(bad.exitCode, 2, bad.stderr);
        const lines = bad.stderr.trim().split('\n');
        assert.ok(
          lines.at(-1)!.includes(`--preload-only ${JSON.stringify(path)}`) ||
            lines.at(-1)!.includes(`--preload-only ${path}`),
          bad.stderr,
        );
        assert.ok(lines.at(-1)!.includes(words), bad.stderr);
        assert.ok(!bad.stderr.includes('    at '), 'no stack trace');
        assert.equal(existsSync(join(dir, 'bad')), false, 'nothing written');
      }

      const bundle = join(dir, 'bundle');
      const built = await pyrelo([...common, '--preload-only', LIBRARY, '-o', bundle]);
      assert.equal(built.exitCode, 0, built.stderr);
      assert.deepEqual(readManifest(bundle).preloadOnly, [LIBRARY]);

      // The ground truth in bookworm, with the bundle's own interpreter.
      const root = await ensureRoot('bookworm');
      const run = async (code: string, env: Record<string, string> = {}) => {
        const r = await runInRoot(root, [`${AT}/bin/python3.11`, '-c', code], {
          bind: [{ hostPath: bundle, rootPath: AT, readOnly: true }],
          mountProc: true,
          env,
          timeoutMs: 120_000,
        });
        return { exitCode: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() };
      };
      const dlopened = await run(`import ctypes, os; ctypes.CDLL("${AT}/${LIBRARY}", os.RTLD_NOW)`);
      assert.notEqual(dlopened.exitCode, 0);
      assert.ok(dlopened.out.endsWith(`OSError: ${AT}/${LIBRARY}: ${STATIC_TLS}`), dlopened.out);
      const preloaded = await run('import preloadsmoke; print(preloadsmoke.VALUE)', { LD_PRELOAD: `${AT}/${LIBRARY}` });
      assert.equal(preloaded.exitCode, 0, preloaded.out);
      assert.equal(preloaded.out, '42');

      // The prediction: the library loads as preloaded, and the bundle passes.
      const json = await pyrelo(['check', '--root', root, '--json', bundle]);
      assert.equal(json.exitCode, 0, json.stdout.slice(0, 2000));
      const files = (JSON.parse(json.stdout) as { files: { file: string; loads: boolean; problems: unknown[] }[] })
        .files;
      const report = files.find((f) => f.file === join(bundle, LIBRARY));
      assert.ok(report !== undefined && report.loads, JSON.stringify(report));
      assert.deepEqual(report.problems, []);
    } finally {
      await removeDir(dir);
    }
  },
);
