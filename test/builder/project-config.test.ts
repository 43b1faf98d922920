// `[tool.pyrelo]` in PROJECT's pyproject.toml: the options it sets, flags given on the command line
// winning over it (even a flag given with its default value), and an unknown key or a value of the
// wrong kind refused naming the file and the key, through the CLI with exit 2 and nothing written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BuildInputError } from '../../src/builder/errors.js';
import { projectOptions } from '../../src/builder/project-config.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { parseBuildArgs } from './parse-build-args.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

const TABLE = `[project]
name = "shop"
version = "1.0"

[tool.pyrelo]
python = "3.13"
libc = "bundle"
min-glibc = "2.28"
entries = ["shop=shop.cli:main"]
smoke = "bin/shop --self-test"
slim-package-tests = true
sourceless = true
prompt = "shop-prod"
`;

function project(dir: string, text: string): string {
  const app = join(dir, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'pyproject.toml'), text);
  return app;
}

test('[tool.pyrelo] sets the build options; flags on the command line win', async () => {
  const dir = await makeTempDir();
  try {
    const app = project(dir, TABLE);
    const fromTable = parseBuildArgs([app, '-o', 'out']);
    assert.equal(fromTable.python, '3.13');
    assert.equal(fromTable.libc, 'bundle');
    assert.equal(fromTable.minGlibc, '2.28');
    assert.deepEqual(fromTable.entries, ['shop=shop.cli:main']);
    assert.deepEqual(fromTable.smoke, ['bin/shop', '--self-test']);
    assert.equal(fromTable.slimPackageTests, true);
    assert.equal(fromTable.sourceless, true);
    assert.equal(fromTable.prompt, 'shop-prod');
    // Given on the command line, even with its default value (--libc host), a flag wins.
    const flags = parseBuildArgs([
      app,
      '--python',
      '/opt/py/bin/python3',
      '--libc',
      'host',
      '--prompt',
      'x',
      '-o',
      'o',
    ]);
    assert.equal(flags.python, '/opt/py/bin/python3');
    assert.equal(flags.libc, 'host');
    assert.equal(flags.prompt, 'x');
    assert.equal(flags.minGlibc, '2.28');
    // --python-source replaces the table's python too.
    const source = parseBuildArgs([app, '--python-source', '/t.tgz', '-o', 'o']);
    assert.equal(source.python, null);
    assert.equal(source.pythonSource, '/t.tgz');
    // A relative interpreter path in the table is the project's.
    const relative = project(join(dir, 'rel'), '[tool.pyrelo]\npython = "venv/bin/python3"\n');
    assert.equal(parseBuildArgs([relative, '-o', 'o']).python, join(relative, 'venv/bin/python3'));
    // No table, or no project folder: nothing changes.
    assert.equal(parseBuildArgs([project(join(dir, 'plain'), '[project]\nname = "p"\n'), '-o', 'o']).python, null);
    assert.equal(parseBuildArgs(['requests', '-o', 'o']).libc, 'host');
  } finally {
    await removeDir(dir);
  }
});

test('[tool.pyrelo]: an unknown key or a wrong value is refused naming the file and the key', async () => {
  const dir = await makeTempDir();
  try {
    const cases: Array<[string, RegExp]> = [
      ['pyhton = "3.13"', /\[tool\.pyrelo\] has an unknown key "pyhton" \(known: python, mirror, libc,/],
      ['slim = "no"', /\[tool\.pyrelo\] slim: expected true or false, got "no"$/],
      ['entries = "a=b:c"', /\[tool\.pyrelo\] entries: expected a list of strings/],
      ['libc = 3', /\[tool\.pyrelo\] libc: expected a string, got 3$/],
    ];
    for (const [line, expected] of cases) {
      const app = project(join(dir, String(cases.findIndex((c) => c[0] === line))), `[tool.pyrelo]\n${line}\n`);
      assert.throws(
        () => projectOptions(app),
        (e: unknown) =>
          e instanceof BuildInputError && e.input === join(app, 'pyproject.toml') && expected.test(e.message),
      );
    }
    const bad = project(join(dir, 'cli'), '[tool.pyrelo]\npython = "3.13"\nwithout-pip = true\n');
    const r = await execa(process.execPath, [PYRELO, 'build', bad, '-o', 'out'], { cwd: dir, reject: false });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(
      r.stderr.trim(),
      /^pyrelo: \S+\/cli\/app\/pyproject\.toml: \[tool\.pyrelo\] has an unknown key "without-pip" \(known: [^)]+\)$/,
    );
    assert.equal(existsSync(join(dir, 'out')), false);
    // The table's value goes through the same checks as the flag's.
    const libc = project(join(dir, 'libc'), '[tool.pyrelo]\npython = "3.13"\nlibc = "static"\n');
    const l = await execa(process.execPath, [PYRELO, 'build', libc, '-o', 'out'], { cwd: dir, reject: false });
    assert.equal(l.exitCode, 2, l.stderr);
    assert.match(l.stderr.trim(), /^pyrelo: --libc static: expected host, bundle or auto$/);
  } finally {
    await removeDir(dir);
  }
});
