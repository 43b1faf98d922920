// What PROJECT says its name is before the install (src/builder/project-name.ts), and how the
// installed distribution is found after it; real pip runs are in names.test.ts and sdist.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BuildInputError } from '../../src/builder/errors.js';
import { chooseBundleName, declaredProject, installedProject } from '../../src/builder/project-name.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

test('project names: requirements, wheel files, folders with and without a [project] name, URLs', async () => {
  const dir = await makeTempDir('pyrelo-project-name-');
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    for (const [requirement, name] of [
      ['requests', 'requests'],
      ['Foo_Bar[extra]>=1.0; python_version > "3"', 'Foo_Bar'],
      ['zope.interface==6', 'zope.interface'],
      ['pkg @ https://example.invalid/pkg-1.0.tar.gz', 'pkg'],
      ['x (>=1)', 'x'],
    ] as const) {
      assert.deepEqual(
        declaredProject(requirement),
        { kind: 'name', name, from: requirement, exact: false },
        requirement,
      );
    }
    writeFileSync('My_Pkg-2.0-1-py3-none-any.whl', '');
    assert.deepEqual(declaredProject('My_Pkg-2.0-1-py3-none-any.whl'), {
      kind: 'name',
      name: 'My_Pkg',
      from: 'My_Pkg-2.0-1-py3-none-any.whl',
      exact: false,
    });
    mkdirSync('named');
    writeFileSync(
      join('named', 'pyproject.toml'),
      '[build-system]\nrequires = ["setuptools"]\n\n[project]\nname = "Shop_App"\ndynamic = ["version"]\n',
    );
    assert.deepEqual(declaredProject('named'), {
      kind: 'name',
      name: 'Shop_App',
      from: join(dir, 'named', 'pyproject.toml'),
      exact: true,
    });
    mkdirSync('poetry');
    writeFileSync(join('poetry', 'pyproject.toml'), '[tool.poetry]\nname = "poetry-app"\n');
    assert.deepEqual(declaredProject('poetry'), { kind: 'path', path: join(dir, 'poetry'), from: 'poetry' });
    mkdirSync('plain'); // neither pyproject.toml nor setup.py: a requirement named "plain", as pip sees it
    assert.equal(declaredProject('plain')?.kind, 'name');
    writeFileSync('app-1.0.tar.gz', '');
    assert.deepEqual(declaredProject('app-1.0.tar.gz'), {
      kind: 'path',
      path: join(dir, 'app-1.0.tar.gz'),
      from: 'app-1.0.tar.gz',
    });
    assert.deepEqual(declaredProject('https://example.invalid/x.whl#sha256=00'), {
      kind: 'url',
      url: 'https://example.invalid/x.whl',
      from: 'https://example.invalid/x.whl#sha256=00',
    });
    assert.throws(
      () => declaredProject('>=1.0'),
      (e: unknown) => e instanceof BuildInputError && /neither a project folder/.test(e.message),
    );
    assert.equal(declaredProject(null), null);
  } finally {
    process.chdir(cwd);
    await removeDir(dir);
  }
});

test(
  'installed project: found by normalized name or by ' + "pip's direct_url.json; its METADATA name is checked too",
  async () => {
    const dir = await makeTempDir('pyrelo-project-name-');
    try {
      const site = join(dir, 'site');
      const source = join(dir, 'a folder é');
      mkdirSync(source);
      const distInfo = (name: string, metadata: string, url: string): void => {
        mkdirSync(join(site, name), { recursive: true });
        writeFileSync(join(site, name, 'METADATA'), metadata);
        writeFileSync(join(site, name, 'direct_url.json'), JSON.stringify({ url, dir_info: {} }));
      };
      distInfo('other-1.0.dist-info', 'Metadata-Version: 2.1\nName: other\nVersion: 1.0\n', 'file:///elsewhere');
      distInfo(
        'legacy_app-3.1.dist-info',
        'Metadata-Version: 2.1\nName: legacy-app\nVersion: 3.1\n\nName: not-this\n',
        pathToFileURL(source).href,
      );
      distInfo(
        'fetched-0.2.dist-info',
        'Metadata-Version: 2.1\nName: fetched\nVersion: 0.2\n',
        'https://example.invalid/fetched-0.2-py3-none-any.whl',
      );
      const packages = [
        { name: 'Foo-Bar', version: '1.2' },
        { name: 'legacy-app', version: '3.1' },
      ];
      assert.deepEqual(installedProject({ kind: 'path', path: source, from: 'src' }, site, packages), {
        name: 'legacy-app',
        version: '3.1',
      });
      assert.deepEqual(
        installedProject(
          { kind: 'url', url: 'https://example.invalid/fetched-0.2-py3-none-any.whl', from: 'u' },
          site,
          packages,
        ),
        { name: 'fetched', version: '0.2' },
      );
      assert.deepEqual(
        installedProject({ kind: 'name', name: 'foo_bar', from: 'foo_bar', exact: false }, site, packages),
        { name: 'Foo-Bar', version: '1.2' },
      );
      assert.deepEqual(
        installedProject({ kind: 'name', name: 'Foo_Bar', from: 'pyproject.toml', exact: true }, site, packages),
        { name: 'Foo_Bar', version: '1.2' },
      );
      assert.throws(
        () => installedProject({ kind: 'name', name: 'missing', from: 'missing', exact: false }, site, packages),
        /pip reported no installed distribution/,
      );
      distInfo('evil-1.dist-info', 'Metadata-Version: 2.1\nName: ../evil\nVersion: 1\n', 'file:///evil');
      assert.throws(
        () => installedProject({ kind: 'url', url: 'file:///evil', from: 'evil.whl' }, site, packages),
        (e: unknown) =>
          e instanceof BuildInputError &&
          e.message ===
            'evil.whl: the installed METADATA: name "../evil": not a project name ' +
              '(letters, digits, ".", "_" and "-", starting and ending with a letter or digit)',
      );
    } finally {
      await removeDir(dir);
    }
  },
);

test('bundle name: --prompt, else the project, else the first --entry, else "bundle"', () => {
  const project = { name: 'shop', version: '1.0' };
  assert.equal(chooseBundleName('served', project, 'smoke'), 'served');
  assert.equal(chooseBundleName(null, project, 'smoke'), 'shop');
  assert.equal(chooseBundleName(null, null, 'smoke'), 'smoke');
  assert.equal(chooseBundleName(null, null, null), 'bundle');
  assert.throws(
    () => chooseBundleName('my app', project, null),
    /--prompt "my app": names the bundle, but is not usable as a bundle name/,
  );
  assert.throws(() => chooseBundleName(null, null, 'e'.repeat(200)), /longer than 128 characters/);
});
