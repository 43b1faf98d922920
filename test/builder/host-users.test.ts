// Ground truth for issue 19: bundles meet a real NSS module (Debian's libnss-extrausers, with a
// user and a group known only to it) and a generated de_DE.UTF-8 locale, in Debian roots derived
// by test/lab/nss-layers.ts, in Debian's layout (the module in /usr/lib) and a RHEL-style one (the
// module in /usr/lib64, found by the host through ld.so.conf.d and its ld.so.cache). Each root
// runs a probe (pwd.getpwnam, pwd.getpwuid, grp.getgrnam, os.path.expanduser("~exuser"),
// locale.setlocale and what the locale then says) with:
// - the --libc host bundle: it resolves everything where it starts (bookworm, trixie), and in
//   bullseye (glibc 2.31) it does not start at all;
// - the --libc bundle bundle run with -S (no site, so no start-up hook): what the bundled glibc's
//   NSS sees by itself, which must be what the prediction from `pyrelo inventory --root` of that
//   root says: no host-nss warning where it resolves, and where it does not, the warning in its words;
// - the --libc bundle bundle as it runs: everything resolves, through the host's getent where the
//   bundled NSS cannot load or find the module.
// npm test runs a sample (trixie in Debian's layout: the module needs GLIBC_2.38; bookworm in the
// RHEL one); PYRELO_LAB_ALL=1 (`npm run lab:host-users`) runs every suite in both layouts.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { predictBundle } from '../../src/compat/check-bundle.js';
import type { Inventory } from '../../src/inventory/format.js';
import { readInventory } from '../../src/inventory/read.js';
import { compareVersions } from '../../src/loader/floors.js';
import { runInRoot, skipUnlessLab, type DebianRootName } from '../lab/lab.js';
import {
  EXTRA_GROUP,
  EXTRA_LOCALE,
  EXTRA_USER,
  ensureNssRoot,
  type NssLayout,
  type NssRoot,
} from '../lab/nss-layers.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { buildApp, buildSkipReason } from './shared-build.js';

const TIMEOUT = 20 * 60_000;
const ALL = process.env.PYRELO_LAB_ALL === '1';
const CASES: ReadonlyArray<readonly [DebianRootName, NssLayout]> = ALL
  ? (['bullseye', 'bookworm', 'trixie'] as const).flatMap((s) =>
      (['debian', 'rhel'] as const).map((l) => [s, l] as const),
    )
  : [
      ['trixie', 'debian'],
      ['bookworm', 'rhel'],
    ];

const PROBE = `import grp, json, locale, os, pwd, time
out = {}
def attempt(key, func):
    try:
        out[key] = func()
    except Exception as e:
        out[key] = "%s: %s" % (type(e).__name__, e)
attempt("getpwnam", lambda: list(pwd.getpwnam(${JSON.stringify(EXTRA_USER.name)})))
attempt("getpwuid", lambda: pwd.getpwuid(${EXTRA_USER.uid}).pw_name)
attempt("getgrnam", lambda: list(grp.getgrnam(${JSON.stringify(EXTRA_GROUP.name)})))
attempt("getgrgid", lambda: grp.getgrgid(${EXTRA_GROUP.gid}).gr_name)
attempt("expanduser", lambda: os.path.expanduser("~${EXTRA_USER.name}"))
attempt("missing", lambda: pwd.getpwnam("nosuchuser"))
attempt("numeric", lambda: pwd.getpwnam("${EXTRA_USER.uid}"))
attempt("setlocale", lambda: locale.setlocale(locale.LC_ALL, ${JSON.stringify(EXTRA_LOCALE)}))
attempt("month", lambda: time.strftime("%B", (2026, 12, 5, 0, 0, 0, 0, 339, 0)))
print(json.dumps(out))
`;

const RESOLVED = {
  getpwnam: [EXTRA_USER.name, 'x', EXTRA_USER.uid, EXTRA_USER.gid, EXTRA_USER.gecos, EXTRA_USER.home, '/bin/sh'],
  getpwuid: EXTRA_USER.name,
  getgrnam: [EXTRA_GROUP.name, 'x', EXTRA_GROUP.gid, [...EXTRA_GROUP.members]],
  getgrgid: EXTRA_GROUP.name,
  expanduser: EXTRA_USER.home,
  missing: `KeyError: "getpwnam(): name not found: 'nosuchuser'"`,
  // getent reads a numeric key as a uid; a name that is digits stays unknown.
  numeric: `KeyError: "getpwnam(): name not found: '${EXTRA_USER.uid}'"`,
  setlocale: EXTRA_LOCALE,
  month: 'Dezember',
};
const UNRESOLVED = {
  ...RESOLVED,
  getpwnam: `KeyError: "getpwnam(): name not found: '${EXTRA_USER.name}'"`,
  getpwuid: `KeyError: 'getpwuid(): uid not found: ${EXTRA_USER.uid}'`,
  getgrnam: `KeyError: "getgrnam(): name not found: '${EXTRA_GROUP.name}'"`,
  getgrgid: `KeyError: 'getgrgid(): gid not found: ${EXTRA_GROUP.gid}'`,
  expanduser: `~${EXTRA_USER.name}`,
};

interface Bundles {
  dir: string;
  host: string;
  glibc: string;
}
let bundles: Promise<Bundles> | null = null;

function twoBundles(): Promise<Bundles> {
  bundles ??= (async () => {
    const dir = await makeTempDir('pyrelo-host-users-');
    writeFileSync(join(dir, 'probe.py'), PROBE);
    const host = join(dir, 'host');
    const glibc = join(dir, 'glibc');
    await Promise.all([buildApp(host, [], 'host'), buildApp(glibc, [], 'bundle')]);
    return { dir, host, glibc };
  })();
  return bundles;
}

async function probe(nss: NssRoot, bundle: string, dir: string, args: string[] = []) {
  const run = await runInRoot(nss.root, ['/opt/app/bin/python3', ...args, '/opt/probe.py'], {
    layers: nss.layers,
    bind: [
      { hostPath: bundle, rootPath: '/opt/app', readOnly: true },
      { hostPath: join(dir, 'probe.py'), rootPath: '/opt/probe.py', readOnly: true },
    ],
    timeoutMs: 120_000,
  });
  return run;
}

after(async () => {
  if (bundles !== null) await removeDir((await bundles).dir);
});

function skip(t: Parameters<typeof skipUnlessLab>[0]): boolean {
  if (skipUnlessLab(t, ['debootstrap'])) return true;
  const reason = buildSkipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return true;
  }
  return false;
}

/**
 * `pyrelo inventory --root` of the derived root: its layers and the cached root merged by a
 * read-only overlay mounted in a private mount namespace of the one command (never on the host).
 */
async function inventoryOf(
  nss: NssRoot,
  dir: string,
  bundle: string,
): Promise<{ inventory: Inventory; check: string }> {
  const merged = join(dir, `merged-${nss.suite}-${nss.layout}`);
  const out = join(dir, `inventory-${nss.suite}-${nss.layout}.json`);
  const checkOut = join(dir, `check-${nss.suite}-${nss.layout}.txt`);
  mkdirSync(merged, { recursive: true });
  const cli = join(dirname(fileURLToPath(import.meta.url)), '../../src/client/main.js');
  const lower = [...nss.layers, nss.root].join(':');
  // Also `pyrelo check --root` of the bundle there, which must say the same as the prediction.
  const script =
    'mount -t overlay pyrelo-nss-inventory -o ro,lowerdir="$1" "$2" && "$3" "$4" inventory --root "$2" -o "$5" ' +
    '&& exec "$3" "$4" check --no-cache --root "$2" "$6" > "$7"';
  await execa('unshare', [
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
    cli,
    out,
    bundle,
    checkOut,
  ]);
  return { inventory: readInventory(out), check: readFileSync(checkOut, 'utf8') };
}

const GLIBC = '2.36'; // the bundled glibc: this build host's (Debian 12)

for (const [suite, layout] of CASES) {
  test(
    `${suite}, ${layout} layout: host users, groups and locale in both libc modes`,
    { timeout: TIMEOUT },
    async (t) => {
      if (skip(t)) return;
      const nss = await ensureNssRoot(suite, layout);
      const { dir, host, glibc } = await twoBundles();

      const hostRun = await probe(nss, host, dir);
      if (suite === 'bullseye') {
        assert.equal(hostRun.exitCode, 1, hostRun.stdout);
        assert.match(hostRun.stderr, /version `GLIBC_2\.3\d' not found/);
      } else {
        assert.equal(hostRun.exitCode, 0, hostRun.stderr);
        assert.deepEqual(JSON.parse(hostRun.stdout), RESOLVED, 'the host-libc bundle sees what the host sees');
      }

      const { inventory, check } = await inventoryOf(nss, dir, glibc);
      assert.deepEqual(inventory.nss?.databases.passwd, ['files', 'extrausers']);
      assert.ok(inventory.nss?.locales.includes('de_DE.utf8'), String(inventory.nss?.locales));
      const module = inventory.nss?.modules.find((m) => m.module === 'extrausers');
      // In Debian's merged /usr, the loader tries /lib (a link to usr/lib) before /usr/lib.
      assert.equal(module?.path, layout === 'debian' ? '/lib/libnss_extrausers.so.2' : nss.modulePath);
      const predicted = predictBundle(inventory, glibc, { digest: 'test', host: suite, inventorySha256: '' });
      const warnings = predicted.problems.filter((p) => p.kind === 'host-nss').map((p) => p.message);
      const consequence =
        "Python's pwd and grp ask the host's getent instead; C code calling getpwnam does not see these entries";
      const expected =
        layout === 'rhel'
          ? [
              'passwd and group from extrausers: libnss_extrausers.so.2 is in /usr/lib64, where the bundled ' +
                'glibc does not look (it searches /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, ' +
                `/usr/lib): ${consequence}`,
            ]
          : module?.glibcNeeded != null && compareVersions(module.glibcNeeded, GLIBC) > 0
            ? [
                `passwd and group from extrausers: libnss_extrausers.so.2 needs GLIBC_${module.glibcNeeded}, ` +
                  `the bundle's glibc is ${GLIBC}: ${consequence}`,
              ]
            : [];
      assert.deepEqual(warnings, expected, 'the prediction');
      assert.ok(predicted.loads, 'NSS warnings never fail the check');
      const checkWarnings = check.split('\n').flatMap((l) => (l.startsWith('  warning: ') ? [l.slice(11)] : []));
      assert.deepEqual(checkWarnings, expected, 'pyrelo check --root (exit 0)');

      const raw = await probe(nss, glibc, dir, ['-S']);
      assert.equal(raw.exitCode, 0, raw.stderr);
      assert.deepEqual(
        JSON.parse(raw.stdout),
        warnings.length === 0 ? RESOLVED : UNRESOLVED,
        'the bundled glibc alone (no start-up hook) does what the prediction says',
      );

      const hooked = await probe(nss, glibc, dir);
      assert.equal(hooked.exitCode, 0, hooked.stderr);
      assert.deepEqual(JSON.parse(hooked.stdout), RESOLVED, 'the bundled-libc bundle as it runs');
    },
  );
}
