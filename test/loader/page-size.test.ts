// The kernel's page size and ld.so's PT_LOAD checks (docs/loader.md section 7, "Page size").
//
// Ground truth: qemu-aarch64 gives its programs the page size of QEMU_PAGESIZE as AT_PAGESZ
// (`getconf PAGESIZE` in the root says 65536), and each arm64 root's own ld.so checks the load
// commands of what it maps against that, as on an aarch64 kernel with 64 KiB pages. Only ld.so's
// rule is shown so: the kernel underneath still has 4 KiB pages, so what a 64 KiB kernel does to a
// program it maps itself is not (load-commands.ts models it, untested against a real one).
//
// The fixtures are two aarch64 libraries assembled and linked here (binutils-aarch64-linux-gnu)
// from one source: for 4 KiB pages (-z max-page-size=4096: p_align 0x1000, the data segment at
// an offset and address that differ by 4 KiB) and for 64 KiB pages. Each is dlopened by the
// root's perl at both page sizes, and `pyrelo check` from an inventory recording that page size
// must say what dlerror says, or that it loads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { InventoryHostView } from '../../src/inventory/inventory-host.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { InventoryFormatError, validateInventory } from '../../src/inventory/read.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { pageSizeFromAuxv, runningPageSize } from '../../src/inventory/page-size.js';
import { ARM64_ROOT_NAMES, ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { main } from '../../src/client/cli.js';
import { captureStdout } from '../support/capture-stdout.js';

const SOURCE = `
	.text
	.globl pyrelo_page_probe
	.type pyrelo_page_probe, %function
pyrelo_page_probe:
	adrp x0, counter
	ldr w0, [x0, :lo12:counter]
	ret
	.data
counter:
	.word 7
`;

function installed(tool: string): boolean {
  return ['/usr/bin', '/bin'].some((dir) => existsSync(join(dir, tool)));
}

/** The two fixture libraries in `dir`, or why they cannot be made here. */
async function linkFixtures(dir: string): Promise<string | null> {
  if (!installed('aarch64-linux-gnu-as') || !installed('aarch64-linux-gnu-ld'))
    return 'binutils-aarch64-linux-gnu is not installed (scripts/install-system-deps.sh)';
  writeFileSync(join(dir, 'probe.s'), SOURCE);
  await execa('aarch64-linux-gnu-as', ['-o', join(dir, 'probe.o'), join(dir, 'probe.s')]);
  for (const [name, page] of [
    ['libprobe4k.so', '4096'],
    ['libprobe64k.so', '65536'],
  ] as const) {
    await execa('aarch64-linux-gnu-ld', [
      '-shared',
      '-soname',
      name,
      '-z',
      `max-page-size=${page}`,
      '-z',
      `common-page-size=${page}`,
      '-o',
      join(dir, name),
      join(dir, 'probe.o'),
    ]);
  }
  return null;
}

/** dlerror() after the root's perl dlopens `path` with QEMU_PAGESIZE=pageSize, or "loaded". */
async function dlopenUnderPageSize(root: string, path: string, pageSize: number): Promise<string> {
  const script =
    'require DynaLoader; my $h = DynaLoader::dl_load_file($ARGV[0], 0); ' +
    'print defined $h ? "loaded\\n" : DynaLoader::dl_error() . "\\n"';
  const r = await runInRoot(root, ['/usr/bin/perl', '-e', script, path], {
    env: { QEMU_PAGESIZE: String(pageSize) },
    bind: [{ hostPath: join(path, '..'), rootPath: join(path, '..'), readOnly: true }],
  });
  assert.equal(r.exitCode, 0, r.stderr);
  // dl_error() adds where perl was, a newline and a NUL.
  return r.stdout.replace(/ at -e line \d+\.[\s\S]*$/, '').trim();
}

test('the page size comes from AT_PAGESZ in /proc/self/auxv', () => {
  const auxv = Buffer.alloc(64);
  auxv.writeBigUInt64LE(3n, 0); // AT_PHDR
  auxv.writeBigUInt64LE(0x400040n, 8);
  auxv.writeBigUInt64LE(6n, 16); // AT_PAGESZ
  auxv.writeBigUInt64LE(65536n, 24);
  // AT_NULL ends the vector: nothing after it is read.
  assert.equal(pageSizeFromAuxv(auxv), 65536);
  assert.equal(pageSizeFromAuxv(auxv.subarray(0, 16)), null);
  auxv.writeBigUInt64LE(12345n, 24);
  assert.equal(pageSizeFromAuxv(auxv), null, 'not a power of two: not believed');
});

test("this machine's page size, as the inventory records it, is what getconf PAGESIZE says", async () => {
  const getconf = await execa('getconf', ['PAGESIZE']);
  assert.equal(runningPageSize(), Number(getconf.stdout.trim()));
});

test('check --page-size takes only a page size, and not with a stored or reference host', async () => {
  for (const [args, words] of [
    [['--page-size', '5000', '/bin/true'], /--page-size 5000: not a page size/],
    [['--page-size', '65536', '--platform', 'debian:12', '/bin/true'], /cannot be used with option '--platform/],
  ] as const) {
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      assert.equal(await main(['check', ...args]), 2);
    } finally {
      process.stderr.write = write;
      process.exitCode = undefined;
    }
    assert.match(stderr.join(''), words);
  }
});

test('an inventory with a page size that is no page size is refused, naming the field', () => {
  const inventory = JSON.parse(JSON.stringify(collectInventory('/'))) as { loader: Record<string, unknown> };
  inventory.loader.pageSize = 5000;
  assert.throws(
    () => validateInventory(inventory, 'inv.json'),
    (error: unknown) => error instanceof InventoryFormatError && /loader\.pageSize/.test(error.message),
  );
});

for (const name of ARM64_ROOT_NAMES) {
  test(`${name}: 4 and 64 KiB pages (QEMU_PAGESIZE), the root's ld.so and pyrelo's check agree`, async (t) => {
    if (skipUnlessLab(t, ['debootstrap', 'arm64'])) return;
    const work = mkdtempSync(join(tmpdir(), 'pyrelo-page-size-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const why = await linkFixtures(work);
    if (why !== null) {
      t.skip(why);
      return;
    }
    const root = await ensureRoot(name);
    const seen = await runInRoot(root, ['/usr/bin/getconf', 'PAGESIZE'], { env: { QEMU_PAGESIZE: '65536' } });
    assert.equal(seen.stdout.trim(), '65536', 'qemu gives its programs the page size asked for');
    const rows: string[] = [];
    for (const pageSize of [4096, 65536]) {
      // The inventory route, as the server predicts: the page size stored, validated, read back.
      const stored = validateInventory(JSON.parse(JSON.stringify(collectInventory(root, { pageSize }))), name);
      assert.equal(stored.loader.pageSize, pageSize);
      const config = loaderConfigForRoot(root, { pageSize });
      const base = new InventoryHostView(stored, name);
      const view = new OverlayHostView(base, new RootHostView('/', config), [work]);
      for (const library of ['libprobe4k.so', 'libprobe64k.so']) {
        const path = join(work, library);
        const real = await dlopenUnderPageSize(root, path, pageSize);
        const report = checkFile(view, path);
        const ours = report.loads ? 'loaded' : report.problems.map((p) => p.message).join('; ');
        rows.push(`${pageSize} ${library}: ld.so: ${real} | pyrelo: ${ours}`);
        assert.equal(ours, real, `${name}, ${pageSize}-byte pages, ${library}`);
        // The command line's route: `pyrelo check --root ROOT --page-size N`, the root itself read.
        const cli = await captureStdout(() =>
          main(['check', '--root', root, '--page-size', String(pageSize), '--json', '--no-cache', path]),
        );
        const [file] = (JSON.parse(cli.stdout) as { files: { loads: boolean; problems: { message: string }[] }[] })
          .files;
        const viaCli = file!.loads ? 'loaded' : file!.problems.map((p) => p.message).join('; ');
        assert.equal(viaCli, real, `pyrelo check --root ${name} --page-size ${pageSize} ${library}`);
        assert.equal(cli.code, file!.loads ? 0 : 1);
      }
    }
    t.diagnostic(rows.join('\n'));
    // The rule bites: the 4 KiB library does not load with 64 KiB pages.
    assert.ok(rows.some((r) => r.startsWith('65536 libprobe4k.so: ld.so: /') && / not page-aligned$/.test(r)));
  });
}
