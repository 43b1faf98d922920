// `pyrelo build`: a relocatable bundle of a CPython prefix and an application, in steps that each
// print a progress line and leave a summary in the manifest. Everything happens in a staging folder
// next to OUTPUT that is renamed (folder) or packed (archive) only when every step succeeded.

import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { listBundleFiles, walkBundle } from '../bundle/file-list.js';
import { MANIFEST_FORMAT, isSafeRelativePath, isSonameLike, writeManifest, type LibcPolicy, type Manifest, type SlimCategory } from '../bundle/manifest.js';
import { packBundle } from '../bundle/pack.js';
import { inspectBasePython } from './base-python.js';
import { filesHoldingBuildPaths, scrubBuildPaths, BuildPathLeftError } from './build-paths.js';
import { describeNeeds, listBundleElves } from './bundle-elves.js';
import { slimBundle } from './slim.js';
import { compileBytecode } from './compile.js';
import { isSharedSystemPrefix } from './copy-prefix.js';
import { baseStage } from './base-stage.js';
import { BuildInputError } from './errors.js';
import { GRAFT_DIR, graftLibraries, mergeGrafted } from './graft.js';
import { resolveInstalledNeeds, type InstalledNeeds } from './installed-needs.js';
import { smokeStep } from './build-smoke.js';
import { installHostHooks } from './host-certs.js';
import { loadGraftPolicy } from './graft-policy.js';
import { installApplication } from './install.js';
import { checkPrompt, chooseBundleName, declaredProject, installedProject, type DeclaredProject } from './project-name.js';
import { parseEntryPoint, rewriteShebangs, writeActivate, writeEntryPoint, type EntryPoint } from './launchers.js';
import { outputKind } from './output.js';
import { ensurePythonFromSource } from './python-source.js';
import { Progress } from './progress.js';
import { applyRunpath, findProviders, plannedRunpath, stripDebug } from './runpath.js';
import { writeRunInstaller } from './run-installer.js';
import { notSelfContained, verifyBuiltBundle } from './verify.js';
import { bundleGlibc } from './libc-bundle.js';
import { compareVersions } from '../loader/floors.js';
import { RootHostView } from '../loader/root-host.js';
import { loaderConfigForRoot } from '../inventory/root-config.js';
import { allowedMissingRecords } from './allowed-missing-record.js';

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
  /** The smoke command: a program relative to the bundle root and its arguments, run once by the build (step "smoke", build-smoke.ts) and recorded in the manifest. */
  readonly smoke?: readonly string[] | null;
  readonly slim: boolean;
  /** --slim-package-tests: slim also removes installed packages' own test folders nothing else imports. */
  readonly slimPackageTests?: boolean;
  readonly clear: boolean;
  readonly prompt: string | null;
  readonly withPip: boolean;
  /** Keep only bytecode: every compiled .py is replaced by its .pyc (smaller; no source in tracebacks). */
  readonly sourceless?: boolean;
  /**
   * --allow-missing: sonames the bundle ships without, never grafted; recorded in the manifest, and
   * the files needing them are warnings, not failures, where a host lacks them (compat/allowed-missing.ts).
   */
  readonly allowMissing?: readonly string[];
  readonly output: string;
}

export interface BuildResult {
  readonly output: string;
  readonly manifest: Manifest;
  readonly seconds: number;
}

/** Refuses bad input before anything runs; returns what PROJECT declares its name to be. */
function checkInputs(options: BuildOptions): DeclaredProject | null {
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
  if (options.slimPackageTests === true && !options.slim) throw new BuildInputError('--slim-package-tests', 'cannot be combined with --no-slim');
  for (const soname of options.allowMissing ?? []) {
    if (!isSonameLike(soname)) throw new BuildInputError(`--allow-missing ${JSON.stringify(soname.slice(0, 80))}`, 'expected a library name as DT_NEEDED names it (such as libodbc.so.2)');
  }
  checkPrompt(options.prompt);
  return declaredProject(options.project);
}

/**
 * `installed`: where needs resolved before any RUNPATH was touched (installed-needs.ts).
 * `dlopened`: bundle-relative caller -> names it dlopens (the smoke run's run-time needs).
 */
async function patchAll(bundle: string, libraryDirs: readonly string[], policy: ReturnType<typeof loadGraftPolicy>, installed: InstalledNeeds,
  dlopened: ReadonlyMap<string, readonly string[]> = new Map()): Promise<number> {
  const elves = listBundleElves(bundle);
  const providers = findProviders(elves, libraryDirs);
  let changed = 0;
  for (const elf of elves) {
    if (!elf.dynamic) continue;
    if (await applyRunpath(elf, plannedRunpath(bundle, elf, providers, policy, dlopened.get(elf.rel), installed.get(elf.rel)))) changed += 1;
  }
  return changed;
}

export async function build(options: BuildOptions, progress = new Progress()): Promise<BuildResult> {
  const declared = checkInputs(options);
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
  const allowMissing = [...new Set(options.allowMissing ?? [])].sort();
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
    const project = declared === null ? null : installedProject(declared, join(bundle, base.purelib), installed.packages);
    const name = chooseBundleName(options.prompt, project, entries[0]?.name ?? null);
    // bin/activate's prompt: the first entry point (the command people run) before the project.
    const prompt = options.prompt ?? entries[0]?.name ?? name;
    progress.note(project === null ? `bundle ${name} (no PROJECT: named as before, after --prompt, the first --entry or "bundle")`
      : `bundle ${name}${name !== project.name ? ` (--prompt)` : ''}: ${project.name} ${project.version}`);
    let slimmed: SlimCategory[] = [];
    if (options.slim) {
      slimmed = (await progress.step('slim', () => slimBundle(bundle, base, options.withPip, baseCopied.leftOut,
        { packageTests: options.slimPackageTests === true, note: (line) => progress.note(line) }))).categories;
    }
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
    // Where each need resolves as installed, before any RPATH becomes a RUNPATH (which ends its
    // inheritance); then RUNPATHs for what the bundle already holds (libpython, a wheel's .libs),
    // so the graft only sees true gaps.
    const installedNeeds = resolveInstalledNeeds(bundle, listBundleElves(bundle), new RootHostView('/', loaderConfigForRoot('/')));
    await patchAll(bundle, libraryDirs, policy, installedNeeds);
    const grafted = await progress.step('graft', async () => {
      const result = await graftLibraries(bundle, listBundleElves(bundle), policy, [], installedNeeds, new Set(allowMissing));
      await stripDebug(result.grafted.map((g) => join(bundle, g.path)));
      return result;
    });
    await progress.step('runpath', async () => {
      const changed = await patchAll(bundle, libraryDirs, policy, installedNeeds);
      return { summary: `set $ORIGIN-relative RUNPATHs (DT_RUNPATH) on ${changed} ELF files; no absolute RUNPATH left` };
    });
    let libc: LibcPolicy = options.libc === 'bundle' ? 'bundle' : 'host';
    if (options.libc === 'auto') {
      const floor = verifyBuiltBundle(bundle, listBundleElves(bundle), policy, { libc: 'host', executable: base.executable }).glibcFloor;
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
    const smoke = options.smoke ?? null;
    if (smoke !== null && !existsSync(join(bundle, smoke[0]!))) {
      throw new Error(`--smoke: ${smoke[0]} is not in the bundle (entry points are bin/NAME)`);
    }
    let graftedAll = grafted.grafted;
    const smoked = smoke === null ? null : await progress.step('smoke', async () => {
      const result = await smokeStep(bundle, smoke, policy);
      graftedAll = mergeGrafted(graftedAll, result.grafted);
      // The callers' RUNPATHs name the graft folder, and the new grafts get theirs.
      await patchAll(bundle, libraryDirs, policy, installedNeeds, result.dlopened);
      return result;
    });
    const runtimeNeeds = smoked?.runtimeNeeds;
    const verified = await progress.step('verify', () => {
      const result = verifyBuiltBundle(bundle, listBundleElves(bundle), policy, { libc, executable: base.executable, runtimeNeeds, allowMissing });
      const refusal = notSelfContained(result);
      if (refusal !== null) throw new Error(refusal);
      for (const warning of result.warnings) progress.note(`warning: ${warning}`);
      const left = filesHoldingBuildPaths(bundle, buildPaths);
      if (left.length > 0) throw new BuildPathLeftError(left);
      return result;
    });
    const elves = listBundleElves(bundle);
    const allowedMissing = allowedMissingRecords(elves, allowMissing, (line) => progress.note(line));
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name,
      ...(project !== null ? { version: project.version } : {}),
      python: { version: base.version, executable: base.executable, packages: installed.packages },
      libc,
      glibcFloor: verified.glibcFloor,
      kernelFloor: verified.kernelFloor,
      entryPoints: Object.fromEntries(entries.map((e) => [e.name, `${e.module}:${e.func}`])),
      ...(smoke !== null ? { smoke } : {}),
      steps: [...progress.steps],
      slimmed,
      grafted: graftedAll.map((g) => ({ ...g, neededBy: g.neededBy.filter((n) => existsSync(join(bundle, n))) })),
      ...(runtimeNeeds !== undefined ? { runtimeNeeds } : {}),
      ...(allowedMissing.length > 0 ? { allowMissing: allowedMissing } : {}),
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
