// The rooms of src/ import only downward (README "Layout"): elf, bundle, remote, proto, common ->
// loader -> inventory -> builder, compat -> release -> server, agent -> client. Engines never
// import the sides; a side never imports another side's folder above it. Read from the TypeScript
// sources' own import statements (static and dynamic) and the files they find beside them by URL
// (a script started as a process, a worker), so a new dependency that goes up fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

/** Each room's floor. */
const FLOOR: Record<string, number> = {
  elf: 0,
  bundle: 0,
  remote: 0,
  proto: 0,
  common: 0,
  loader: 1,
  inventory: 2,
  builder: 3,
  compat: 3,
  release: 4,
  server: 5,
  agent: 5,
  client: 6,
};

/** Downward always; sideways on the ground floor (engines of their own) and between builder and
 * compat, which share the bundle rules; never sideways between server and agent, never up. */
function allowed(from: number, to: number): boolean {
  return to < from || (to === from && (from === 0 || from === 3));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

test('src/ imports only downward, between rooms with one role each', () => {
  const files = sources(SRC);
  assert.ok(files.length > 100, `found ${files.length} sources under ${SRC}`);
  const upward: string[] = [];
  for (const file of files) {
    const room = relative(SRC, file).split('/')[0]!;
    const floor = FLOOR[room];
    if (floor === undefined) {
      upward.push(`${relative(SRC, file)}: room ${room} has no floor (add it to this test and the README)`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    // A file found next to this one (new URL('../x/y.js', import.meta.url)) is a dependency too, one no import shows.
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|new\s+URL\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(SRC, normalize(join(dirname(file), m[1]!))).split('/')[0]!;
      if (target === room || target.startsWith('..')) continue;
      const targetFloor = FLOOR[target];
      if (targetFloor === undefined || !allowed(floor, targetFloor))
        upward.push(`${relative(SRC, file)} imports ${m[1]} (${room} -> ${target})`);
    }
  }
  assert.deepEqual(upward, []);
});
