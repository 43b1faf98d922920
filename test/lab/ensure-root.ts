// Making and finding cached roots. A root is usable only when its stamp (written last)
// matches its key and its key files resolve inside it; anything else is rebuilt.
// Builds happen in building/ and are renamed into roots/ whole, so an interrupted build
// never looks complete.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { buildDebianRoot } from './build-debian.js';
import { buildStaticRoot } from './build-static.js';
import { withLock } from './lock.js';
import { labLayout } from './paths.js';
import { ensureAarch64Binfmt } from './binfmt.js';
import {
  glibcLoaderOf,
  isArm64RootName,
  MUSL_LOADER,
  RECIPE_VERSION,
  recipeFor,
  rootKey,
  type AnyRootName,
  type Recipe,
} from './recipes.js';
import { resolveInRoot } from './root-path.js';
import { runInRoot } from './run-in-root.js';

export interface RootStamp {
  name: AnyRootName;
  key: string;
  recipeVersion: number;
  recipe: Recipe;
  builtAt: string;
  buildSeconds: number;
  bytes: number;
  /** e.g. "glibc 2.36", "musl 1.2.3", "none" */
  libc: string;
}

export type RootState = { state: 'ready'; stamp: RootStamp } | { state: 'missing' | 'damaged'; reason: string };

export interface RootInfo {
  name: AnyRootName;
  key: string;
  folder: string;
  rootfs: string;
  status: RootState;
}

export interface EnsureOptions {
  log?: (line: string) => void;
}

const STAMP_FILE = 'stamp.json';

export function defaultLog(line: string): void {
  process.stderr.write(`[lab] ${line}\n`);
}

/** Files without which a root is not the host it stands for. */
function keyFiles(recipe: Recipe): string[] {
  if (recipe.kind === 'debian')
    return [glibcLoaderOf(recipe), '/bin/sh', '/usr/bin/env', '/etc/ld.so.cache', '/usr/sbin/sshd'];
  const files = ['/bin/sh', '/usr/bin/env', '/bin/busybox', '/etc/passwd'];
  return recipe.kind === 'musl' ? [...files, MUSL_LOADER] : files;
}

async function readStamp(folder: string): Promise<RootStamp | undefined> {
  try {
    return JSON.parse(await readFile(join(folder, STAMP_FILE), 'utf8')) as RootStamp;
  } catch {
    return undefined;
  }
}

async function checkRoot(recipe: Recipe, key: string, folder: string): Promise<RootState> {
  const stamp = await readStamp(folder);
  if (!stamp) {
    const exists = await readdir(folder).then(
      () => true,
      () => false,
    );
    return exists
      ? { state: 'damaged', reason: 'completion stamp missing' }
      : { state: 'missing', reason: 'not built yet' };
  }
  if (stamp.key !== key) return { state: 'damaged', reason: `stamp is for key ${stamp.key}` };
  for (const file of keyFiles(recipe)) {
    if (!(await resolveInRoot(join(folder, 'rootfs'), file))) return { state: 'damaged', reason: `${file} is gone` };
  }
  return { state: 'ready', stamp };
}

export async function describeRoot(name: AnyRootName): Promise<RootInfo> {
  const recipe = await recipeFor(name);
  const key = rootKey(recipe);
  const folder = join(labLayout().roots, `${name}-${key}`);
  return { name, key, folder, rootfs: join(folder, 'rootfs'), status: await checkRoot(recipe, key, folder) };
}

export async function diskBytes(path: string): Promise<number> {
  const { stdout } = await execa('du', ['-s', '-B1', '--one-file-system', path]);
  return Number.parseInt(stdout, 10);
}

/** "ld.so (Debian GLIBC 2.36-9) stable release version 2.36." or "ldd (Debian GLIBC 2.31-13) 2.31" */
export function glibcVersionIn(versionOutput: string): string | undefined {
  const firstLine = versionOutput.split('\n')[0] ?? '';
  return /(\d+\.\d+)\.?\s*$/.exec(firstLine)?.[1];
}

/** Asks the root's own loader (run inside the root) which libc it is. */
async function probeLibc(recipe: Recipe, rootfs: string): Promise<string> {
  const opts = { mountProc: false, timeoutMs: 60_000 };
  if (recipe.kind === 'debian') {
    const loader = glibcLoaderOf(recipe);
    // ld.so learnt --version in glibc 2.33; bullseye's 2.31 is asked through ldd instead.
    for (const argv of [
      [loader, '--version'],
      ['ldd', '--version'],
    ]) {
      const result = await runInRoot(rootfs, argv, opts);
      const version = glibcVersionIn(result.stdout);
      if (result.exitCode === 0 && version) return `glibc ${version}`;
    }
    throw new Error(`neither ${loader} --version nor ldd --version named a glibc version in ${rootfs}`);
  }
  const shell = await runInRoot(rootfs, ['/bin/busybox', 'sh', '-c', 'echo ok'], opts);
  if (shell.stdout.trim() !== 'ok') throw new Error(`busybox does not run in ${rootfs}: ${shell.stderr}`);
  if (recipe.kind === 'busybox') return 'none';
  // musl's loader run with no arguments prints its version and exits 1.
  const loader = await runInRoot(rootfs, [MUSL_LOADER], opts);
  const version = /Version (\S+)/.exec(loader.stderr)?.[1];
  if (!version) throw new Error(`${MUSL_LOADER} printed no version in ${rootfs}: ${loader.stderr}`);
  return `musl ${version}`;
}

async function build(recipe: Recipe, key: string, log: (line: string) => void): Promise<RootStamp> {
  const layout = labLayout();
  const started = Date.now();
  const staging = join(layout.building, `${recipe.name}-${key}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const rootfs = join(staging, 'rootfs');
  await mkdir(staging, { recursive: true });
  try {
    if (recipe.kind === 'debian') await buildDebianRoot(recipe, rootfs, log);
    else await buildStaticRoot(recipe, rootfs, log);
    const libc = await probeLibc(recipe, rootfs);
    log(`checked: the root's loader reports ${libc === 'none' ? 'no libc' : libc}`);
    const stamp: RootStamp = {
      name: recipe.name,
      key,
      recipeVersion: RECIPE_VERSION,
      recipe,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 100) / 10,
      bytes: await diskBytes(rootfs),
      libc,
    };
    await writeFile(join(staging, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`); // last: marks it complete
    await rename(staging, join(layout.roots, `${recipe.name}-${key}`));
    return stamp;
  } finally {
    await rm(staging, { recursive: true, force: true }); // gone after the rename; a failed build's leftovers otherwise
  }
}

/** Renames first, so a half-deleted root is never found under its real name. */
async function discard(folder: string, layout = labLayout()): Promise<void> {
  await mkdir(layout.trash, { recursive: true });
  const trashed = join(layout.trash, `${Date.now()}-${randomBytes(4).toString('hex')}`);
  await rename(folder, trashed).catch(() => undefined);
  await rm(trashed, { recursive: true, force: true });
}

/** Leftovers of builds that were interrupted (the caller holds this key's lock). */
async function clearInterruptedBuilds(name: string, key: string): Promise<void> {
  const { building } = labLayout();
  const names = await readdir(building).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(`${name}-${key}.`))
      .map((n) => rm(join(building, n), { recursive: true, force: true })),
  );
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

const inFlight = new Map<string, Promise<string>>();

/** The path of the cached root's filesystem, building it first if it is missing or damaged. */
export async function ensureRoot(name: AnyRootName, opts: EnsureOptions = {}): Promise<string> {
  if (isArm64RootName(name)) {
    // Needed to build the root and to run anything in it, also after a reboot that dropped it.
    const problem = ensureAarch64Binfmt(opts.log ?? defaultLog);
    if (problem) throw new Error(problem);
  }
  const info = await describeRoot(name);
  if (info.status.state === 'ready') return info.rootfs;
  const flightKey = info.folder;
  let pending = inFlight.get(flightKey);
  if (!pending) {
    pending = ensureRootLocked(info, opts).finally(() => inFlight.delete(flightKey));
    inFlight.set(flightKey, pending);
  }
  return pending;
}

async function ensureRootLocked(info: RootInfo, opts: EnsureOptions): Promise<string> {
  const log = (line: string) => (opts.log ?? defaultLog)(`${info.name}: ${line}`);
  const layout = labLayout();
  await Promise.all([layout.roots, layout.building, layout.locks].map((d) => mkdir(d, { recursive: true })));
  const lockDir = join(layout.locks, `${info.name}-${info.key}`);
  return withLock(
    lockDir,
    () => log('waiting for another process building this root'),
    async () => {
      const recipe = await recipeFor(info.name);
      const status = await checkRoot(recipe, info.key, info.folder); // another process may have built it meanwhile
      if (status.state === 'ready') return info.rootfs;
      await clearInterruptedBuilds(info.name, info.key);
      if (status.state === 'damaged') {
        log(`rebuilding: ${status.reason}`);
        await discard(info.folder);
      }
      log(`building (key ${info.key}) in ${layout.building}`);
      const stamp = await build(recipe, info.key, log);
      log(`ready in ${stamp.buildSeconds} s, ${formatBytes(stamp.bytes)}, at ${info.rootfs}`);
      return info.rootfs;
    },
  );
}

/** Removes cached roots: those of the given names (every key), or the whole cache. */
export async function cleanCache(names?: AnyRootName[]): Promise<string[]> {
  const layout = labLayout();
  if (!names) {
    await rm(layout.cache, { recursive: true, force: true });
    return [layout.cache];
  }
  const folders = await readdir(layout.roots).catch(() => [] as string[]);
  // <name>-<12 hex digits>: "bookworm" must not take "bookworm-arm64-…" with it.
  const doomed = folders.filter((f) => names.some((n) => new RegExp(`^${n}-[0-9a-f]{12}$`).test(f)));
  for (const folder of doomed) await discard(join(layout.roots, folder), layout);
  return doomed.map((f) => join(layout.roots, f));
}

export { formatBytes };
