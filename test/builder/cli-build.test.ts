// pyrelo build with bad input: one clear line naming the input, exit status 2, and nothing left
// behind (no OUTPUT, no staging folder).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { BASE_PYTHON, ensureWheelhouse } from './wheelhouse.js';
import { buildSkipReason } from './shared-build.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

async function pyrelo(args: string[], cwd: string): Promise<{ exitCode: number; stderr: string }> {
  const r = await execa(process.execPath, [PYRELO, ...args], { cwd, reject: false });
  return { exitCode: r.exitCode ?? -1, stderr: r.stderr };
}

test('build refuses bad input with exit 2 and writes nothing', { timeout: 120_000 }, async (t) => {
  const reason = buildSkipReason();
  if (reason) return t.skip(reason);
  const dir = await makeTempDir();
  try {
    mkdirSync(join(dir, 'exists'));
    writeFileSync(join(dir, 'exists', 'keep'), 'x');
    const cases: Array<[string[], RegExp]> = [
      [
        ['--python', '/nonexistent/python3', '-o', 'out'],
        /^pyrelo: --python \/nonexistent\/python3: not an interpreter \(no such file\);/m,
      ],
      [['--python', BASE_PYTHON, '--wheelhouse', 'nope', '-o', 'out'], /^pyrelo: --wheelhouse nope: no such folder$/m],
      [['--python', BASE_PYTHON, '-r', 'missing.txt', '-o', 'out'], /^pyrelo: -r missing.txt: no such file$/m],
      [
        ['--python', BASE_PYTHON, '--entry', 'bad entry', '-o', 'out'],
        /^pyrelo: --entry bad entry: expected NAME=module:function$/m,
      ],
      [['--python', BASE_PYTHON, '-o', 'exists'], /^pyrelo: -o exists: already exists \(use --clear to replace it\)$/m],
      [
        ['--python', BASE_PYTHON, '--libc', 'auto', '--min-glibc', 'new', '-o', 'out'],
        /^pyrelo: --min-glibc new: expected a glibc version such as 2\.17$/m,
      ],
      [
        ['--python', BASE_PYTHON, '--libc', 'musl', '-o', 'out'],
        /error: option '--libc <policy>' argument 'musl' is invalid/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await pyrelo(['build', ...args], dir);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['exists']);
    // A requirement the wheelhouse cannot satisfy fails in the install step; the staging folder goes.
    const wheelhouse = await ensureWheelhouse();
    const r = await pyrelo(
      ['build', 'no-such-package-pyrelo', '--python', BASE_PYTHON, '--wheelhouse', wheelhouse, '-o', 'out.tar.gz'],
      dir,
    );
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /^pyrelo build: \[install\] \.\.\.$/m);
    assert.match(r.stderr, /^pyrelo: no-such-package-pyrelo: pip install failed \(exit 1\):/m);
    assert.match(r.stderr, /No matching distribution found for no-such-package-pyrelo/);
    assert.deepEqual(readdirSync(dir).sort(), ['exists']);
    assert.deepEqual(readdirSync(join(dir, 'exists')), ['keep']);
  } finally {
    await removeDir(dir);
  }
});

test(
  'build: --python that is neither an interpreter nor usable as one ends with exit 2, naming it and the ways out',
  { timeout: 60_000 },
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const dir = await makeTempDir();
    try {
      const prefix = dirname(dirname(BASE_PYTHON));
      const cases: Array<[string, RegExp]> = [
        [
          'python3.99',
          /^pyrelo: --python python3\.99: not an interpreter \(no such file, nor a command of that name on PATH\); give the path to a CPython interpreter .*, a version number to compile \(such as 3\.13\), or compile one from a source tarball with --python-source TARBALL$/,
        ],
        [
          '3.12',
          /^pyrelo: --python 3\.12: no CPython 3\.12 source is known \(\S+cpython-sources\.json lists 3\.11\.2, .*\); give one of those, the path of an interpreter, or --python-source TARBALL .*$/,
        ],
        [
          prefix,
          new RegExp(
            `^pyrelo: --python ${prefix.replace(/\./g, '\\.')}: is a folder, not an interpreter; its ` +
              `interpreter is ${BASE_PYTHON.replace(/\./g, '\\.')}; give the path .* --python-source TARBALL$`,
          ),
        ],
        [
          './not-executable',
          /^pyrelo: --python \.\/not-executable: not an interpreter \(not executable\); give the path .* --python-source TARBALL$/,
        ],
      ];
      writeFileSync(join(dir, 'not-executable'), 'print(1)\n', { mode: 0o644 });
      for (const [python, expected] of cases) {
        const r = await pyrelo(['build', '--python', python, '-o', 'out'], dir);
        assert.equal(r.exitCode, 2, `--python ${python}: ${r.stderr}`);
        assert.match(r.stderr.trim(), expected, 'one line');
        assert.doesNotMatch(r.stderr, /ENOENT|EACCES|spawn/);
      }
      assert.deepEqual(readdirSync(dir), ['not-executable'], 'nothing written');
    } finally {
      await removeDir(dir);
    }
  },
);

test(
  'build: a name from outside that cannot name a bundle (slash, .., control character, 300 characters) ends ' +
    'with exit 2 in one line naming it',
  { timeout: 60_000 },
  async (t) => {
    const reason = buildSkipReason();
    if (reason) return t.skip(reason);
    const dir = await makeTempDir();
    try {
      const long = 'a'.repeat(300);
      const hostile: Array<[string, RegExp]> = [
        ['evil/name', /name "evil\/name": not a project name/],
        ['..', /name "\.\.": not a project name/],
        ['../../etc/x', /name "\.\.\/\.\.\/etc\/x": not a project name/],
        ['app\u001b[31mred', /name "app\\u001b\[31mred": not a project name/],
        ['two\nlines', /name "two\\nlines": not a project name/],
        [long, new RegExp(`name "${'a'.repeat(60)}…" \\(300 characters\\): longer than 128 characters`)],
      ];
      for (const [i, [name, expected]] of hostile.entries()) {
        const project = join(dir, `p${i}`);
        mkdirSync(project);
        // JSON's escapes (\uXXXX, \n) are TOML's too.
        writeFileSync(join(project, 'pyproject.toml'), `[project]\nname = ${JSON.stringify(name)}\nversion = "1.0"\n`);
        const r = await pyrelo(['build', `p${i}`, '--python', BASE_PYTHON, '-o', 'out'], dir);
        assert.equal(r.exitCode, 2, `${JSON.stringify(name)}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
        assert.ok(r.stderr.startsWith(`pyrelo: ${join(project, 'pyproject.toml')}: [project]: `), r.stderr);
        assert.match(r.stderr, expected);
        assert.ok(!r.stderr.includes(String.fromCharCode(27)), 'no raw control character (ESC) reaches the terminal');
      }
      // A wheel's file name, a requirement, --prompt (which names the bundle when given).
      writeFileSync(join(dir, '..-1.0-py3-none-any.whl'), '');
      const others: Array<[string[], RegExp]> = [
        [['..-1.0-py3-none-any.whl'], /^pyrelo: \.\.-1\.0-py3-none-any\.whl: name "\.\.": not a project name/],
        [[`${long}==1.0`], /^pyrelo: a{300}==1\.0: name "a{60}…" \(300 characters\): longer than 128 characters$/],
        [['--prompt', '../x'], /^pyrelo: --prompt "\.\.\/x": names the bundle, but is not usable as a bundle name/],
        [['--slim-package-tests', '--no-slim'], /^pyrelo: --slim-package-tests: cannot be combined with --no-slim$/],
      ];
      mkdirSync(join(dir, 'badtoml'));
      writeFileSync(join(dir, 'badtoml', 'pyproject.toml'), '[project\nname = "x"\n');
      others.push([['badtoml'], new RegExp(`^pyrelo: ${join(dir, 'badtoml', 'pyproject.toml')}: not valid TOML: `)]);
      for (const [args, expected] of others) {
        const r = await pyrelo(['build', ...args, '--python', BASE_PYTHON, '-o', 'out'], dir);
        assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
        assert.match(r.stderr.trim(), expected);
      }
      assert.equal(existsSync(join(dir, 'out')), false, 'nothing written');
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.includes('pyrelo-stage')),
        [],
      );
    } finally {
      await removeDir(dir);
    }
  },
);
