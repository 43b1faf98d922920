// pyrelo build for real: this machine's CPython with an app from a wheelhouse (cryptography from
// PyPI, a libyaml extension built here). The bundle must work after moving, from any folder, hold
// no build path and no absolute RUNPATH, carry libyaml grafted with its Debian package, keep
// child processes free of its libraries, and two builds must give the same archive bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { readManifest } from '../../src/bundle/manifest.js';
import { filesHoldingBuildPaths } from '../../src/builder/build-paths.js';
import { listBundleElves } from '../../src/builder/bundle-elves.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { absoluteRunpathElements } from '../../src/builder/verify.js';
import { main } from '../../src/client/cli.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { BASE_PREFIX, buildApp, buildSkipReason, smoke, type SmokeResult } from './shared-build.js';

const TIMEOUT = 10 * 60_000;

/** Child environment lines that point into the bundle's library folders. */
function leaksInto(bundle: string, envText: string): string[] {
  return envText.split('\n').filter((line) => line.includes(`${bundle}/lib`) || line.startsWith('LD_'));
}

test(
  'build: a moved bundle runs the app from any folder; no build path, no absolute RUNPATH; libyaml grafted',
  { timeout: TIMEOUT },
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const dir = await makeTempDir();
    try {
      const lines: string[] = [];
      const result = await buildApp(join(dir, 'built'), lines);
      t.diagnostic(`built in ${result.seconds.toFixed(1)} s`);
      for (const step of [
        'copy',
        'install',
        'slim',
        'strip',
        'graft',
        'runpath',
        'launchers',
        'host',
        'scrub',
        'compile',
        'verify',
        'pack',
      ]) {
        assert.ok(
          lines.some((l) => l.startsWith(`pyrelo build: [${step}] `) && !l.endsWith('...')),
          `progress line for ${step}`,
        );
      }
      // Move it: nothing may depend on where it was built.
      const bundle = join(dir, 'moved', 'app');
      mkdirSync(join(dir, 'moved'));
      renameSync(join(dir, 'built'), bundle);

      const manifest = readManifest(bundle);
      assert.deepEqual(
        manifest.steps.map((s) => s.name),
        ['copy', 'install', 'slim', 'strip', 'graft', 'runpath', 'launchers', 'host', 'scrub', 'compile', 'verify'],
      );
      const packages = new Map(manifest.python.packages.map((p) => [p.name, p.version]));
      for (const name of ['yamlsmoke', 'cryptography', 'cffi', 'pip'])
        assert.ok(packages.has(name), `${name} installed`);
      const yaml = manifest.grafted.find((g) => g.soname === 'libyaml-0.so.2');
      assert.ok(yaml, 'libyaml grafted');
      assert.equal(yaml.debianPackage, 'libyaml-0-2:amd64');
      assert.deepEqual(yaml.neededBy, [
        'lib/python3.11/site-packages/yamlsmoke/_yaml_c.cpython-311-x86_64-linux-gnu.so',
      ]);
      assert.ok(
        !manifest.grafted.some((g) => ['libc.so.6', 'libm.so.6', 'ld-linux-x86-64.so.2'].includes(g.soname)),
        'glibc is never grafted',
      );
      // crypt (gone in 3.13) and nis went with slim, and with them the only users of libcrypt
      // (libxcrypt, which the policy does not assume: it left glibc) and of libnsl/libtirpc/Kerberos.
      assert.ok(manifest.slimmed.some((c) => c.category === 'modules later Pythons removed (unused)'));
      assert.equal(loadGraftPolicy().assumed('libcrypt.so.1'), false);
      for (const soname of ['libcrypt.so.1', 'libnsl.so.2', 'libtirpc.so.3', 'libkrb5.so.3']) {
        assert.ok(!manifest.grafted.some((g) => g.soname === soname), `${soname} is no longer needed`);
      }
      assert.match(manifest.glibcFloor ?? '', /^2\.\d+$/);
      assert.ok(manifest.slimmed.some((c) => c.category === 'tests' && c.bytes > 1_000_000));

      // No build path anywhere (text or binary), no absolute RUNPATH in any ELF (libpython3.so included).
      assert.deepEqual(filesHoldingBuildPaths(bundle, [BASE_PREFIX]), []);
      const grep = await execa('grep', ['-rl', '--', BASE_PREFIX, bundle], { reject: false });
      assert.equal(grep.stdout, '', 'grep finds the build prefix nowhere');
      const elves = listBundleElves(bundle);
      assert.ok(elves.length > 50);
      for (const elf of elves) assert.deepEqual(absoluteRunpathElements(elf), [], elf.rel);
      assert.ok(elves.some((e) => e.rel === 'lib/libpython3.so'));

      // pyrelo check agrees: every file loads on this host from the bundle.
      const checkOut: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => {
        checkOut.push(String(chunk));
        return true;
      }) as typeof process.stdout.write;
      let code: number;
      try {
        code = await main(['check', bundle]);
      } finally {
        process.stdout.write = write;
        process.exitCode = undefined; // main() sets it for the CLI, not for the test process
      }
      assert.equal(code, 0, checkOut.join('').slice(-2000));

      // Runs from two folders, finds its own prefix, all compiled parts work.
      for (const cwd of ['/', dir]) {
        const r = await smoke(bundle, cwd);
        assert.equal(r.prefix, bundle);
        assert.equal(r.cwd, cwd);
        assert.match(r.version, /^3\.11\.7 /, 'sys.version intact');
        assert.equal(r.yaml, '0.2.5');
        assert.equal(r.yaml_events, 11);
        assert.equal(r.fernet, 'pyrelo');
        assert.equal(r.child_exit, 0);
        assert.deepEqual(leaksInto(bundle, r.child_stdout), [], 'the child environment points nowhere into the bundle');
      }
      // pip works offline and bin/python3 is the real ELF.
      const pip = await execa(join(bundle, 'bin', 'pip'), ['--version'], { cwd: '/' });
      assert.match(pip.stdout, new RegExp(`from ${bundle}/lib/python3.11/site-packages/pip`));
      assert.equal(
        readFileSync(join(bundle, 'bin', 'python3.11'))
          .subarray(0, 4)
          .toString('latin1'),
        '\x7fELF',
      );
      // A symlink to a script elsewhere still finds the bundle (realpath in the launcher).
      await execa('ln', ['-s', join(bundle, 'bin', 'smoke'), join(dir, 'smoke-link')]);
      const linked = await execa(join(dir, 'smoke-link'), [], { cwd: '/tmp' });
      assert.equal((JSON.parse(linked.stdout) as SmokeResult).prefix, bundle);
      // bin/activate
      const act = await execa(
        'bash',
        [
          '-c',
          `PS1='$ '; . '${bundle}/bin/activate' && command -v python3 && echo "$PS1" && deactivate && command ` +
            '-v python3 || true',
        ],
        { env: { PATH: '/usr/bin:/bin' }, extendEnv: false },
      );
      assert.equal(act.stdout.split('\n')[0], `${bundle}/bin/python3`);
      assert.equal(act.stdout.split('\n')[1], '(smoke) $ ');
      assert.notEqual(act.stdout.split('\n')[2], `${bundle}/bin/python3`);
    } finally {
      await removeDir(dir);
    }
  },
);

test(
  'build: two builds of the same inputs give byte-identical archives, with the base stage prepared, from the ' +
    'cache, or prepared again',
  { timeout: TIMEOUT },
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const dir = await makeTempDir();
    const savedCache = process.env.PYRELO_CACHE;
    try {
      // An empty cache of its own: the first build prepares the base stage, the second takes it
      // from the cache, the third finds it damaged and prepares it again.
      process.env.PYRELO_CACHE = join(dir, 'cache');
      // Same-length folder names: the staging path length must not matter either, but keep it fair.
      const archives: Buffer[] = [];
      const logs: string[][] = [];
      for (const name of ['one', 'two', 'tri']) {
        if (name === 'tri') {
          // Damage the stored stage: one stdlib module gone.
          const stages = join(dir, 'cache', 'stage');
          const folder = readdirSync(stages).find((n) => /^[0-9a-f]{24}-[0-9a-f]{8}$/.test(n))!;
          rmSync(join(stages, folder, 'lib', 'python3.11', 'colorsys.py'));
        }
        mkdirSync(join(dir, name));
        const lines: string[] = [];
        await buildApp(join(dir, name, 'app.tar.gz'), lines);
        logs.push(lines);
        archives.push(readFileSync(join(dir, name, 'app.tar.gz')));
      }
      const stageLine = (lines: string[]): string =>
        lines.find((l) => /base stage [0-9a-f]{24}/.test(l)) ?? '(no base stage line)';
      assert.match(stageLine(logs[0]!), /preparing base stage/);
      assert.match(stageLine(logs[1]!), /base stage [0-9a-f]{24} from the cache/);
      assert.match(stageLine(logs[2]!), /preparing base stage/, 'a damaged stage is prepared again');
      t.diagnostic(`archive ${archives[0]!.length} bytes`);
      assert.ok(archives[0]!.equals(archives[1]!), 'the cached stage gives the same bytes');
      assert.ok(archives[0]!.equals(archives[2]!), 'the stage prepared again gives the same bytes');
    } finally {
      if (savedCache === undefined) delete process.env.PYRELO_CACHE;
      else process.env.PYRELO_CACHE = savedCache;
      await removeDir(dir);
    }
  },
);

test(
  'build: a .run installer checks every checksum, installs atomically, refuses to overwrite without --force',
  { timeout: TIMEOUT },
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const dir = await makeTempDir();
    try {
      const run = join(dir, 'app.run');
      await buildApp(run);
      assert.equal(statSync(run).mode & 0o111, 0o111, 'executable');
      const target = join(dir, 'opt', 'app');
      const first = await execa(run, ['--prefix', target], { reject: false });
      assert.equal(first.exitCode, 0, first.stderr);
      assert.match(
        first.stdout,
        new RegExp(
          `^installed yamlsmoke \\(Python 3\\.11\\.7, \\d+ files, \\d+ bytes, every checksum checked\\) into ${target}`,
        ),
      );
      assert.equal((await smoke(target, '/')).prefix, target);
      const again = await execa(run, ['--prefix', target], { reject: false });
      assert.equal(again.exitCode, 1);
      assert.match(again.stderr, /already exists \(use --force to replace it\)/);
      const forced = await execa(run, ['--prefix', target, '--force'], { reject: false });
      assert.equal(forced.exitCode, 0, forced.stderr);
      assert.deepEqual(
        (await execa('ls', ['-A', join(dir, 'opt')])).stdout.split('\n'),
        ['app'],
        'no temporary folder left',
      );
      // A damaged payload is refused and nothing is installed.
      const bytes = readFileSync(run);
      const at = bytes.length - 5000;
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      const bad = join(dir, 'bad.run');
      writeFileSync(bad, bytes);
      chmodSync(bad, 0o755);
      const refused = await execa(bad, ['--prefix', join(dir, 'opt', 'bad')], { reject: false });
      assert.equal(refused.exitCode, 1);
      assert.match(refused.stderr, /damaged: the payload checksum does not match/);
      assert.equal(existsSync(join(dir, 'opt', 'bad')), false);
      assert.deepEqual((await execa('ls', ['-A', join(dir, 'opt')])).stdout.split('\n'), ['app']);
    } finally {
      await removeDir(dir);
    }
  },
);
