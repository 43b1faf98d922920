// Ground truth for the locales a bundle needs (issue 19). Two bundles (--libc host and --libc
// bundle) declare de_DE.UTF-8 (`--locale`) and have a smoke command that sets C.UTF-8, so the build
// records both: de_DE.UTF-8 declared, C.UTF-8 set by the smoke run. Each runs, in a Debian root
// where the root's own localedef compiled de_DE.UTF-8 (test/lab/nss-layers.ts) and in the plain
// root (C.utf8 only), what an application that depends on the locale does:
// `locale.setlocale(LC_ALL, "de_DE.UTF-8")`, and the smoke's C.UTF-8. The prediction from the
// root's inventory and `pyrelo check --root` must say what happened:
// - set where compiled: nothing to report;
// - failed where not: a warning for the declared locale (the check passes);
// - the same bundle as a build whose smoke run set de_DE.UTF-8 records it (a build host with it
//   compiled; this one has only C.utf8, so the manifest is written so): an error, the check fails,
//   and indeed a smoke command setting it exits 1 in that root.
// npm test runs bookworm (both libc modes start there); PYRELO_LAB_ALL=1 (`npm run lab:host-locales`)
// also bullseye (glibc 2.31: the host-libc bundle does not start) and trixie (2.41).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { predictBundle } from '../../src/compat/check-bundle.js';
import { readManifest } from '../../src/bundle/manifest.js';
import type { Inventory } from '../../src/inventory/format.js';
import { readInventory } from '../../src/inventory/read.js';
import { ensureRoot, runInRoot, skipUnlessLab, type DebianRootName } from '../lab/lab.js';
import { EXTRA_LOCALE, ensureNssRoot } from '../lab/nss-layers.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildApp, buildSkipReason } from './shared-build.js';

const TIMEOUT = 20 * 60_000;
const ALL = process.env.PYRELO_LAB_ALL === '1';
const SUITES: readonly DebianRootName[] = ALL ? ['bullseye', 'bookworm', 'trixie'] : ['bookworm'];
const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/client/main.js');

const SMOKE = ['bin/python3', '-c', 'import locale; locale.setlocale(locale.LC_ALL, "C.UTF-8")'];
const PROBE = `import json, locale
out = {}
for name in (${JSON.stringify(EXTRA_LOCALE)}, "C.UTF-8"):
    try:
        out[name] = locale.setlocale(locale.LC_ALL, name)
    except locale.Error as e:
        out[name] = "locale.Error: %s" % e
print(json.dumps(out))
`;

interface Bundles {
  dir: string;
  host: string;
  glibc: string;
}
let bundles: Promise<Bundles> | null = null;

function twoBundles(): Promise<Bundles> {
  bundles ??= (async () => {
    const dir = await makeTempDir('pyrelo-host-locales-');
    writeFileSync(join(dir, 'probe.py'), PROBE);
    const host = join(dir, 'host');
    const glibc = join(dir, 'glibc');
    const more = { locales: [EXTRA_LOCALE], smoke: SMOKE };
    await Promise.all([buildApp(host, [], 'host', null, more), buildApp(glibc, [], 'bundle', null, more)]);
    return { dir, host, glibc };
  })();
  return bundles;
}

after(async () => {
  if (bundles !== null) await removeDir((await bundles).dir);
});

interface Root {
  readonly name: string;
  readonly root: string;
  readonly layers: string[];
}

async function probe(root: Root, bundle: string, dir: string) {
  return runInRoot(root.root, ['/opt/app/bin/python3', '/opt/probe.py'], {
    layers: root.layers,
    bind: [
      { hostPath: bundle, rootPath: '/opt/app', readOnly: true },
      { hostPath: join(dir, 'probe.py'), rootPath: '/opt/probe.py', readOnly: true },
    ],
    timeoutMs: 120_000,
  });
}

/**
 * `pyrelo inventory --root` and `pyrelo check --root BUNDLE` of the root: with layers, over a read-only
 * overlay mounted in a private mount namespace of the one command (never on the host).
 */
async function inventoryAndCheck(
  root: Root,
  dir: string,
  bundle: string,
): Promise<{ inventory: Inventory; check: string; checkExit: number }> {
  const merged = join(dir, `merged-${root.name}`);
  const out = join(dir, `inventory-${root.name}.json`);
  const checkOut = join(dir, `check-${root.name}.txt`);
  mkdirSync(merged, { recursive: true });
  const mount =
    root.layers.length === 0
      ? 'mount --bind -o ro "$1" "$2"'
      : 'mount -t overlay pyrelo-locale-inventory -o ro,lowerdir="$1" "$2"';
  const script =
    `${mount} && "$3" "$4" inventory --root "$2" -o "$5" ` +
    '&& exec "$3" "$4" check --no-cache --root "$2" "$6" > "$7"';
  const lower = root.layers.length === 0 ? root.root : [...root.layers, root.root].join(':');
  const run = await execa(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      lower,
      merged,
      process.execPath,
      CLI,
      out,
      bundle,
      checkOut,
    ],
    { reject: false },
  );
  assert.ok(run.exitCode === 0 || run.exitCode === 1, run.stderr);
  return { inventory: readInventory(out), check: readFileSync(checkOut, 'utf8'), checkExit: run.exitCode! };
}

function skip(t: Parameters<typeof skipUnlessLab>[0]): boolean {
  if (skipUnlessLab(t, ['debootstrap'])) return true;
  const reason = buildSkipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return true;
  }
  return false;
}

const compiledOnlyThere = (has: string): string =>
  `locale ${EXTRA_LOCALE} is not compiled on this host (it has ${has}): `;
const COMPILE = '; compile it with localedef or locale-gen';

for (const suite of SUITES) {
  test(`${suite}: a declared locale and one the smoke run set, in both libc modes`, { timeout: TIMEOUT }, async (t) => {
    if (skip(t)) return;
    const nss = await ensureNssRoot(suite, 'debian');
    const roots: Root[] = [
      { name: `${suite}-with`, root: nss.root, layers: nss.layers },
      { name: `${suite}-plain`, root: await ensureRoot(suite), layers: [] },
    ];
    const { dir, host, glibc } = await twoBundles();
    for (const bundle of [host, glibc]) {
      assert.deepEqual(readManifest(bundle).locales, [
        { name: 'C.UTF-8', declared: false, smoke: true },
        { name: EXTRA_LOCALE, declared: true, smoke: false },
      ]);
    }
    for (const root of roots) {
      const compiled = root.layers.length > 0;
      for (const bundle of suite === 'bullseye' ? [glibc] : [host, glibc]) {
        const mode = bundle === host ? 'host' : 'bundle';
        const what = `${root.name}, --libc ${mode}`;
        const run = await probe(root, bundle, dir);
        assert.equal(run.exitCode, 0, `${what}: ${run.stderr}`);
        assert.deepEqual(
          JSON.parse(run.stdout),
          {
            [EXTRA_LOCALE]: compiled ? EXTRA_LOCALE : 'locale.Error: unsupported locale setting',
            'C.UTF-8': 'C.UTF-8',
          },
          `${what}: the real outcome`,
        );

        const { inventory, check, checkExit } = await inventoryAndCheck(root, dir, bundle);
        const has = inventory.nss!.locales.join(', ');
        const predicted = () =>
          predictBundle(inventory, bundle, { digest: 'test', host: root.name, inventorySha256: '' });
        const localeLines = (text: string) =>
          text
            .split('\n')
            .filter((l) => /^ {2}(warning|error): locale /.test(l))
            .map((l) => l.trim());
        const declared = predicted();
        const expected = compiled ? [] : [`warning: ${compiledOnlyThere(has)}setlocale fails${COMPILE}`];
        assert.deepEqual(
          declared.problems.filter((p) => p.kind === 'host-locale').map((p) => `${p.severity}: ${p.message}`),
          expected,
          `${what}: the prediction`,
        );
        assert.ok(declared.loads, `${what}: a declared locale never fails the check`);
        assert.deepEqual(localeLines(check), expected, `${what}: pyrelo check --root`);
        assert.equal(checkExit, 0, check);

        // As recorded by a build whose smoke run set de_DE.UTF-8: the smoke command depends on it.
        const manifestPath = join(bundle, 'pyrelo.json');
        const original = readFileSync(manifestPath, 'utf8');
        try {
          const m = JSON.parse(original) as { locales: { name: string; smoke: boolean }[] };
          for (const l of m.locales) if (l.name === EXTRA_LOCALE) l.smoke = true;
          writeFileSync(manifestPath, `${JSON.stringify(m, null, 2)}\n`);
          const depends = predicted();
          const error = compiled
            ? []
            : [`error: ${compiledOnlyThere(has)}the smoke command's setlocale fails${COMPILE}`];
          assert.deepEqual(
            depends.problems.filter((p) => p.kind === 'host-locale').map((p) => `${p.severity}: ${p.message}`),
            error,
            `${what}: the prediction when the smoke command depends on it`,
          );
          assert.equal(depends.loads, compiled, `${what}: the check fails where the locale is missing`);
          // pyrelo check --root (each costs seconds: only where the answer changed).
          if (!compiled) {
            const again = await inventoryAndCheck(root, dir, bundle);
            assert.deepEqual(localeLines(again.check), error, `${what}: pyrelo check --root`);
            assert.equal(again.checkExit, 1, again.check);
          }
          // And a smoke command setting it does exit 1 there, 0 where it is compiled.
          const smoke = await runInRoot(
            root.root,
            [
              '/opt/app/bin/python3',
              '-c',
              `import locale; locale.setlocale(locale.LC_ALL, ${JSON.stringify(EXTRA_LOCALE)})`,
            ],
            {
              layers: root.layers,
              bind: [{ hostPath: bundle, rootPath: '/opt/app', readOnly: true }],
              timeoutMs: 120_000,
            },
          );
          assert.equal(smoke.exitCode, compiled ? 0 : 1, `${what}: ${smoke.stderr}`);
        } finally {
          writeFileSync(manifestPath, original);
        }
      }
    }
  });
}
