// pyrelo build with Debian's own /usr/bin/python3.11 (package python3.11: libpython linked into the
// non-PIE executable, stdlib in /usr/lib/python3.11, pip from python3-pip-whl, and sysconfig and
// site patched by Debian: outside a venv pip would install into PREFIX/local). The bundle must pass
// its own verify, install the app where the bundled interpreter's site looks (Debian's deb_system
// scheme: lib/python3/dist-packages, scripts in bin/; see src/builder/site-layout.ts), keep no
// build path (the stdlib folder /usr/lib/python3.11, the staging folder), have a relocatable
// _sysconfigdata, and run from another folder after being moved, here and in the lab's roots.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { build, type BuildResult } from '../../src/builder/build.js';
import { filesHoldingBuildPaths } from '../../src/builder/build-paths.js';
import { Progress } from '../../src/builder/progress.js';
import { readManifest } from '../../src/bundle/manifest.js';
import { main } from '../../src/client/cli.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { APP, ENTRY, buildSkipReason, smoke } from './shared-build.js';
import { ensureWheelhouse } from './wheelhouse.js';
import { captureStdout } from '../support/capture-stdout.js';

const TIMEOUT = 10 * 60_000;
const DEBIAN_PYTHON = '/usr/bin/python3.11';
const DEBIAN_WHEELS = '/usr/share/python-wheels';
/** What the build must not leave: Debian's stdlib folder (a /usr prefix's build path) and the staging folder. */
const BUILD_PATHS = ['/usr/lib/python3.11', '.pyrelo-stage-'];
const SITE = 'lib/python3/dist-packages';

function skipReason(): string | undefined {
  if (!existsSync(DEBIAN_PYTHON)) return `no ${DEBIAN_PYTHON} (apt-get install python3.11 python3.11-venv)`;
  if (!(
    existsSync(DEBIAN_WHEELS) && readdirSync(DEBIAN_WHEELS).some((n) => n.startsWith('pip-') && n.endsWith('.whl'))
  )) {
    return `no pip wheel in ${DEBIAN_WHEELS} (apt-get install python3-pip-whl)`;
  }
  return buildSkipReason(); // the wheelhouse's yamlsmoke wheel is compiled with the pyenv CPython
}

interface Built {
  dir: string;
  bundle: string;
  result: BuildResult;
  lines: string[];
}
let built: Promise<Built> | null = null;

/** One build, moved into a folder with a space and a non-ASCII character, shared by the tests. */
function debianBundle(): Promise<Built> {
  built ??= (async () => {
    const dir = await makeTempDir('pyrelo-debian-');
    const lines: string[] = [];
    const result = await build(
      {
        project: APP,
        python: DEBIAN_PYTHON,
        pythonSource: null,
        requirements: null,
        wheelhouse: await ensureWheelhouse(),
        libc: 'host',
        minGlibc: '2.17',
        entries: [ENTRY],
        smoke: ['bin/smoke'],
        slim: true,
        clear: false,
        prompt: null,
        withPip: true,
        output: join(dir, 'built'),
      },
      new Progress((line) => lines.push(line)),
    );
    mkdirSync(join(dir, 'moved'));
    const bundle = join(dir, 'moved', 'deb bündle');
    renameSync(result.output, bundle);
    return { dir, bundle, result, lines };
  })();
  return built;
}

test.after(async () => {
  if (built !== null) {
    const b = await built.catch(() => null);
    if (b !== null) await removeDir(b.dir);
  }
});

/** `pyrelo check ARGS…`: its exit code and what it printed. */
function check(args: string[]): Promise<{ code: number; stdout: string }> {
  return captureStdout(() => main(['check', ...args]));
}

interface Layout {
  scheme: string;
  purelib: string;
  scripts: string;
  site: string[];
  path: string[];
  libdest: string;
  destshared: string;
  libpl: string;
  tzpath: string;
}
/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
const LAYOUT = `import json, site, sys, sysconfig
v = sysconfig.get_config_var
print(json.dumps({"scheme": sysconfig.get_preferred_scheme("prefix"), "purelib": sysconfig.get_path("purelib"), "scripts": sysconfig.get_path("scripts"),
  "site": site.getsitepackages(), "path": sys.path, "libdest": v("LIBDEST"), "destshared": v("DESTSHARED"), "libpl": v("LIBPL"), "tzpath": v("TZPATH")}))`;
/* eslint-enable max-len */

test(
  'Debian python3.11: the build verifies; packages in the scheme the bundled interpreter uses, scripts in ' +
    'bin/; no build path; _sysconfigdata relocatable; moved, it runs from another folder',
  { timeout: TIMEOUT },
  async (t) => {
    const reason = skipReason();
    if (reason) return t.skip(reason);
    const { bundle, result, lines, dir } = await debianBundle();
    t.diagnostic(`built in ${result.seconds.toFixed(1)} s`);
    const manifest = readManifest(bundle);
    assert.deepEqual(
      manifest.steps.map((s) => s.name),
      [
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
        'smoke',
        'verify',
      ],
    );
    // bin/smoke ran once at build time; it opens nothing by name from outside the bundle.
    assert.deepEqual(manifest.runtimeNeeds, []);
    assert.match(
      manifest.steps.find((s) => s.name === 'verify')!.summary,
      /ELF files load from the bundle and glibc only/,
    );
    assert.match(
      manifest.steps.find((s) => s.name === 'copy')!.summary,
      /install scheme posix_local \(scripts in local\/bin\) replaced by deb_system/,
      lines.join('\n'),
    );
    assert.match(manifest.python.version, /^3\.11\.\d+$/);
    const packages = new Map(manifest.python.packages.map((p) => [p.name, p.version]));
    for (const name of ['yamlsmoke', 'cryptography', 'cffi', 'pip']) assert.ok(packages.has(name), `${name} installed`);
    assert.deepEqual(manifest.grafted.find((g) => g.soname === 'libyaml-0.so.2')?.neededBy, [
      `${SITE}/yamlsmoke/_yaml_c.cpython-311-x86_64-linux-gnu.so`,
    ]);

    // pyrelo check agrees: extension modules bind the C API to the interpreter, which exports it
    // (libpython is linked into it), as ld.so binds them.
    const checked = await check([bundle]);
    assert.equal(checked.code, 0, checked.stdout.slice(-3000));

    // Nothing under Debian's PREFIX/local; pip's scripts and the entry point in bin/.
    assert.equal(existsSync(join(bundle, 'local')), false, 'no local/ folder');
    for (const name of ['pip', 'pip3', 'pip3.11', 'smoke'])
      assert.ok(existsSync(join(bundle, 'bin', name)), `bin/${name}`);

    // No build path anywhere, as the scrub step and grep see it.
    assert.deepEqual(filesHoldingBuildPaths(bundle, BUILD_PATHS), []);
    for (const path of BUILD_PATHS) {
      const grep = await execa('grep', ['-rlF', '--', path, bundle], { reject: false });
      assert.equal(grep.stdout, '', `grep finds ${path} nowhere`);
    }

    // What pip installs into is what site imports from; _sysconfigdata names the moved bundle.
    const r = await execa(join(bundle, 'bin', 'python3'), ['-c', LAYOUT], {
      cwd: '/',
      env: { PATH: '/usr/bin:/bin' },
      extendEnv: false,
    });
    const layout = JSON.parse(r.stdout) as Layout;
    assert.equal(layout.scheme, 'deb_system');
    assert.equal(layout.purelib, join(bundle, SITE));
    assert.equal(layout.scripts, join(bundle, 'bin'));
    assert.ok(layout.site.includes(layout.purelib), `site.getsitepackages() ${layout.site.join(' ')}`);
    assert.ok(layout.path.includes(layout.purelib), `sys.path ${layout.path.join(' ')}`);
    assert.equal(layout.libdest, join(bundle, 'lib/python3.11'));
    assert.equal(layout.destshared, join(bundle, 'lib/python3.11/lib-dynload'));
    assert.equal(layout.libpl, join(bundle, 'lib/python3.11/config-3.11-x86_64-linux-gnu'));
    assert.match(layout.tzpath, /^\/usr\/share\/zoneinfo:/, "the target system's paths stay the target's");

    // pip, from the bundle, reports the bundle's site-packages.
    for (const argv of [
      [join(bundle, 'bin', 'python3'), '-m', 'pip', '--version'],
      [join(bundle, 'bin', 'pip'), '--version'],
    ]) {
      const pip = await execa(argv[0]!, argv.slice(1), { cwd: '/', env: { PATH: '/usr/bin:/bin' }, extendEnv: false });
      assert.equal(pip.stdout, `pip ${packages.get('pip')} from ${join(bundle, SITE, 'pip')} (python 3.11)`);
    }

    // The smoke app, from two other folders.
    for (const cwd of ['/', dir]) {
      const out = await smoke(bundle, cwd);
      assert.equal(out.prefix, bundle);
      assert.equal(out.cwd, cwd);
      assert.equal(out.executable, join(bundle, 'bin', 'python3.11'));
      assert.equal(out.yaml, '0.2.5');
      assert.equal(out.yaml_events, 11);
      assert.equal(out.fernet, 'pyrelo');
      assert.equal(out.child_exit, 0);
    }
  },
);

for (const name of ['bookworm', 'trixie'] as const) {
  test(
    `Debian python3.11 bundle runs in ${name}: bin/smoke from another folder, pip from the bundle's site-packages`,
    { timeout: TIMEOUT },
    async (t) => {
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const reason = skipReason();
      if (reason) return t.skip(reason);
      const { bundle } = await debianBundle();
      const root = await ensureRoot(name);
      const predicted = await check(['--root', root, bundle]);
      assert.equal(
        predicted.code,
        0,
        `pyrelo check --root ${name} predicts it loads:\n${predicted.stdout.slice(-3000)}`,
      );
      const at = '/opt/deb bündle';
      const r = await runInRoot(
        root,
        ['/bin/sh', '-c', '"$1/bin/smoke" && "$1/bin/python3" -m pip --version', 'sh', at],
        {
          bind: [{ hostPath: bundle, rootPath: at, readOnly: true }],
          cwd: '/tmp',
          timeoutMs: 120_000,
        },
      );
      assert.equal(r.exitCode, 0, r.stderr);
      const [smokeLine, pipLine] = r.stdout.trim().split('\n');
      const out = JSON.parse(smokeLine!) as {
        prefix: string;
        cwd: string;
        yaml: string;
        yaml_events: number;
        fernet: string;
        child_exit: number;
      };
      assert.equal(out.prefix, at);
      assert.equal(out.cwd, '/tmp');
      assert.equal(out.yaml, '0.2.5');
      assert.equal(out.yaml_events, 11);
      assert.equal(out.fernet, 'pyrelo');
      assert.equal(out.child_exit, 0);
      assert.match(pipLine ?? '', new RegExp(`^pip [\\d.]+ from ${at}/${SITE}/pip \\(python 3\\.11\\)$`));
    },
  );
}
