// The locales a bundle needs against a host's compiled ones (issue 19): glibc's name rules
// (codeset normalised, C and POSIX built in, C.UTF-8 built into glibc 2.35 and later), the words
// of a warning and of an error, the manifest's `locales` checked when read (older manifests
// without it still read), and --locale / `[tool.pyrelo] locales` refused in one line with exit 2.
// The real outcome in lab roots is test/builder/host-locales.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { hostHasLocale, localeNameProblem, normalizeLocale } from '../../src/bundle/locale-name.js';
import { localeProblems } from '../../src/compat/host-locales.js';
import { validateManifest } from '../../src/bundle/manifest.js';
import { readSmokeLocales } from '../../src/builder/build-smoke.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { checkBundleOnView, hostNssFacts } from '../../src/compat/check-bundle.js';
import { collectHostNss } from '../../src/inventory/host-nss.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { parseBuildArgs } from '../builder/parse-build-args.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

test('locale names: what glibc takes, and the codeset compared as glibc normalises it', () => {
  for (const good of ['de_DE.UTF-8', 'C.UTF-8', 'C', 'POSIX', 'en_US', 'sr_RS@latin', 'ca_ES.UTF-8@valencia', 'ber_MA'])
    assert.equal(localeNameProblem(good), null, good);
  for (const bad of ['', 'de DE', 'de_DE.UTF-8;rm', '../de', 'de_DE/x', 'x'.repeat(81), 'DE_de'])
    assert.notEqual(localeNameProblem(bad), null, bad);
  assert.equal(normalizeLocale('de_DE.UTF-8'), 'de_DE.utf8');
  assert.equal(normalizeLocale('de_DE.ISO-8859-1@euro'), 'de_DE.iso88591@euro');
  assert.equal(normalizeLocale('C.UTF-8'), 'C.utf8');
  // On disk (localedef's archive, Debian's C.utf8 folder) against what an application asks for.
  assert.ok(hostHasLocale(['C.utf8', 'de_DE.utf8'], 'de_DE.UTF-8', '2.31'));
  assert.ok(hostHasLocale(['de_DE.utf8'], 'de_DE.utf8', '2.31'));
  assert.ok(!hostHasLocale(['de_DE.utf8'], 'de_DE', '2.31'), 'no codeset is another name');
  assert.ok(!hostHasLocale(['de_DE.utf8'], 'de_AT.UTF-8', '2.41'));
  assert.ok(hostHasLocale([], 'C', '2.17') && hostHasLocale([], 'POSIX', null));
  assert.ok(hostHasLocale([], 'C.UTF-8', '2.35'), 'built into glibc 2.35 and later');
  assert.ok(!hostHasLocale([], 'C.UTF-8', '2.34'));
  assert.ok(!hostHasLocale([], 'C.UTF-8', null));
});

test('locale problems: a declared locale the host lacks warns, one the smoke run set is an error', () => {
  const needs = [
    { name: 'de_DE.UTF-8', declared: true, smoke: false },
    { name: 'fr_FR.UTF-8', declared: false, smoke: true },
    { name: 'C.UTF-8', declared: true, smoke: true },
  ];
  assert.deepEqual(localeProblems(needs, ['C.utf8', 'en_US.utf8'], '2.31'), [
    {
      name: 'de_DE.UTF-8',
      severity: 'warning',
      message:
        'locale de_DE.UTF-8 is not compiled on this host (it has C.utf8, en_US.utf8): setlocale fails; ' +
        'compile it with localedef or locale-gen',
    },
    {
      name: 'fr_FR.UTF-8',
      severity: 'error',
      message:
        "locale fr_FR.UTF-8 is not compiled on this host (it has C.utf8, en_US.utf8): the smoke command's " +
        'setlocale fails; compile it with localedef or locale-gen',
    },
  ]);
  assert.match(localeProblems(needs, [], '2.36')[0]!.message, /\(it has none compiled\)/);
  assert.deepEqual(localeProblems(needs, ['de_DE.utf8', 'fr_FR.utf8'], '2.36'), [], 'C.UTF-8 built into 2.36');
});

const MANIFEST = {
  format: 'pyrelo-bundle/1',
  name: 'app',
  python: { version: '3.11.7', executable: 'bin/python3', packages: [] },
  libc: 'host',
  glibcFloor: null,
  kernelFloor: null,
  entryPoints: {},
  steps: [],
  slimmed: [],
  grafted: [],
  elf: [],
  files: [{ path: 'bin/python3', type: 'file', mode: 0o755, size: 1, sha256: 'a'.repeat(64) }],
};

test('manifest locales: read and checked; older manifests without them still read', () => {
  assert.equal(validateManifest(MANIFEST, 'old').locales, undefined);
  const locales = [{ name: 'de_DE.UTF-8', declared: true, smoke: false }];
  assert.deepEqual(validateManifest({ ...MANIFEST, locales }, 'new').locales, locales);
  const refused: Array<[unknown, RegExp]> = [
    [[{ name: 'de DE', declared: true, smoke: false }], /locales\[0\]\.name: "de DE": not a locale name/],
    [[{ name: 'de_DE.UTF-8', declared: 'yes', smoke: false }], /locales\[0\]\.declared: expected true or false/],
    [[{ name: 'de_DE.UTF-8', declared: true }], /locales\[0\]\.smoke: expected true or false/],
    [
      [
        { name: 'de_DE.UTF-8', declared: true, smoke: false },
        { name: 'de_DE.utf8', declared: false, smoke: true },
      ],
      /locales: a locale listed twice/,
    ],
    ['de_DE.UTF-8', /locales: expected an array/],
  ];
  for (const [value, expected] of refused)
    assert.throws(() => validateManifest({ ...MANIFEST, locales: value }, 'm'), expected);
});

test("the smoke run's locale record: names glibc takes, once each, bounded", async () => {
  const dir = await makeTempDir();
  try {
    const file = join(dir, 'locales');
    assert.deepEqual(readSmokeLocales(file), [], 'no record: no setlocale with a name');
    writeFileSync(file, 'de_DE.UTF-8\nbad name\nde_DE.utf8\nC.UTF-8\n\n' + 'x\n'.repeat(50));
    assert.deepEqual(readSmokeLocales(file), ['C.UTF-8', 'de_DE.UTF-8']);
  } finally {
    await removeDir(dir);
  }
});

test('--locale and [tool.pyrelo] locales: read, and a bad name refused in one line with exit 2', async () => {
  const dir = await makeTempDir();
  try {
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'pyproject.toml'), '[tool.pyrelo]\nlocales = ["de_DE.UTF-8", "C.UTF-8"]\n');
    assert.deepEqual(parseBuildArgs([app, '-o', 'o']).locales, ['de_DE.UTF-8', 'C.UTF-8']);
    assert.deepEqual(parseBuildArgs([app, '--locale', 'fr_FR.UTF-8', '-o', 'o']).locales, ['fr_FR.UTF-8']);
    const flag = await execa(
      process.execPath,
      [PYRELO, 'build', 'x', '--python', '3.13', '--locale', 'de DE', '-o', 'out'],
      {
        cwd: dir,
        reject: false,
      },
    );
    assert.equal(flag.exitCode, 2, flag.stderr);
    assert.match(flag.stderr, /^pyrelo: --locale "de DE": not a locale name \([^\n]*\)$/);
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'pyproject.toml'), '[tool.pyrelo]\npython = "3.13"\nlocales = ["de_DE.UTF-8", "../etc"]\n');
    const table = await execa(process.execPath, [PYRELO, 'build', bad, '-o', 'out'], { cwd: dir, reject: false });
    assert.equal(table.exitCode, 2, table.stderr);
    assert.match(table.stderr, /^pyrelo: --locale "\.\.\/etc": not a locale name \([^\n]*\)$/);
    assert.equal(existsSync(join(dir, 'out')), false, 'nothing written');
  } finally {
    await removeDir(dir);
  }
});

test("a host's compiled locales as agents and predictions read them: folders and names, the verdict", async () => {
  const dir = await makeTempDir();
  try {
    // A host root with de_DE.utf8 compiled as a folder (locale-gen's other form), and a bundle needing
    // de_DE.UTF-8 (declared) and fr_FR.UTF-8 (set by its smoke run).
    const root = join(dir, 'root');
    mkdirSync(join(root, 'usr/lib/locale/de_DE.utf8'), { recursive: true });
    writeFileSync(join(root, 'usr/lib/locale/de_DE.utf8/LC_CTYPE'), '');
    const bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, 'bin'), { recursive: true });
    writeFileSync(join(bundle, 'bin/python3'), 'x');
    const locales = [
      { name: 'de_DE.UTF-8', declared: true, smoke: false },
      { name: 'fr_FR.UTF-8', declared: false, smoke: true },
    ];
    writeFileSync(join(bundle, 'pyrelo.json'), JSON.stringify({ ...MANIFEST, locales }));
    const view = new RootHostView(root, loaderConfigForRoot(root));
    const nss = collectHostNss(root, view);
    assert.deepEqual(nss.locales, ['de_DE.utf8']);
    const result = checkBundleOnView(view, bundle, { digest: 'd', host: 'h', kind: 'verified' }, hostNssFacts(nss));
    assert.deepEqual(
      result.problems.map((p) => [p.kind, p.severity, p.library, p.message]),
      [
        [
          'host-locale',
          'error',
          'fr_FR.UTF-8',
          "locale fr_FR.UTF-8 is not compiled on this host (it has de_DE.utf8): the smoke command's setlocale " +
            'fails; compile it with localedef or locale-gen',
        ],
      ],
    );
    assert.equal(result.loads, false, 'the smoke command fails there');
  } finally {
    await removeDir(dir);
  }
});
