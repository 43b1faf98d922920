// Ground truth for bundles in the lab's roots: the bundle built on this machine (Debian 12) runs
// its smoke app in bookworm and trixie from two folders; in bullseye (glibc 2.31) it cannot start,
// and `pyrelo check --root` predicts exactly the `GLIBC_2.3x not found` errors the real loader
// prints there; the .run installer works with busybox's sh and tar alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { main } from '../../src/client/cli.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildApp, buildSkipReason } from './shared-build.js';

const TIMEOUT = 40 * 60_000;
const SMOKE_SCRIPT = 'import yamlsmoke.smoke, sys\nsys.exit(yamlsmoke.smoke.main())\n';

interface Built { dir: string; bundle: string; run: string; glibcBundle: string }

let built: Promise<Built> | null = null;

/** One folder bundle, one .run and one --libc bundle folder for the whole file. */
function sharedBundle(): Promise<Built> {
  built ??= (async () => {
    const dir = await makeTempDir('pyrelo-lab-build-');
    await buildApp(join(dir, 'bundle'));
    await buildApp(join(dir, 'app.run'));
    await buildApp(join(dir, 'glibc-bundle'), [], 'auto');
    writeFileSync(join(dir, 'smoke.py'), SMOKE_SCRIPT);
    return { dir, bundle: join(dir, 'bundle'), run: join(dir, 'app.run'), glibcBundle: join(dir, 'glibc-bundle') };
  })();
  return built;
}

test.after(async () => {
  if (built !== null) await removeDir((await built).dir);
});

async function captureStdout(run: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => { chunks.push(String(chunk)); return true; }) as typeof process.stdout.write;
  try {
    const code = await run();
    return { code, stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined; // main() sets it for the CLI; the test process must not exit 1
  }
}

for (const name of ['bookworm', 'trixie'] as const) {
  test(`bundle runs its smoke app in ${name} from two folders, children see no bundle library path`, { timeout: TIMEOUT }, async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const { bundle, dir } = await sharedBundle();
    const root = await ensureRoot(name);
    for (const cwd of ['/', '/srv/work']) {
      const r = await runInRoot(root, ['/opt/bundle/bin/python3', '/srv/smoke.py'], {
        bind: [{ hostPath: bundle, rootPath: '/opt/bundle', readOnly: true }],
        copyIn: [{ hostPath: join(dir, 'smoke.py'), rootPath: '/srv/smoke.py' }, { hostPath: join(dir, 'smoke.py'), rootPath: '/srv/work/placeholder' }],
        cwd,
      });
      assert.equal(r.exitCode, 0, `${name} ${cwd}: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as Record<string, string | number>;
      assert.equal(out.prefix, '/opt/bundle');
      assert.equal(out.cwd, cwd);
      assert.equal(out.yaml, '0.2.5');
      assert.equal(out.fernet, 'pyrelo');
      assert.equal(out.child_exit, 0);
      const childEnv = String(out.child_stdout);
      assert.match(childEnv, /^PATH=/m, 'env ran');
      assert.match(childEnv, /^opt$/m, 'ls / ran');
      assert.deepEqual(childEnv.split('\n').filter((l) => l.includes('/opt/bundle/lib') || l.startsWith('LD_')), []);
    }
  });
}

interface JsonProblem { kind: string; version?: string; requiredBy?: string }

test('bullseye: pyrelo check --root predicts the GLIBC_2.3x errors the real loader prints', { timeout: TIMEOUT }, async (t) => {
  if (skipUnlessLab(t, ['debootstrap'])) return;
  const reason = buildSkipReason();
  if (reason) return t.skip(reason);
  const { bundle } = await sharedBundle();
  const root = await ensureRoot('bullseye');
  const real = await runInRoot(root, ['/opt/bundle/bin/python3.11', '-c', 'pass'], { bind: [{ hostPath: bundle, rootPath: '/opt/bundle', readOnly: true }] });
  assert.notEqual(real.exitCode, 0, 'it cannot run on glibc 2.31');
  const seen = new Set<string>();
  for (const m of real.stderr.matchAll(/version `(GLIBC_[\d.]+)' not found \(required by ([^)]+)\)/g)) seen.add(`${m[1]} required by ${basename(m[2]!)}`);
  assert.ok(seen.size > 0, real.stderr);

  const { code, stdout } = await captureStdout(() => main(['check', '--root', root, '--json', join(bundle, 'bin', 'python3.11')]));
  assert.equal(code, 1, 'check says it would not load');
  const report = JSON.parse(stdout) as { files: Array<{ problems: JsonProblem[] }> };
  const predicted = new Set(report.files[0]!.problems.filter((p) => p.kind === 'missing-version')
    .map((p) => `${p.version} required by ${basename(p.requiredBy ?? '')}`));
  t.diagnostic(`real loader: ${[...seen].sort().join('; ')}`);
  assert.deepEqual([...predicted].sort(), [...seen].sort());
});

test('the .run installer works with busybox sh and tar only', { timeout: TIMEOUT }, async (t) => {
  if (skipUnlessLab(t, ['busybox'])) return;
  const reason = buildSkipReason();
  if (reason) return t.skip(reason);
  const { run } = await sharedBundle();
  const root = await ensureRoot('busybox');
  const r = await runInRoot(root, ['/bin/sh', '-c', 'sh /srv/app.run --prefix /opt/app && ls /opt/app/bin/python3.11 && sh /srv/app.run --prefix /opt/app; echo "again=$?"'], {
    copyIn: [{ hostPath: run, rootPath: '/srv/app.run' }],
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^installed smoke \(Python 3\.11\.7, \d+ files, \d+ bytes, every checksum checked\) into \/opt\/app$/m);
  assert.match(r.stdout, /^\/opt\/app\/bin\/python3\.11$/m);
  assert.match(r.stdout, /again=1/);
  assert.match(r.stderr, /already exists \(use --force to replace it\)/);
});

for (const name of ['bullseye', 'busybox'] as const) {
  test(`--libc auto bundles glibc: runs in ${name} (${name === 'busybox' ? 'no glibc at all' : 'glibc 2.31'}) as pyrelo check predicts, children clean`, { timeout: TIMEOUT }, async (t) => {
    if (skipUnlessLab(t, name === 'busybox' ? ['busybox'] : ['debootstrap'])) return;
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const { glibcBundle, dir } = await sharedBundle();
    const manifest = JSON.parse(readFileSync(join(glibcBundle, 'pyrelo.json'), 'utf8')) as { libc: string };
    assert.equal(manifest.libc, 'bundle', 'auto chose bundle: the floor (2.36) exceeds 2.17');
    const root = await ensureRoot(name);
    const { code, stdout } = await captureStdout(() => main(['check', '--root', root, glibcBundle]));
    assert.equal(code, 0, `pyrelo check predicts it loads:\n${stdout.slice(-3000)}`);
    const r = await runInRoot(root, ['/opt/bundle/bin/python3', '/srv/smoke.py'], {
      bind: [{ hostPath: glibcBundle, rootPath: '/opt/bundle', readOnly: true }],
      copyIn: [{ hostPath: join(dir, 'smoke.py'), rootPath: '/srv/smoke.py' }],
      cwd: '/tmp',
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing printed on stderr');
    const out = JSON.parse(r.stdout) as Record<string, string | number>;
    assert.equal(out.prefix, '/opt/bundle');
    assert.equal(out.executable, '/opt/bundle/bin/python3');
    assert.equal(out.fernet, 'pyrelo');
    assert.equal(out.yaml, '0.2.5');
    assert.equal(out.child_exit, 0, String(out.child_stderr));
    assert.deepEqual(String(out.child_stdout).split('\n').filter((l) => l.includes('/opt/bundle/lib') || l.startsWith('LD_')), []);
  });
}
