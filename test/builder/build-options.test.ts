// The options of `pyrelo build` are declared once (src/builder/build-options.ts): the table must
// name every BuildOptions key, and exactly the fields of the server's BuildRequest as the .proto
// declares them (read with @grpc/proto-loader, as the server reads it), each of the right kind.
// The command line declared from the table must parse to the same BuildOptions as before.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { BUILD_OPTIONS, type BuildOptions } from '../../src/builder/build-options.js';
import { parseBuildArgs } from './parse-build-args.js';
import { packageFolder } from '../../src/common/package-files.js';
import { LOADER_OPTIONS } from '../../src/proto/load.js';

/** Every key of BuildOptions, as the compiler checks this literal. */
const EVERY_KEY: Record<keyof BuildOptions, true> = {
  project: true,
  python: true,
  pythonSource: true,
  mirror: true,
  requirements: true,
  wheelhouse: true,
  indexUrl: true,
  libc: true,
  minGlibc: true,
  entries: true,
  smoke: true,
  slim: true,
  slimPackageTests: true,
  clear: true,
  prompt: true,
  withPip: true,
  sourceless: true,
  allowMissing: true,
  preloadOnly: true,
  locales: true,
  output: true,
};

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
}

function buildRequestFields(): FieldDescriptor[] {
  const definition = protoLoader.loadSync(['pyrelo/v1/control.proto'], {
    ...LOADER_OPTIONS,
    includeDirs: [packageFolder('proto')],
  });
  const message = definition['pyrelo.v1.BuildRequest'] as { type: { field: FieldDescriptor[] } } | undefined;
  assert.ok(message, 'pyrelo.v1.BuildRequest is in control.proto');
  return message.type.field;
}

test('build options: the table names every BuildOptions key once', () => {
  const keys = BUILD_OPTIONS.map((row) => row.key);
  assert.deepEqual([...keys].sort(), Object.keys(EVERY_KEY).sort());
  assert.equal(new Set(keys).size, keys.length, 'no key twice');
});

test('build options: the table and BuildRequest in control.proto name the same fields, each of its kind', () => {
  const fields = buildRequestFields();
  const inTable = BUILD_OPTIONS.flatMap((row) => (row.request === null ? [] : [row.request as string]));
  assert.deepEqual(
    [...inTable].sort(),
    fields.map((f) => f.name).sort(),
    "BuildRequest fields = the table's request fields",
  );
  for (const field of fields) {
    const row = BUILD_OPTIONS.find((r) => r.request === field.name)!;
    const kind = field.label === 'LABEL_REPEATED' ? 'repeated' : field.type === 'TYPE_BOOL' ? 'bool' : 'string';
    const expected =
      row.value === 'repeated' ? 'repeated' : row.value === 'switch' || row.value === 'negated' ? 'bool' : 'string';
    assert.equal(kind, expected, `${field.name} (${row.key}, ${row.value})`);
  }
});

test('build options: the command line declared from the table parses as pyrelo build did', () => {
  assert.deepEqual(parseBuildArgs(['-o', 'out']), {
    project: null,
    python: null,
    pythonSource: null,
    mirror: null,
    requirements: null,
    wheelhouse: null,
    indexUrl: null,
    libc: 'host',
    minGlibc: '2.17',
    entries: [],
    smoke: null,
    slim: true,
    slimPackageTests: false,
    clear: false,
    prompt: null,
    withPip: true,
    sourceless: false,
    allowMissing: [],
    preloadOnly: [],
    locales: [],
    output: 'out',
  });
  assert.deepEqual(
    parseBuildArgs([
      'app',
      '--python',
      '/p/python3',
      '-r',
      'req.txt',
      '--wheelhouse',
      '/w',
      '--index-url',
      'https://i/simple',
      '--libc',
      'auto',
      '--min-glibc',
      '2.28',
      '--entry',
      'a=m:f',
      '--entry',
      'b=m:g',
      '--smoke',
      'bin/a "x y"',
      '--no-slim',
      '--clear',
      '--prompt',
      'P',
      '--without-pip',
      '--sourceless',
      '--allow-missing',
      'libodbc.so.2',
      '--preload-only',
      'lib/x/libjemalloc.so',
      '--locale',
      'de_DE.UTF-8',
      '--locale',
      'C.UTF-8',
      '--output',
      join('/', 'o.tar.gz'),
    ]),
    {
      project: 'app',
      python: '/p/python3',
      pythonSource: null,
      mirror: null,
      requirements: 'req.txt',
      wheelhouse: '/w',
      indexUrl: 'https://i/simple',
      libc: 'auto',
      minGlibc: '2.28',
      entries: ['a=m:f', 'b=m:g'],
      smoke: ['bin/a', 'x y'],
      slim: false,
      slimPackageTests: false,
      clear: true,
      prompt: 'P',
      withPip: false,
      sourceless: true,
      allowMissing: ['libodbc.so.2'],
      preloadOnly: ['lib/x/libjemalloc.so'],
      locales: ['de_DE.UTF-8', 'C.UTF-8'],
      output: '/o.tar.gz',
    },
  );
  assert.equal(parseBuildArgs(['--python-source', '/t.tgz', '--slim-package-tests', '-o', 'o']).slimPackageTests, true);
  assert.throws(
    () => parseBuildArgs(['--python', '/p', '--python-source', '/t.tgz', '-o', 'o']),
    /cannot be used with option '--python-source/,
  );
  assert.throws(() => parseBuildArgs(['--libc', 'static', '-o', 'o']), /Allowed choices are host, bundle, auto/);
  assert.throws(() => parseBuildArgs([]), /required option '-o, --output <output>' not specified/);
});
