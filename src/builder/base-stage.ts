// Step "copy": the base stage, the part of a bundle that does not depend on the application. It is
// the base prefix without what slim leaves out, its interpreter stripped and pointed at the
// bundle's libpython, pip's install scheme made the bundle's, _sysconfigdata rewritten, its ELF
// files stripped, pip installed (unless --without-pip) and every module compiled. A build copies
// it and goes on with the application.
//
// It is prepared once and kept in <cache>/stage/<key>-<random>/, with <key>.json as its stamp
// (written last, naming the folder). The key hashes the base's files (path, mode, size, time and
// inode of each), the options that change the stage, pyrelo's own builder code and the strip and
// patchelf it runs. Every build goes through a stage, cached or not, and the later steps treat
// what they find the same way (compile only recompiles bytecode whose source changed), so a build
// from the cache gives the same bytes as one without. A stage whose files no longer match the
// sizes in its stamp is prepared again.
//
// Why: the stage is most of a build's work (copying 54 MB, compiling 1,100 modules of the stdlib
// and pip, stripping 60 extension modules); the application's packages are the rest.

import { createHash, randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { walkBundle } from '../bundle/file-list.js';
import type { SlimCategory } from '../bundle/manifest.js';
import type { BasePython } from './base-python.js';
import { filesHoldingBuildPaths, rewriteSysconfigData } from './build-paths.js';
import { listBundleElves } from './bundle-elves.js';
import { builderCacheRoot } from './cache-root.js';
import { compileBytecode } from './compile.js';
import { copyPrefix, isSharedSystemPrefix } from './copy-prefix.js';
import { dataFile } from '../common/package-files.js';
import { installPip } from './install.js';
import { rewriteShebangs } from './launchers.js';
import type { Progress } from './progress.js';
import { stripDebug } from './runpath.js';
import { adoptBundleScheme } from './site-layout.js';
import { copyTimeRemovals, measureRemovals } from './slim.js';

/** Bump when the stage's layout changes in a way the code hash would not show. */
const STAGE_RECIPE = 1;
/** Stages kept; older ones (by last use) are removed when a new one is stored. */
const KEPT_STAGES = 6;

export interface StageOptions {
  readonly slim: boolean;
  readonly withPip: boolean;
  /** Bytecode beside the sources (the legacy location), as --sourceless keeps it. */
  readonly sourceless: boolean;
}

export interface BaseStage {
  /** The prepared prefix, to be copied, never changed. */
  readonly dir: string;
  /** What the stage holds, for the copy step's summary (the same whether it was cached or not). */
  readonly summary: string;
  /** Sizes of what slim left out while copying, for slim's report. */
  readonly leftOut: SlimCategory[];
}

interface Stamp {
  readonly recipe: number;
  readonly key: string;
  /** The folder beside the stamp that holds this stage: KEY-RANDOM. */
  readonly folder: string;
  readonly summary: string;
  readonly leftOut: SlimCategory[];
  /** Every regular file of the stage with its size: a quick check that the stage is whole. */
  readonly files: Array<[string, number]>;
}

/**
 * Hashes path, mode, size, time and inode of `path` and, for a folder, of everything under it. A
 * folder counts by its name, mode and entries only: its time changes whenever Python creates a
 * __pycache__ in it or pip adds a package beside it, which changes nothing the stage takes.
 */
function hashTree(hash: ReturnType<typeof createHash>, path: string, skip: (name: string) => boolean): void {
  const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  if (stat?.isDirectory() === true) {
    hash.update(`${path}\0${stat.mode}\n`);
    for (const name of readdirSync(path).sort()) if (!skip(name)) hashTree(hash, join(path, name), skip);
  } else {
    hash.update(`${path}\0${stat?.mode ?? ''}\0${stat?.size ?? ''}\0${stat?.mtimeNs ?? ''}\0${stat?.ino ?? ''}\n`);
  }
}

/**
 * The base's files the stage is made of, as copyPrefix takes them: a prefix Python shares with
 * the system (/usr) only for its stdlib, libpython and interpreter; packages and scripts
 * installed into the base are never copied, so their churn does not count.
 */
function hashBaseFiles(hash: ReturnType<typeof createHash>, base: BasePython): void {
  const skip = (name: string): boolean =>
    name === '__pycache__' || name === 'site-packages' || name === 'dist-packages';
  const roots = isSharedSystemPrefix(base.prefix)
    ? [base.stdlib, ...(base.sharedLibraryPath === null ? [] : [base.sharedLibraryPath])]
    : readdirSync(base.prefix).filter((name) => name !== 'bin');
  for (const root of roots.sort()) hashTree(hash, join(base.prefix, root), skip);
  hashTree(hash, join(base.prefix, base.executable), skip);
}

/** What the stage depends on besides the base's files: pyrelo's builder code, its data files and its tools. */
async function toolsAndCode(hash: ReturnType<typeof createHash>): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [
    here,
    join(here, '..', 'elf'),
    join(here, '..', 'bundle'),
    dirname(dataFile('graft-policy.json')),
  ]) {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.js') || n.endsWith('.json'))
      .sort())
      hash.update(name).update(readFileSync(join(dir, name)));
  }
  for (const tool of ['strip', 'patchelf']) {
    const path = (await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).stdout.trim();
    const stat = path === '' ? undefined : statSync(path, { throwIfNoEntry: false });
    hash.update(`${tool}\0${path}\0${stat?.size ?? ''}\0${stat?.mtimeMs ?? ''}\n`);
  }
}

export async function stageKey(base: BasePython, options: StageOptions): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      recipe: STAGE_RECIPE,
      base: [base.prefix, base.executable, base.version, base.stdlib, base.purelib, base.scheme ?? null],
      options,
    }),
  );
  hashBaseFiles(hash, base);
  await toolsAndCode(hash);
  return hash.digest('hex').slice(0, 24);
}

/** Regular files under `dir` with their sizes. */
function filesOf(dir: string): Array<[string, number]> {
  return walkBundle(dir).files.flatMap((rel): Array<[string, number]> => {
    const stat = lstatSync(join(dir, rel));
    return stat.isFile() ? [[rel, stat.size]] : [];
  });
}

function readStamp(stages: string, key: string): Stamp | null {
  try {
    const stamp = JSON.parse(readFileSync(join(stages, `${key}.json`), 'utf8')) as Stamp;
    if (stamp.recipe !== STAGE_RECIPE || stamp.key !== key || !isStageFolder(stamp.folder, key)) return null;
    const dir = join(stages, stamp.folder);
    for (const [rel, size] of stamp.files)
      if (statSync(join(dir, rel), { throwIfNoEntry: false })?.size !== size) return null;
    return stamp;
  } catch {
    return null;
  }
}

function isStageFolder(name: string, key?: string): boolean {
  return /^[0-9a-f]{24}-[0-9a-f]{8}$/.test(name) && (key === undefined || name.startsWith(`${key}-`));
}

/**
 * Keeps the KEPT_STAGES most recently used stamps and the folders they name; removes the rest
 * once unused for an hour (a folder nobody names is a stage being prepared, or one that lost).
 */
function prune(stages: string): void {
  const hourAgo = Date.now() - 3600_000;
  const stamps = readdirSync(stages)
    .filter((n) => /^[0-9a-f]{24}\.json$/.test(n))
    .map((n) => ({ path: join(stages, n), used: statSync(join(stages, n)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const old of stamps.slice(KEPT_STAGES)) if (old.used < hourAgo) rmSync(old.path, { force: true });
  const named = new Set(
    readdirSync(stages)
      .filter((n) => n.endsWith('.json'))
      .map((n) => {
        try {
          return (JSON.parse(readFileSync(join(stages, n), 'utf8')) as Stamp).folder;
        } catch {
          return '';
        }
      }),
  );
  for (const name of readdirSync(stages)) {
    if (isStageFolder(name) && !named.has(name) && statSync(join(stages, name)).mtimeMs < hourAgo)
      rmSync(join(stages, name), { recursive: true, force: true });
  }
}

async function prepare(
  base: BasePython,
  options: StageOptions,
  dir: string,
  home: string,
): Promise<{ summary: string; leftOut: SlimCategory[] }> {
  // What slim would delete anyway and the install does not need is never copied.
  const leaveOut = options.slim ? copyTimeRemovals(base.prefix, base) : [];
  const leftOut = measureRemovals(base.prefix, leaveOut);
  const copied = copyPrefix(
    base,
    dir,
    leaveOut.map((r) => r.path),
  );
  const parts = [copied.summary];
  // The bundled interpreter must load the bundle's libpython from the start (pip runs on it).
  // Strip it first: strip after patchelf can cut the string table patchelf moved out of the
  // segments strip knows (observed on Debian's non-PIE python3.11: a broken interpreter).
  const interpreter = join(dir, base.executable);
  await stripDebug([interpreter]);
  await execa('patchelf', ['--set-rpath', '$ORIGIN/../lib', interpreter]);
  // Before pip runs: pip at build time and site at run time must agree on site-packages and bin/.
  const layout = await adoptBundleScheme(dir, base, home);
  if (layout.adapted !== null) parts.push(layout.adapted);
  const sysconfigData = await rewriteSysconfigData(dir, base, home);
  if (sysconfigData.length > 0)
    parts.push(`rewrote ${sysconfigData.join(' ')} (the build host's prefix computed from the installation)`);
  // The stage's other ELF files (libpython, lib-dynload) lose their debug symbols before any
  // patchelf, as the strip step does for the application's.
  const stripped = await stripDebug(
    listBundleElves(dir)
      .map((e) => e.path)
      .filter((p) => p !== interpreter),
  );
  if (stripped.refused.length > 0)
    parts.push(`kept ${stripped.refused.length} unstripped that strip would have made unloadable`);
  // The stdlib first: pip (and compiling pip) then import compiled modules, about twice as fast.
  await compileBytecode(dir, base, home, { legacy: options.sourceless, dropSources: false });
  if (options.withPip) {
    await installPip(dir, base, home);
    const scripts = rewriteShebangs(dir, [dir], base.executable.replace(/^bin\//, ''));
    parts.push(`pip from ensurepip's wheel${scripts.length > 0 ? ` (relocatable ${scripts.join(' ')})` : ''}`);
    await compileBytecode(dir, base, home, { legacy: options.sourceless, dropSources: false });
  }
  const left = filesHoldingBuildPaths(dir, [dir]);
  if (left.length > 0)
    throw new Error(`the base stage in ${dir} names its own folder in ${left.join(' ')}: it would not be relocatable`);
  return { summary: parts.join('; '), leftOut };
}

/**
 * The base stage for `base` and `options`: from the cache when there, else prepared and stored.
 * Each preparation gets a folder of its own and the stamp, renamed into place, names the folder:
 * two builds preparing the same stage at once both succeed, the last stamp wins, and no folder a
 * build may still be copying from is removed (see prune).
 */
export async function baseStage(
  base: BasePython,
  options: StageOptions,
  home: string,
  progress: Progress,
  root = builderCacheRoot(),
): Promise<BaseStage> {
  const stages = join(root, 'stage');
  const key = await stageKey(base, options);
  const stampPath = join(stages, `${key}.json`);
  const found = readStamp(stages, key);
  if (found !== null) {
    const now = new Date();
    utimesSync(stampPath, now, now);
    progress.note(`base stage ${key} from the cache (${join(stages, found.folder)})`);
    return { dir: join(stages, found.folder), summary: found.summary, leftOut: found.leftOut };
  }
  mkdirSync(stages, { recursive: true });
  // A fixed-length name, as the build's own staging folder.
  const folder = `${key}-${randomBytes(4).toString('hex')}`;
  const dir = join(stages, folder);
  progress.note(
    `preparing base stage ${key} (copy, strip, ${options.withPip ? 'pip, ' : ''}compile; once per base and ` +
      `options) in ${dir}`,
  );
  try {
    const { summary, leftOut } = await prepare(base, options, dir, home);
    const stamp: Stamp = { recipe: STAGE_RECIPE, key, folder, summary, leftOut, files: filesOf(dir) };
    writeFileSync(`${stampPath}.tmp-${folder}`, `${JSON.stringify(stamp)}\n`);
    renameSync(`${stampPath}.tmp-${folder}`, stampPath);
    prune(stages);
    return { dir, summary, leftOut };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
