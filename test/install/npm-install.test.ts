// The install needs no npm configuration npm does not know (issue: "Unknown env config
// build-from-source"), and declares which dependencies' install scripts run (allowScripts), so a
// stricter npm keeps compiling better-sqlite3. Checked against what is really installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

const projectRoot = join(import.meta.dirname, '..', '..', '..');

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Every installed package (scoped ones included) with a preinstall, install or postinstall script. */
function packagesWithInstallScripts(modules: string): string[] {
  const dirs = readdirSync(modules)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)).map((m) => join(n, m)) : [n]));
  return dirs
    .filter((d) => existsSync(join(modules, d, 'package.json')))
    .filter((d) =>
      ['preinstall', 'install', 'postinstall'].some((s) => readPackage(join(modules, d)).scripts?.[s] !== undefined),
    )
    .sort();
}

test('allowScripts decides for every installed package with an install script', (t) => {
  const modules = join(projectRoot, 'node_modules');
  if (!existsSync(modules)) return t.skip('node_modules is not installed');
  const declared = readPackage(projectRoot).allowScripts ?? {};
  const found = packagesWithInstallScripts(modules);
  assert.ok(found.includes('better-sqlite3'), `better-sqlite3 has an install script: ${found.join(' ')}`);
  assert.deepEqual(
    found.filter((name) => !(name in declared)),
    [],
    'packages whose install scripts allowScripts does not decide',
  );
  assert.equal(declared['better-sqlite3'], true);
});

test(
  'better-sqlite3 is built from source: prebuild-install ' +
    "reads the project's .prebuild-installrc and downloads nothing",
  async (t) => {
    const dir = join(projectRoot, 'node_modules', 'better-sqlite3');
    const bin = join(projectRoot, 'node_modules', '.bin', 'prebuild-install');
    if (!existsSync(dir) || !existsSync(bin)) return t.skip('better-sqlite3 or prebuild-install is not installed');
    // As its install script runs it, with no npm_config_build_from_source in the environment.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^npm_config_build_from_source$/i.test(k)),
    );
    const r = await execa(bin, ['--verbose'], { cwd: dir, reject: false, env, extendEnv: false, timeout: 30_000 });
    assert.match(r.stderr, /--build-from-source specified, not attempting download/);
    assert.equal(r.exitCode, 1, 'prebuild-install exits 1 so that the script goes on to node-gyp rebuild');
    assert.ok(existsSync(join(dir, 'build', 'Release', 'better_sqlite3.node')), 'the compiled module');
  },
);
