// The intake refuses a gzip bomb holding one chunk of what it inflates, not everything up to the
// limit (src/server/inventory-worker.ts refuseBeforeInflating): gunzipSync with maxOutputLength
// held up to inventoryMaxJsonBytes (256 MiB by default) before it refused, which bench:soak's bomb
// attacker cost the server's RSS in every round. A fresh process takes a bomb that expands past a
// 512 MiB limit and reports its peak RSS (the kernel's high-water mark, not a timing): it stays
// below half the limit, which holding the inflated bytes cannot. Also: the shape scan fed in pieces
// gives the whole buffer's answer, escapes split across pieces included.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonShapeScan, jsonShapeProblem } from '../../src/inventory/json-shape.js';
import { gzipSegments } from '../adversarial/fleet.js';

const MiB = 1024 * 1024;

test('a gzip bomb is refused with the process never holding what it inflated', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-intake-inflate-'));
  try {
    const limit = 512 * MiB;
    const bombFile = join(dir, 'bomb.gz');
    writeFileSync(bombFile, await gzipSegments([{ text: ' ', bytes: limit + 16 * MiB }]));
    const program = `
      const [worker, database, bomb, limit] = process.argv.slice(1);
      const { readFileSync } = await import('node:fs');
      const { intake } = await import(worker);
      const { CompatDatabase } = await import(database);
      const db = new CompatDatabase(${JSON.stringify(join(dir, 'compat.sqlite'))});
      const limits = { maxBytes: 64 << 20, maxJsonBytes: Number(limit), maxDepth: 64, maxElements: 16e6,
        parseMemoryMb: 1024, parseSeconds: 600 };
      let refused = '';
      try {
        await intake(db.db, { id: 1, bytes: readFileSync(bomb), source: 'bomb', limits, expect: '' });
      } catch (error) {
        refused = error.message;
      }
      process.stdout.write(JSON.stringify({ refused, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));`;
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        program,
        new URL('../../src/server/inventory-worker.js', import.meta.url).href,
        new URL('../../src/server/db/database.js', import.meta.url).href,
        bombFile,
        String(limit),
      ],
      { encoding: 'utf8' },
    );
    const { refused, maxRssBytes } = JSON.parse(out) as { refused: string; maxRssBytes: number };
    assert.match(refused, /expands to more than 536870912 bytes \(setting inventoryMaxJsonBytes\)/);
    assert.ok(
      maxRssBytes < limit / 2,
      `peak RSS ${(maxRssBytes / MiB).toFixed(0)} MiB, below half the ${limit / MiB} MiB that was inflated`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shape scan fed in pieces answers as over the whole buffer', () => {
  const limits = { maxDepth: 4, maxElements: 12 };
  const cases = [
    '{"a\\\\":[1,2],"b":"x\\\\\\"[[[[[["}',
    '[[[[[1]]]]]',
    '["\\\\"' + ',1'.repeat(20) + ']',
    '{"k":"[[[[[[[[[[\\",,,,,,,,,,,,,,"}',
  ];
  for (const text of cases) {
    const bytes = Buffer.from(text);
    const whole = jsonShapeProblem(bytes, limits);
    for (let size = 1; size <= 3; size++) {
      const scan = new JsonShapeScan(limits);
      let answer: string | null = null;
      for (let at = 0; at < bytes.length && answer === null; at += size)
        answer = scan.feed(bytes.subarray(at, at + size));
      assert.equal(answer, whole, `${text} in pieces of ${size}`);
    }
  }
  assert.equal(jsonShapeProblem(Buffer.from(cases[0]!), limits), null);
  assert.match(jsonShapeProblem(Buffer.from(cases[1]!), limits)!, /nested deeper than 4 levels \(at byte 4\)/);
  assert.match(jsonShapeProblem(Buffer.from(cases[2]!), limits)!, /more than 12 values/);
  assert.equal(jsonShapeProblem(Buffer.from(cases[3]!), limits), null);
});
