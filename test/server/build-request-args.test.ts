// The server's BuildRequest becomes `pyrelo build` arguments through the one table of build options
// (src/builder/build-options.ts): every field set in a request must reach the BuildOptions the
// build process parses from those arguments, and nothing else may.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBuildArgs } from '../builder/parse-build-args.js';
import { BuildRequestError, requestArgs } from '../../src/server/bundle-builds.js';
import type { BuildRequest } from '../../src/proto/messages.js';

const EMPTY: BuildRequest = {
  project: '',
  python: '',
  pythonSource: '',
  requirements: '',
  wheelhouse: '',
  libc: '',
  minGlibc: '',
  entries: [],
  smoke: '',
  prompt: '',
  withoutPip: false,
  noSlim: false,
  indexUrl: '',
  sourceless: false,
  allowMissing: [],
  preloadOnly: [],
  locales: [],
};

test('build request: every field reaches BuildOptions through the arguments', () => {
  const request: BuildRequest = {
    project: '/srv/app',
    python: '/opt/py/bin/python3',
    pythonSource: '',
    requirements: '/srv/req.txt',
    wheelhouse: '/srv/wheels',
    libc: 'bundle',
    minGlibc: '2.28',
    entries: ['a=m:f', 'b=m:g'],
    smoke: 'bin/a "x y"',
    prompt: 'P',
    withoutPip: true,
    noSlim: true,
    indexUrl: 'https://i/simple',
    sourceless: true,
    allowMissing: ['libodbc.so.2', 'libx.so.1'],
    preloadOnly: ['lib/python3.11/site-packages/ray/core/libjemalloc.so'],
    locales: ['de_DE.UTF-8', 'C.UTF-8'],
  };
  const args = requestArgs(request);
  assert.equal(args[0], '/srv/app', "the project first (the build's label in the server log)");
  assert.deepEqual(parseBuildArgs([...args, '-o', '/out.tar.gz']), {
    project: '/srv/app',
    python: '/opt/py/bin/python3',
    pythonSource: null,
    mirror: null,
    requirements: '/srv/req.txt',
    wheelhouse: '/srv/wheels',
    indexUrl: 'https://i/simple',
    libc: 'bundle',
    minGlibc: '2.28',
    entries: ['a=m:f', 'b=m:g'],
    smoke: ['bin/a', 'x y'],
    slim: false,
    slimPackageTests: false,
    clear: false,
    prompt: 'P',
    withPip: false,
    sourceless: true,
    allowMissing: ['libodbc.so.2', 'libx.so.1'],
    preloadOnly: ['lib/python3.11/site-packages/ray/core/libjemalloc.so'],
    locales: ['de_DE.UTF-8', 'C.UTF-8'],
    output: '/out.tar.gz',
  });
  // A version number is no path: the server's build compiles it.
  assert.deepEqual(requestArgs({ ...EMPTY, python: '3.13' }), ['--python', '3.13']);
  assert.deepEqual(requestArgs({ ...EMPTY, project: 'yamlsmoke', pythonSource: '/t.tgz' }), [
    'yamlsmoke',
    '--python-source',
    '/t.tgz',
  ]);
});

test('build request: bad fields are refused naming the field, before any build', () => {
  const refused = (request: BuildRequest, message: RegExp): void => {
    assert.throws(
      () => requestArgs(request),
      (e: Error) => e instanceof BuildRequestError && message.test(e.message),
    );
  };
  refused({ ...EMPTY }, /^build request: give exactly one of python and python_source$/);
  refused({ ...EMPTY, python: 'python3' }, /^--python python3: expected an absolute path on the server's machine$/);
  refused({ ...EMPTY, python: '/p', requirements: 'r.txt' }, /^--requirement r\.txt: expected an absolute path/);
  refused({ ...EMPTY, python: '/p', project: './app' }, /^project \.\/app: expected an absolute path/);
  refused({ ...EMPTY, python: '/p', libc: 'static' }, /^libc "static": expected host, bundle or auto$/);
  refused({ ...EMPTY, python: '/p', allowMissing: ['--clear'] }, /^allow_missing "--clear": expected a library name/);
  refused(
    { ...EMPTY, python: '/p', preloadOnly: ['--clear'] },
    /^preload_only "--clear": expected a path inside the bundle/,
  );
  refused(
    { ...EMPTY, python: '/p', preloadOnly: ['../etc/x.so'] },
    /^preload_only "\.\.\/etc\/x\.so": expected a path inside/,
  );
  refused({ ...EMPTY, python: '/p', locales: ['--clear'] }, /^locales "--clear": not a locale name/);
  // A project that would be read as a flag by the build's command line (it is the one bare argument).
  refused(
    { ...EMPTY, python: '/p', project: '--index-url=https://elsewhere/simple' },
    /^project "--index-url=https:\/\/elsewhere\/simple": expected a project folder \(an absolute path\) or a requirement, not a flag$/,
  );
  refused({ ...EMPTY, python: '/p', project: '-rf' }, /^project "-rf": expected a project folder/);
  // As before: the value checks come before the path checks.
  refused({ ...EMPTY, python: 'python3', libc: 'static' }, /^libc "static"/);
});
