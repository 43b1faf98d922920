// `pyrelo build`: a relocatable bundle of a CPython prefix and an application, in steps that each
// print a progress line and leave a summary in the manifest. Everything happens in a staging folder
// next to OUTPUT that is renamed (folder) or packed (archive) only when every step succeeded.

import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { listBundleFiles, walkBundle } from '../bundle/file-list.js';
import { MANIFEST_FORMAT, isSafeRelativePath, writeManifest, type LibcPolicy, type Manifest, type SlimCategory } from '../bundle/manifest.js';
import { packBundle } from '../bundle/pack.js';
import { inspectBasePython } from './base-python.js';
import { filesHoldingBuildPaths, scrubBuildPaths, BuildPathLeftError } from './build-paths.js';
import { describeNeeds, listBundleElves } from './bundle-elves.js';
import { slimBundle } from './slim.js';
import { compileBytecode } from './compile.js';
import { isSharedSystemPrefix } from './copy-prefix.js';
import { baseStage } from './base-stage.js';
import { BuildInputError } from './errors.js';
import { GRAFT_DIR, graftLibraries } from './graft.js';
import { installHostHooks } from './host-certs.js';
import { loadGraftPolicy } from './graft-policy.js';
import { installApplication } from './install.js';
import { parseEntryPoint, rewriteShebangs, writeActivate, writeEntryPoint, type EntryPoint } from './launchers.js';
import { outputKind } from './output.js';
import { ensurePythonFromSource } from './python-source.js';
import { Progress } from './progress.js';
import { applyRunpath, findProviders, plannedRunpath, stripDebug } from './runpath.js';
import { writeRunInstaller } from './run-installer.js';
import { verifyBundle } from './verify.js';
import { bundleGlibc } from './libc-bundle.js';
import { compareVersions } from '../loader/floors.js';

export interface BuildOptions {
  readonly project: string | null;
  /** The base interpreter; null with pythonSource. */
  readonly python: string | null;
  /** A CPython source tarball compiled (once, cached) into the base prefix instead of --python. */
  readonly pythonSource?: string | null;
  readonly requirements: string | null;
  readonly wheelhouse: string | null;
  /** A package index pip may use besides the wheelhouse; null (the default): no network at all. */
  readonly indexUrl?: string | null;
  /** host: use the target's glibc; bundle: ship it; auto: ship it when the glibc floor exceeds minGlibc. */
  readonly libc: 'host' | 'bundle' | 'auto';
  readonly minGlibc: string;
  readonly entries: readonly string[];
  /** The smoke command recorded in the manifest: a program relative to the bundle root and its arguments. */
  readonly smoke?: readonly string[] | null;
  readonly slim: boolean;
  readonly clear: boolean;
  readonly prompt: string | null;
  readonly withPip: boolean;
  /** Keep only bytecode: every compiled .py is replaced by its .pyc (smaller; no source in tracebacks). */
  readonly sourceless?: boolean;
  readonly output: string;
}

export interface BuildResult {
  readonly output: string;
  readonly manifest: Manifest;
  readonly seconds: number;
}

function checkInputs(options: BuildOptions): void {
  const source = options.pythonSource ?? null;
  if (options.python !== null && source !== null) throw new BuildInputError('--python-source', 'cannot be combined with --python');
  if (options.python === null && source === null) throw new BuildInputError('--python', 'required (or --python-source TARBALL)');
  if (source !== null && !(existsSync(source) && statSync(source).isFile())) throw new BuildInputError(`--python-source ${source}`, 'no such file');
  if (options.requirements !== null && !existsSync(options.requirements)) throw new BuildInputError(`-r ${options.requirements}`, 'no such file');
  if (options.wheelhouse !== null && !(existsSync(options.wheelhouse) && statSync(options.wheelhouse).isDirectory())) {
    throw new BuildInputError(`--wheelhouse ${options.wheelhouse}`, 'no such folder');
  }
  if (options.project !== null && /^[./]/.test(options.project) && !existsSync(options.project)) throw new BuildInputError(options.project, 'no such file or folder');
  if (existsSync(options.output) && !options.clear) throw new BuildInputError(`-o ${options.output}`, 'already exists (use --clear to replace it)');
  const indexUrl = options.indexUrl ?? null;
  if (indexUrl !== null && !/^(https?|file):\/\/\S+$/.test(indexUrl)) throw new BuildInputError(`--index-url ${indexUrl}`, 'expected an http://, https:// or file:// URL');
  if (!/^\d+\.\d+$/.test(options.minGlibc)) throw new BuildInputError(`--min-glibc ${options.minGlibc}`, 'expected a glibc version such as 2.17');
  const smoke = options.smoke ?? null;
  if (smoke !== null && (smoke.length === 0 || !isSafeRelativePath(smoke[0]!))) {
    throw new BuildInputError(`--smoke ${JSON.stringify(smoke.join(' '))}`, 'expected a program relative to the bundle root (such as bin/smoke) and its arguments');
  }
  if (!existsSync(dirname(resolve(options.output)))) throw new BuildInputError(`-o ${options.output}`, `folder ${dirname(resolve(options.output))} does not exist`);
}

async function patchAll(bundle: string, libraryDirs: readonly string[], policy: ReturnType<typeof loadGraftPolicy>): Promise<number> {
  const elves = listBundleElves(bundle);
  const providers = findProviders(elves, libraryDirs);
  let changed = 0;
  for (const elf of elves) {
    if (!elf.dynamic) continue;
    if (await applyRunpath(elf, plannedRunpath(bundle, elf, providers, policy))) changed += 1;
  }
  return changed;
}

export async function build(options: BuildOptions, progress = new Progress()): Promise<BuildResult> {
  checkInputs(options);
  const entries: EntryPoint[] = options.entries.map(parseEntryPoint);
  let python = options.python;
  const extraBuildPaths: string[] = [];
  if (python === null) {
    const built = await progress.step('python-source', async () => ensurePythonFromSource(options.pythonSource!, progress));
    python = built.python;
    extraBuildPaths.push(built.sourceDir);
  }
  const base = await inspectBasePython(python);
  const policy = loadGraftPolicy();
  const output = resolve(options.output);
  const kind = outputKind(output);
  // A fixed-length random name: the staging path must not change the length of anything.
  const stage = `${output}.pyrelo-stage-${randomBytes(4).toString('hex')}`;
  const home = mkdtempSync(join(tmpdir(), 'pyrelo-build-home-'));
  const bundle = join(stage, 'bundle');
  // A Python living in /usr shares its prefix with the whole system, where /usr/bin/env and the
  // like are the target's paths too: there, only its own stdlib folder counts as a build path.
  const buildPaths = [isSharedSystemPrefix(base.prefix) ? join(base.prefix, base.stdlib) : base.prefix, stage, ...extraBuildPaths];
  const interpreter = basename(base.executable);
  const prompt = options.prompt ?? entries[0]?.name ?? (options.project !== null ? basename(resolve(options.project)).replace(/\.(whl|tar\.gz|zip)$/, '') : 'bundle');
  progress.note(`base Python ${base.version} at ${base.prefix}; output ${output} (${kind})`);
  try {
    mkdirSync(stage);
    const baseCopied = await progress.step('copy', async () => {
      const prepared = await baseStage(base, { slim: options.slim, withPip: options.withPip, sourceless: options.sourceless === true }, home, progress);
      // cp keeps links as links and modes; it is several times faster than a copy file by file from node.
      await execa('cp', ['-RP', '--preserve=mode,links', '--', prepared.dir, bundle]);
      return prepared;
    });
    const installed = await progress.step('install', () => installApplication(bundle, base, {
      project: options.project, requirements: options.requirements, wheelhouse: options.wheelhouse, indexUrl: options.indexUrl ?? null,
    }, home));
    let slimmed: SlimCategory[] = [];
    if (options.slim) slimmed = (await progress.step('slim', () => slimBundle(bundle, base, options.withPip, baseCopied.leftOut))).categories;
    await progress.step('strip', async () => {
      // The interpreter was stripped before its RUNPATH was set (copy step); never strip after patchelf.
      const elves = listBundleElves(bundle).filter((e) => e.path !== join(bundle, base.executable));
      const archives = walkBundle(bundle).files.filter((f) => f.endsWith('.a')).map((f) => join(bundle, f)); // --no-slim keeps them
      const result = await stripDebug([...elves.map((e) => e.path), ...archives]);
      const refused = result.refused.map((p) => p.slice(bundle.length + 1));
      return {
        summary: `stripped debug information and local symbols from ${result.stripped - archives.length} ELF files${archives.length > 0 ? ` and ${archives.length} static libraries` : ''}`
          + `; ${result.untouched} had none and were left as they were`
          + (refused.length > 0 ? `; kept ${refused.length} unstripped that strip would have made unloadable (${refused.join(' ')})` : ''),
      };
    });
    const libraryDirs = ['lib', GRAFT_DIR];
    // RUNPATHs first for what the bundle already holds (libpython), so the graft only sees true gaps.
    await patchAll(bundle, libraryDirs, policy);
    const grafted = await progress.step('graft', async () => {
      const result = await graftLibraries(bundle, listBundleElves(bundle), policy);
      await stripDebug(result.grafted.map((g) => join(bundle, g.path)));
      return result;
    });
    await progress.step('runpath', async () => {
      const changed = await patchAll(bundle, libraryDirs, policy);
      return { summary: `set $ORIGIN-relative RUNPATHs (DT_RUNPATH) on ${changed} ELF files; no absolute RUNPATH left` };
    });
    let libc: LibcPolicy = options.libc === 'bundle' ? 'bundle' : 'host';
    if (options.libc === 'auto') {
      const floor = verifyBundle(bundle, listBundleElves(bundle), policy).glibcFloor;
      libc = floor !== null && compareVersions(floor, options.minGlibc) > 0 ? 'bundle' : 'host';
      progress.note(`--libc auto: glibc floor ${floor ?? 'none'} ${libc === 'bundle' ? '>' : '<='} --min-glibc ${options.minGlibc}: libc ${libc}`);
    }
    if (libc === 'bundle') await progress.step('libc', () => bundleGlibc(bundle, base.executable, policy));
    await progress.step('launchers', () => {
      for (const entry of entries) writeEntryPoint(bundle, entry, interpreter);
      const rewritten = rewriteShebangs(bundle, buildPaths, interpreter);
      writeActivate(bundle, prompt);
      const how = libc === 'bundle' ? 'starts libexec/' + interpreter + ' through the bundled loader' : 'runs as itself ($ORIGIN RUNPATH)';
      return { summary: `${interpreter} ${how}; ${entries.length} entry points written; relocatable shebangs for ${rewritten.length} scripts${rewritten.length > 0 ? ` (${rewritten.join(' ')})` : ''}; bin/activate (sh, bash, zsh) and bin/activate.fish` };
    });
    await progress.step('host', () => installHostHooks(bundle, base, python, options.wheelhouse));
    await progress.step('scrub', () => scrubBuildPaths(bundle, base, buildPaths, home));
    await progress.step('compile', () => compileBytecode(bundle, base, home, { legacy: options.sourceless === true, dropSources: options.sourceless === true }));
    const verified = await progress.step('verify', () => {
      const result = verifyBundle(bundle, listBundleElves(bundle), policy);
      if (result.problems.length > 0) throw new Error(`the bundle is not self-contained:\n  ${result.problems.join('\n  ')}`);
      const left = filesHoldingBuildPaths(bundle, buildPaths);
      if (left.length > 0) throw new BuildPathLeftError(left);
      return result;
    });
    const smoke = options.smoke ?? null;
    if (smoke !== null && !existsSync(join(bundle, smoke[0]!))) {
      throw new Error(`--smoke: ${smoke[0]} is not in the bundle (entry points are bin/NAME)`);
    }
    const elves = listBundleElves(bundle);
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name: prompt,
      python: { version: base.version, executable: base.executable, packages: installed.packages },
      libc,
      glibcFloor: verified.glibcFloor,
      kernelFloor: verified.kernelFloor,
      entryPoints: Object.fromEntries(entries.map((e) => [e.name, `${e.module}:${e.func}`])),
      ...(smoke !== null ? { smoke } : {}),
      steps: [...progress.steps],
      slimmed,
      grafted: grafted.grafted.map((g) => ({ ...g, neededBy: g.neededBy.filter((n) => existsSync(join(bundle, n))) })),
      elf: elves.filter((e) => e.dynamic).map((e) => describeNeeds(bundle, e.path)),
      files: listBundleFiles(bundle),
    };
    writeManifest(bundle, manifest);
    await progress.step('pack', async () => {
      if (existsSync(output)) rmSync(output, { recursive: true, force: true }); // --clear was given (checked above)
      if (kind === 'directory') renameSync(bundle, output);
      else if (kind === 'archive') await packBundle(bundle, output);
      else await writeRunInstaller(bundle, output, manifest);
      const size = kind === 'directory' ? 0 : statSync(output).size;
      return { summary: kind === 'directory' ? `bundle folder ${output}` : `${output} (${(size / 1e6).toFixed(1)} MB)` };
    });
    return { output, manifest, seconds: progress.elapsedSeconds() };
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}
