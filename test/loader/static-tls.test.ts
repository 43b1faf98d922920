// The static TLS rule (docs/loader-model.md, "Static TLS") against the real loader: shared objects
// whose TLS block is reached with the initial-exec model (DF_STATIC_TLS) are dlopened into perl
// (its DynaLoader; perl-base is Essential, so every Debian root has it) in the lab roots, and
// pyrelo's verdict for the same file dlopened into the same perl must equal each real one, words
// included, both on the root itself and on a stored inventory of it. The expectation is always the
// real dlopen's, never a constant.
//
// The sizes stay at least 64 bytes away from the surplus (1664 bytes): what is really left also
// depends on the start-up objects' TLS and on rounding to 64 bytes (between 1664 and 1727 bytes in
// bullseye, bookworm and trixie), and a test on the boundary would test perl's TLS, not the rule.

import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ElfFile } from '../../src/elf/elf-file.js';
import { DF_STATIC_TLS } from '../../src/elf/constants.js';
import { checkFile } from '../../src/loader/check.js';
import { loadObject, storeObject } from '../../src/inventory/codec.js';
import { describeElf } from '../../src/loader/loadable.js';
import type { HostView } from '../../src/loader/host-view.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { InventoryHostView } from '../../src/inventory/inventory-host.js';
import { validateInventory } from '../../src/inventory/read.js';
import { parseStaticTlsData, staticTlsParameters } from '../../src/loader/static-tls-data.js';
import { DEBIAN_ROOT_NAMES, ensureRoot, skipUnlessLab } from '../lab/lab.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { rootWithFixtures } from '../support/root-with-fixtures.js';
import { hostRunner, type CommandRunner } from '../support/real-loader.js';

const LAB_TIMEOUT = 40 * 60_000;
const PERL = '/usr/bin/perl';

interface TlsFixture {
  readonly name: string;
  readonly path: string;
  /** Built with -ftls-model=initial-exec: the linker sets DF_STATIC_TLS. */
  readonly initialExec: boolean;
  readonly bytes: number;
}

let dir = '';
let fixtures: TlsFixture[] = [];
let cannotBuild: string | undefined;

/** A TLS array of `bytes` bytes, reached from code, so the object has a PT_TLS and TLS relocations. */
const tlsSource = (name: string, bytes: number): string =>
  `static __thread char ${name}_block[${bytes}];\nint ${name}_touch(int i) { ${name}_block[i] = 1; return ` +
  `${name}_block[0]; }\n`;

async function build(
  name: string,
  bytes: number,
  initialExec: boolean,
  more: { needed?: string[]; soname?: string } = {},
): Promise<TlsFixture> {
  // No C library: the files need no GLIBC_x.y version and load under bullseye's 2.31 as well.
  const path = await compileSharedLibrary({
    dir,
    file: `lib/${more.soname ?? `${name}.so`}`,
    source: tlsSource(name, bytes),
    cflags: ['-nostdlib', `-ftls-model=${initialExec ? 'initial-exec' : 'global-dynamic'}`],
    ...(more.soname === undefined ? {} : { soname: more.soname }),
    ...(more.needed === undefined ? {} : { needed: more.needed, runpath: '$ORIGIN' }),
  });
  return { name, path, initialExec, bytes };
}

before(async () => {
  if (process.arch !== 'x64') {
    cannotBuild = 'the static TLS layout is modelled for x86_64 only';
    return;
  }
  if (spawnSync('gcc', ['--version']).status !== 0) {
    cannotBuild = 'needs gcc';
    return;
  }
  dir = await makeTempDir('pyrelo-static-tls-');
  const dependency = await build('pair_dep', 1024, true, { soname: 'libpairdep.so' });
  const smallDependency = await build('small_dep', 512, true, { soname: 'libsmalldep.so' });
  fixtures = [
    // Well below the surplus, just below it, just above what any root leaves, and far above.
    await build('ie_256', 256, true),
    await build('ie_1536', 1536, true),
    await build('ie_1800', 1800, true),
    await build('ie_4096', 4096, true),
    await build('ie_16384', 16384, true),
    // The same large block reached through __tls_get_addr: dynamic TLS, no limit.
    await build('gd_16384', 16384, false),
    // Two fresh objects of one dlopen: each fits alone, together they do not; the dependency is
    // relocated first, so the object that needs it is the one refused.
    dependency,
    await build('pair_top', 1024, true, { needed: [dependency.path] }),
    // Two that fit together.
    await build('small_top', 512, true, { needed: [smallDependency.path] }),
  ];
});

after(async () => {
  if (dir !== '') await removeDir(dir);
});

function skipUnlessBuilt(t: TestContext): boolean {
  if (cannotBuild !== undefined) t.skip(cannotBuild);
  return cannotBuild !== undefined;
}

interface Verdict {
  readonly loads: boolean;
  /** dlerror()'s words; '' when it loaded. */
  readonly message: string;
}

/** DynaLoader::dl_load_file is dlopen; it prints "loaded" or dlerror()'s text (perl's " at -e line 1." cut). */
const DLOPEN_PERL =
  'my $h = DynaLoader::dl_load_file($ARGV[0], 0); if ($h) { print "loaded" } ' +
  'else { my $e = DynaLoader::dl_error(); $e =~ s/ at -e line \\d+\\..*\\z//s; print $e }';

/** Each fixture dlopened into a fresh perl process through `runner`. */
async function realVerdicts(runner: CommandRunner, perl: string): Promise<Verdict[]> {
  const script = fixtures.map((f) => `${perl} -MDynaLoader -e '${DLOPEN_PERL}' '${f.path}'; echo`).join('\n');
  const r = await runner(['/bin/sh', '-c', script], { LC_ALL: 'C' });
  if (r.exitCode !== 0) throw new Error(`the dlopen runs failed (exit ${r.exitCode}): ${r.stderr}`);
  const lines = r.stdout.replaceAll('\0', '').split('\n').slice(0, fixtures.length);
  if (lines.length !== fixtures.length)
    throw new Error(`expected ${fixtures.length} results, got:\n${r.stdout}${r.stderr}`);
  return lines.map((line) =>
    line.trim() === 'loaded' ? { loads: true, message: '' } : { loads: false, message: line.trim() },
  );
}

/** pyrelo's verdict in the same terms: the file checked as dlopened into perl. */
function predicted(view: HostView, fixture: TlsFixture, perl: string): Verdict {
  const report = checkFile(view, fixture.path, { dlopenInto: perl, cwd: '/' });
  const errors = report.problems.filter((p) => p.severity === 'error');
  return { loads: report.loads, message: errors[0]?.message ?? '' };
}

async function compareAll(t: TestContext, view: HostView, runner: CommandRunner, perl = PERL): Promise<void> {
  const real = await realVerdicts(runner, perl);
  const lines: string[] = [];
  fixtures.forEach((fixture, i) => {
    lines.push(`${fixture.name}: ${real[i]!.loads ? 'loads' : real[i]!.message.replace(`${dir}/lib/`, '')}`);
    assert.deepEqual(
      predicted(view, fixture, perl),
      real[i],
      `${fixture.name} (${fixture.bytes} bytes, ${fixture.initialExec ? 'initial-exec' : 'global-dynamic'})`,
    );
  });
  t.diagnostic(`${view.label}: ${lines.join('; ')}`);
  // The real runs must show both outcomes, and the refusals must be this rule's, or the
  // comparison proved nothing about it.
  const refused = real.filter((r) => !r.loads);
  assert.ok(real.some((r) => r.loads) && refused.length > 0, 'need both outcomes');
  assert.ok(
    refused.every((r) => r.message.endsWith(': cannot allocate memory in static TLS block')),
    JSON.stringify(refused),
  );
}

test(
  'the fixtures carry DF_STATIC_TLS and PT_TLS as ' + 'readelf shows them, and the reader and an inventory keep both',
  async (t) => {
    if (skipUnlessBuilt(t)) return;
    for (const fixture of fixtures) {
      const dynamic = (await execa('readelf', ['-d', '-W', fixture.path], { env: { LC_ALL: 'C' } })).stdout;
      assert.equal(
        /\(FLAGS\)\s+.*STATIC_TLS/.test(dynamic),
        fixture.initialExec,
        `${fixture.name}: readelf -d\n${dynamic}`,
      );
      const segments = (await execa('readelf', ['-l', '-W', fixture.path], { env: { LC_ALL: 'C' } })).stdout;
      const tlsLine =
        /^\s*TLS\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+\S+\s+(0x[0-9a-f]+)$/m.exec(
          segments,
        );
      assert.ok(tlsLine, `${fixture.name}: no TLS segment in readelf -l`);
      const elf = ElfFile.open(fixture.path);
      try {
        const object = describeElf(elf);
        assert.equal((object.flags & DF_STATIC_TLS) !== 0, fixture.initialExec, fixture.name);
        assert.deepEqual(
          object.tls,
          { vaddr: Number(tlsLine[2]), memsz: Number(tlsLine[3]), align: Number(tlsLine[4]) },
          fixture.name,
        );
        assert.ok(object.tls.memsz >= fixture.bytes, fixture.name);
        const stored = loadObject(JSON.parse(JSON.stringify(storeObject(object))));
        assert.deepEqual(stored.tls, object.tls, `${fixture.name}: through an inventory`);
        assert.equal(stored.flags, object.flags);
      } finally {
        elf.close();
      }
    }
  },
);

test('this machine: pyrelo refuses exactly the dlopens its ld.so refuses', async (t) => {
  if (skipUnlessBuilt(t)) return;
  if (spawnSync(PERL, ['-e', '1']).status !== 0) return t.skip('needs perl (its DynaLoader dlopens the libraries)');
  await compareAll(t, new RootHostView('/', loaderConfigForRoot('/')), hostRunner);
});

for (const name of DEBIAN_ROOT_NAMES) {
  test(
    `${name}: pyrelo check --root, and on an inventory of the root, refuses exactly the dlopens the root's ` +
      'ld.so refuses',
    { timeout: LAB_TIMEOUT },
    async (t) => {
      if (skipUnlessBuilt(t)) return;
      if (skipUnlessLab(t, ['debootstrap'])) return;
      const root = await ensureRoot(name);
      const { view, runner } = rootWithFixtures(root, dir);
      await compareAll(t, view, runner);
      // A stored host: the root's inventory (written and read back, as the service keeps it), with the
      // fixtures and a copy of the root's perl laid over it as a bundle would be; the start-up TLS
      // layout then comes from the inventory's objects.
      const inventory = validateInventory(JSON.parse(JSON.stringify(collectInventory(root))), `inventory of ${name}`);
      assert.ok(
        inventory.objects.some((o) => o.tls !== undefined),
        `${name}: the inventory stores no PT_TLS (libc.so.6 has one)`,
      );
      const perl = join(dir, 'bin', `perl-${name}`);
      mkdirSync(join(dir, 'bin'), { recursive: true });
      copyFileSync(join(root, PERL), perl);
      const stored = new OverlayHostView(
        new InventoryHostView(inventory, `inventory of ${name}`),
        new RootHostView('/', loaderConfigForRoot(root)),
        [dir],
      );
      await compareAll(t, stored, runner, perl);
    },
  );
}

test(
  'data/static-tls.json: a malformed entry is refused ' + 'with the file and the field; releases pick their entry',
  () => {
    const good = {
      surplus: [
        { glibc: '2.3', bytes: 1664, source: 'a' },
        { glibc: '2.32', bytes: 1000, source: 'b' },
      ],
      extraTls: [{ glibc: '2.41', bytes: 32, align: 32, source: 'c' }],
      tcbAlignment: { x86_64: { bytes: 64, source: 'd' } },
    };
    const data = parseStaticTlsData(JSON.stringify(good), 'st.json');
    assert.deepEqual(staticTlsParameters('x86_64', [2, 31], data), { surplus: 1664, extra: null, tcbAlignment: 64 });
    assert.deepEqual(staticTlsParameters('x86_64', [2, 41], data), {
      surplus: 1000,
      extra: { bytes: 32, align: 32 },
      tcbAlignment: 64,
    });
    assert.equal(
      staticTlsParameters('aarch64', [2, 41], data),
      null,
      'a machine the data does not list is not modelled',
    );
    assert.equal(staticTlsParameters('x86_64', [2, 2], data), null, 'nor a glibc older than every entry');
    const cases: [unknown, string][] = [
      [{ ...good, surplus: [{ glibc: 'new', bytes: 1664, source: 'a' }] }, 'surplus[0].glibc'],
      [{ ...good, surplus: [{ glibc: '2.3', bytes: -1, source: 'a' }] }, 'surplus[0].bytes'],
      [{ ...good, surplus: [{ glibc: '2.3', bytes: 1664 }] }, 'surplus[0].source'],
      [{ ...good, extraTls: [{ glibc: '2.41', bytes: 32, align: 24, source: 'c' }] }, 'extraTls[0].align'],
      [{ ...good, tcbAlignment: { x86_64: { bytes: 0, source: 'd' } } }, 'tcbAlignment.x86_64.bytes'],
    ];
    for (const [value, field] of cases) {
      assert.throws(
        () => parseStaticTlsData(JSON.stringify(value), 'st.json'),
        (error: unknown) => error instanceof Error && error.message.startsWith(`st.json: ${field}: `),
        field,
      );
    }
    // The shipped file itself is valid and covers the releases of the lab roots and of RHEL 7/8.
    for (const release of [
      [2, 17],
      [2, 28],
      [2, 31],
      [2, 36],
      [2, 41],
    ] as const) {
      assert.ok(staticTlsParameters('x86_64', release) !== null, release.join('.'));
    }
  },
);
