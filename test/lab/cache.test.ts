// The cache: keyed by recipe, reused when whole, rebuilt when damaged or half-built.
// Uses the busybox root in a scratch cache: it builds in milliseconds, offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRoot, ensureRoot, labLayout, skipUnlessLab } from './lab.js';
import { recipeFor, rootKey, type DebianRecipe } from './recipes.js';

let scratchCache = '';
const savedCache = process.env.PYRELO_LAB_CACHE;

before(async () => {
  scratchCache = await mkdtemp(join(tmpdir(), 'pyrelo-lab-cache-'));
  process.env.PYRELO_LAB_CACHE = scratchCache;
});

after(async () => {
  if (savedCache === undefined) delete process.env.PYRELO_LAB_CACHE;
  else process.env.PYRELO_LAB_CACHE = savedCache;
  await rm(scratchCache, { recursive: true, force: true });
});

/** ensureRoot with its progress lines captured, to tell a build from a cache hit. */
async function ensureLogged(name: 'busybox' | 'musl'): Promise<{ root: string; lines: string[] }> {
  const lines: string[] = [];
  const root = await ensureRoot(name, { log: (line) => lines.push(line) });
  return { root, lines };
}

test('the key changes with every input of a recipe, and only with them', async () => {
  const bookworm = (await recipeFor('bookworm')) as DebianRecipe;
  const key = rootKey(bookworm);
  assert.match(key, /^[0-9a-f]{12}$/);
  assert.equal(rootKey({ ...bookworm }), key);
  assert.notEqual(rootKey({ ...bookworm, suite: 'trixie' }), key);
  assert.notEqual(rootKey({ ...bookworm, mirror: 'http://mirror.example/debian' }), key);
  assert.notEqual(rootKey({ ...bookworm, include: ['openssh-server', 'gcc'] }), key);
  assert.notEqual(rootKey({ ...bookworm, variant: 'buildd' as 'minbase' }), key);
});

test('the cache lives where PYRELO_LAB_CACHE says, outside the checkout', () => {
  assert.equal(labLayout().cache, scratchCache);
});

test('a built root is reused without rebuilding', { timeout: 60_000 }, async (t) => {
  if (skipUnlessLab(t, ['busybox'])) return;
  const cold = await ensureLogged('busybox');
  assert.ok(
    cold.lines.some((l) => l.includes('building')),
    cold.lines.join('\n'),
  );
  const stamp = await readFile(join(cold.root, '..', 'stamp.json'), 'utf8');
  const warm = await ensureLogged('busybox');
  assert.equal(warm.root, cold.root);
  assert.deepEqual(warm.lines, []);
  assert.equal(await readFile(join(warm.root, '..', 'stamp.json'), 'utf8'), stamp);
  const info = await describeRoot('busybox');
  assert.equal(info.status.state, 'ready');
  assert.equal(info.rootfs, cold.root);
});

test('a root without its completion stamp is rebuilt', { timeout: 60_000 }, async (t) => {
  if (skipUnlessLab(t, ['busybox'])) return;
  const { root } = await ensureLogged('busybox');
  await unlink(join(root, '..', 'stamp.json'));
  await writeFile(join(root, 'leftover'), 'from the damaged root');
  assert.deepEqual((await describeRoot('busybox')).status, { state: 'damaged', reason: 'completion stamp missing' });
  const again = await ensureLogged('busybox');
  assert.ok(
    again.lines.some((l) => l.includes('rebuilding: completion stamp missing')),
    again.lines.join('\n'),
  );
  assert.equal(existsSync(join(again.root, 'leftover')), false, 'rebuilt from scratch, not patched');
});

test(
  'a root whose key file is gone is rebuilt, judged inside the root, not through the host',
  { timeout: 60_000 },
  async (t) => {
    if (skipUnlessLab(t, ['musl'])) return;
    const { root } = await ensureLogged('musl');
    // /bin/sh -> /bin/busybox is an absolute link: on the host it would find the HOST's busybox.
    await unlink(join(root, 'bin/busybox'));
    const again = await ensureLogged('musl');
    assert.ok(
      again.lines.some((l) => l.includes('rebuilding: /bin/sh is gone')),
      again.lines.join('\n'),
    );
    assert.ok(existsSync(join(again.root, 'bin/busybox')));
    await unlink(join(again.root, 'lib/x86_64-linux-musl/libc.so'));
    const third = await ensureLogged('musl');
    assert.ok(
      third.lines.some((l) => l.includes('rebuilding: /lib/ld-musl-x86_64.so.1 is gone')),
      third.lines.join('\n'),
    );
  },
);

test('an interrupted build (stale lock, half-built folder) is cleared, never used', { timeout: 60_000 }, async (t) => {
  if (skipUnlessLab(t, ['busybox'])) return;
  const info = await describeRoot('busybox');
  await rm(info.folder, { recursive: true, force: true });
  const layout = labLayout();
  const halfBuilt = join(layout.building, `busybox-${info.key}.999999999.deadbeef`);
  await mkdir(join(halfBuilt, 'rootfs'), { recursive: true });
  const staleLock = join(layout.locks, `busybox-${info.key}`);
  await mkdir(staleLock, { recursive: true });
  await writeFile(join(staleLock, 'pid'), '999999999\n'); // no such process
  const { root, lines } = await ensureLogged('busybox');
  assert.ok(
    lines.some((l) => l.includes('building')),
    lines.join('\n'),
  );
  assert.equal(existsSync(halfBuilt), false);
  assert.equal(existsSync(staleLock), false, 'lock released');
  assert.equal((await describeRoot('busybox')).status.state, 'ready');
  assert.ok(existsSync(join(root, 'bin/busybox')));
});

test('concurrent requests for one root build it once', { timeout: 60_000 }, async (t) => {
  if (skipUnlessLab(t, ['busybox'])) return;
  const info = await describeRoot('busybox');
  await rm(info.folder, { recursive: true, force: true });
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const roots = await Promise.all([
    ensureRoot('busybox', { log }),
    ensureRoot('busybox', { log }),
    ensureRoot('busybox', { log }),
  ]);
  assert.equal(new Set(roots).size, 1);
  assert.equal(lines.filter((l) => l.includes(': building')).length, 1, lines.join('\n'));
});
