// `pyrelo check --inventory` must answer exactly as `--root` on the host the inventory came from:
// the stored host is a faithful stand-in for the live one. Checked on copies of real programs and on
// fixture files laid over the host (as a bundle would be), through the CLI's own host selection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { checkFile } from '../../src/loader/check.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { readInventory, validateInventory, InventoryFormatError } from '../../src/inventory/read.js';
import { selectHost } from '../../src/client/host-selection.js';
import { loaderConfigOf } from '../../src/inventory/inventory-host.js';
import type { LoadReport } from '../../src/loader/types.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { scenarioBuilders } from '../support/scenarios.js';

function essence(report: LoadReport): unknown {
  return {
    kind: report.kind,
    loads: report.loads,
    objects: report.objects.map((o) => [o.name, o.path, o.foundBy]),
    problems: report.problems.map((p) => p.message).sort(),
    glibcFloor: report.glibcFloor,
  };
}

test('an inventory of / answers like / itself, and is compact', async (t) => {
  const dir = await makeTempDir('pyrelo-inventory-');
  try {
    const file = join(dir, 'host.json.gz');
    const inventory = collectInventory('/');
    writeFileSync(file, gzipSync(JSON.stringify(inventory), { level: 9 }));
    t.diagnostic(
      `inventory of this host: ${Object.keys(inventory.files).length} paths, ${inventory.objects.length} objects, ` +
        `${(statSync(file).size / 1e6).toFixed(2)} MB gzip'd`,
    );
    assert.ok(inventory.objects.length > 50);

    const programs = ['/usr/bin/ls', '/usr/bin/ssh', '/usr/bin/python3.11', '/usr/bin/curl'];
    const local = programs.map((p) => {
      const copy = join(dir, p.split('/').pop()!);
      copyFileSync(p, copy);
      return copy;
    });
    const scenarios = await Promise.all(
      ['missing-library', 'version-script-two-versions', 'rpath-vs-runpath-chain', 'symbol-dropped'].map((name) =>
        scenarioBuilders[name]!(join(dir, 'scenarios')),
      ),
    );
    const inputs = [...local, ...scenarios.flatMap((s) => s.files)];

    const live = selectHost({}, inputs);
    const stored = selectHost({ inventory: file }, inputs);
    let compared = 0;
    for (const input of inputs) {
      const fromRoot = checkFile(live.view, live.toHostPath(input), { cwd: '/' });
      const fromInventory = checkFile(stored.view, stored.toHostPath(input), { cwd: '/' });
      assert.deepEqual(essence(fromInventory), essence(fromRoot), input);
      compared += 1;
    }
    // The comparison must have covered both loading and failing files.
    const reports = inputs.map((i) => checkFile(stored.view, stored.toHostPath(i), { cwd: '/' }));
    assert.ok(reports.some((r) => r.loads) && reports.some((r) => !r.loads), 'need both outcomes');
    t.diagnostic(`${compared} files answered identically`);
  } finally {
    await removeDir(dir);
  }
});

test('a malformed inventory is refused with the file and the field', async () => {
  const dir = await makeTempDir('pyrelo-inventory-bad-');
  try {
    const cases: [string, string][] = [
      ['{"format":"other"}', 'format'],
      ['not json', '(json)'],
      [JSON.stringify({ ...collectInventoryStub(), files: { '/lib/x.so': 99 } }), 'files["/lib/x.so"]'],
      [
        JSON.stringify({
          ...collectInventoryStub(),
          objects: [storedObjectStub({ definitions: [['malloc', 'GLIBC_2.2.5', 0]] })],
        }),
        'objects[0].definitions[0]',
      ],
      [
        JSON.stringify({
          ...collectInventoryStub(),
          objects: [storedObjectStub({ versionNeeds: [['libc.so.6', [['GLIBC_2.34', 1, false]]]] })],
        }),
        'objects[0].versionNeeds[0][1][0]',
      ],
      [JSON.stringify({ ...collectInventoryStub(), objects: [storedObjectStub({ soname: 42 })] }), 'objects[0].soname'],
      [
        JSON.stringify({ ...collectInventoryStub(), objects: [storedObjectStub({ x86IsaNeeded: 8 })] }),
        'objects[0].x86IsaNeeded',
      ],
      [
        JSON.stringify({ ...collectInventoryStub(), objects: [storedObjectStub({ tls: [0, -2632, 64] })] }),
        'objects[0].tls',
      ],
      [
        JSON.stringify({
          ...collectInventoryStub(),
          loader: { ...(collectInventoryStub().loader as object), procMounted: 'yes' },
        }),
        'loader.procMounted',
      ],
    ];
    for (const [text, field] of cases) {
      const file = join(dir, 'bad.json');
      writeFileSync(file, text);
      assert.throws(
        () => readInventory(file),
        (error: unknown) =>
          error instanceof InventoryFormatError && error.field === field && error.message.startsWith(file),
      );
    }
  } finally {
    await removeDir(dir);
  }
});

test('an inventory written before /proc was recorded counts as a host with /proc', () => {
  const { procMounted, ...older } = collectInventoryStub().loader as Record<string, unknown>;
  assert.equal(procMounted, true);
  const inventory = validateInventory({ ...collectInventoryStub(), loader: older, files: {} }, 'old.json');
  assert.equal(loaderConfigOf(inventory).procMounted, true);
  const without = validateInventory(
    { ...collectInventoryStub(), loader: { ...older, procMounted: false }, files: {} },
    'new.json',
  );
  assert.equal(loaderConfigOf(without).procMounted, false);
});

function collectInventoryStub(): Record<string, unknown> {
  return {
    format: 'pyrelo-inventory/1',
    collectedAt: '',
    source: '/',
    host: {},
    loader: {
      machine: 62,
      elfClass: 64,
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      systemDirs: [],
      libToken: 'lib64',
      platform: 'x86_64',
      hwcapsSubdirs: [],
      legacyHwcapsSubdirs: [],
      isaLevel: 1,
      glibcVersion: null,
      kernelVersion: null,
      cache: null,
      procMounted: true,
    },
    objects: [],
    unreadable: {},
  };
}

/** A well-formed stored object, with some fields replaced. */
function storedObjectStub(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    header: {
      elfClass: 64,
      data: 'lsb',
      identVersion: 1,
      osabi: 0,
      abiversion: 0,
      paddingNonZero: false,
      e_version: 1,
      e_type: 3,
      e_machine: 62,
      e_phentsize: 56,
      hasDynamic: true,
    },
    interpreter: null,
    needed: [],
    soname: null,
    rpath: null,
    runpath: null,
    flags: 0,
    flags1: 0,
    abiTag: null,
    versionDefinitions: [],
    versionNeeds: [],
    versions: [],
    hasVersym: false,
    hasSymbolHash: true,
    definitions: [],
    requirements: [],
    ...overrides,
  };
}
