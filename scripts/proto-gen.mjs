#!/usr/bin/env node
// Regenerates src/proto/generated/ (the TypeScript types of proto/pyrelo/v1) with
// @grpc/proto-loader's own proto-loader-gen-types. Plain JavaScript so that it runs before a build:
// a changed .proto can leave the code uncompilable until the types are regenerated.
//
//   node scripts/proto-gen.mjs [OUT_DIR]   write the types into OUT_DIR (default src/proto/generated)
//   node scripts/proto-gen.mjs --options   print the loader options and proto files it uses, as JSON
//
// The types must describe the objects the code receives, so the generator is given the loader
// options and files of src/proto/load.ts; test/proto/generated.test.ts checks both that they agree
// and that the committed output is what this script writes now.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** src/proto/load.ts's LOADER_OPTIONS, with constructors written by name. */
const LOADER_OPTIONS = {
  keepCase: false,
  longs: 'Number',
  enums: 'String',
  bytes: 'Buffer',
  defaults: true,
  oneofs: true,
};

/** src/proto/load.ts's PROTO_FILES (messages.proto comes in through their imports). */
const PROTO_FILES = ['pyrelo/v1/control.proto', 'pyrelo/v1/agent_hub.proto'];

function generatorFlags() {
  const flags = [];
  for (const [name, value] of Object.entries(LOADER_OPTIONS)) {
    if (value === true) flags.push(`--${name}`);
    else if (value !== false) flags.push(`--${name}=${value}`);
  }
  // NodeNext resolution wants the .js suffix on relative imports.
  return [...flags, '--grpcLib=@grpc/grpc-js', '--importFileExtension=.js'];
}

function generate(outDir) {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@grpc/proto-loader/package.json');
  const bin = join(dirname(packageJson), require(packageJson).bin['proto-loader-gen-types']);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // From the repository's root, so each file's "Original file:" line names proto/… the same way
  // wherever the output goes.
  execFileSync(process.execPath, [bin, ...generatorFlags(), '-I', 'proto', '-O', outDir, ...PROTO_FILES], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const argument = process.argv[2];
if (argument === '--options')
  process.stdout.write(`${JSON.stringify({ options: LOADER_OPTIONS, files: PROTO_FILES })}\n`);
else generate(resolve(argument ?? join(ROOT, 'src', 'proto', 'generated')));
