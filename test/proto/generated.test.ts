// src/proto/generated/ is committed output of `npm run proto:gen` (scripts/proto-gen.mjs). CI runs
// `npm test`, so this is where a .proto edited without regenerating, or a hand edit of the
// generated files, turns red: the script writes into a temporary folder and every file must equal
// the committed one. The generator is given the loader options by name; they must be the ones
// src/proto/load.ts really loads with (and the same files), or the types describe objects the
// code never receives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOADER_OPTIONS, PROTO_FILES } from '../../src/proto/load.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'proto-gen.mjs');
const COMMITTED = join(ROOT, 'src', 'proto', 'generated');

/** Every file under `dir`, relative to it, with its text. */
function tree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

test('the generator is given the loader options and files src/proto/load.ts loads with', () => {
  const printed = JSON.parse(execFileSync(process.execPath, [SCRIPT, '--options'], { encoding: 'utf8' })) as unknown;
  const options = Object.fromEntries(
    Object.entries(LOADER_OPTIONS).map(([name, value]) => [name, typeof value === 'function' ? value.name : value]),
  );
  assert.deepEqual(printed, { options, files: PROTO_FILES });
});

test('src/proto/generated/ is what `npm run proto:gen` writes from proto/ now', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'pyrelo-proto-gen-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  execFileSync(process.execPath, [SCRIPT, out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const fresh = tree(out);
  const committed = tree(COMMITTED);
  assert.ok(fresh.size > 40, `the generator wrote ${fresh.size} files into ${out}`);
  const stale = [...new Set([...fresh.keys(), ...committed.keys()])]
    .sort()
    .filter((name) => fresh.get(name) !== committed.get(name))
    .map(
      (name) =>
        `${name}: ${!committed.has(name) ? 'not committed' : !fresh.has(name) ? 'no longer generated' : 'differs'}`,
    );
  assert.deepEqual(stale, [], 'src/proto/generated/ is stale: run `npm run proto:gen` and commit the result');
});
