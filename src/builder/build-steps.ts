// The steps of `pyrelo build`, in order (README, `pyrelo build`). A recorded step prints its
// progress lines and leaves its summary in the manifest's `steps`, under its name; a quiet one is
// work between two recorded steps that prints at most a note. A step runs only when `when` says so.
// A step that rewrites, adds or removes ELF files says so (`changesElves`): the context then drops
// its ELF list and host view (build-context.ts), which a step may also do midway.

import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { listBundleFiles, walkBundle } from '../bundle/file-list.js';
import { MANIFEST_FORMAT, writeManifest, type LocaleNeed, type Manifest } from '../bundle/manifest.js';
import { normalizeLocale } from '../bundle/locale-name.js';
import { packBundle } from '../bundle/pack.js';
import { compareVersions } from '../loader/floors.js';
import { allowedMissingRecords } from './allowed-missing-record.js';
import { inspectBasePython } from './base-python.js';
import { baseStage } from './base-stage.js';
import type { BuildContext } from './build-context.js';
import { filesHoldingBuildPaths, scrubBuildPaths, BuildPathLeftError } from './build-paths.js';
import { smokeStep } from './build-smoke.js';
import { describeNeeds } from './bundle-elves.js';
import { compileBytecode } from './compile.js';
import { isSharedSystemPrefix } from './copy-prefix.js';
import { graftLibraries, mergeGrafted } from './graft.js';
import { loadGraftPolicy } from './graft-policy.js';
import { installHostHooks } from './host-certs.js';
import { installApplication } from './install.js';
import { resolveInstalledNeeds } from './installed-needs.js';
import { rewriteShebangs, writeActivate, writeEntryPoint } from './launchers.js';
import { bundleGlibc } from './libc-bundle.js';
import { chooseBundleName, installedProject } from './project-name.js';
import { loadCpythonCatalog, requestedVersion } from './cpython-catalog.js';
import { chooseMirror, sourceForVersion } from './cpython-fetch.js';
import { ensurePythonFromSource } from './python-source.js';
import { applyRunpath, findProviders, plannedRunpath, stripDebug } from './runpath.js';
import { writeRunInstaller } from './run-installer.js';
import { slimBundle } from './slim.js';
import { notSelfContained, verifyBuiltBundle } from './verify.js';
import { BuildInputError } from './errors.js';

export interface StepSummary {
  readonly summary: string;
}

interface StepShape {
  /** The recorded step's name in progress lines and the manifest; a quiet step's name for readers. */
  readonly name: string;
  /** Whether it rewrites, adds or removes ELF files of the bundle. When unsure: true. */
  readonly changesElves: boolean;
  /** Absent: always runs. */
  when?(ctx: BuildContext): boolean;
}

export interface RecordedStep extends StepShape {
  readonly recorded: true;
  run(ctx: BuildContext): Promise<StepSummary> | StepSummary;
}

export interface QuietStep extends StepShape {
  readonly recorded: false;
  run(ctx: BuildContext): Promise<void> | void;
}

export type BuildStep = RecordedStep | QuietStep;

/**
 * RUNPATHs for every dynamic ELF of the bundle, from where its needs lie now and where they
 * resolved as installed; `dlopened`: bundle-relative caller -> names it dlopens (the smoke run's
 * run-time needs). Returns how many files changed; the caller's step changes ELF files.
 */
async function patchAll(
  ctx: BuildContext,
  dlopened: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<number> {
  const { bundle, policy } = ctx.setup;
  const installed = ctx.result('installedNeeds');
  const elves = ctx.elves();
  const providers = findProviders(elves, ctx.libraryDirs);
  let changed = 0;
  for (const elf of elves) {
    if (!elf.dynamic) continue;
    if (
      await applyRunpath(
        elf,
        plannedRunpath(bundle, elf, providers, policy, dlopened.get(elf.rel), installed.get(elf.rel)),
      )
    )
      changed += 1;
  }
  return changed;
}

/** --python-source TARBALL, or --python VERSION: the base CPython is compiled (python-source.ts). */
function compilesPython(ctx: BuildContext): boolean {
  return ctx.options.python === null || requestedVersion(ctx.options.python) !== null;
}

const pythonSource: RecordedStep = {
  name: 'python-source',
  recorded: true,
  changesElves: false,
  when: (ctx) => compilesPython(ctx),
  async run(ctx) {
    const version = requestedVersion(ctx.options.python);
    const mirror = chooseMirror(ctx.options.mirror);
    const fetched =
      version === null ? null : await sourceForVersion(loadCpythonCatalog(), version, mirror, ctx.progress);
    const built = await ensurePythonFromSource(fetched?.tarball ?? ctx.options.pythonSource!, ctx.progress, mirror);
    const debian = fetched === null ? '' : ` (Debian ${fetched.entry.package} ${fetched.entry.debianVersion})`;
    ctx.record('pythonSource', {
      python: built.python,
      sourceDir: built.sourceDir,
      build: {
        version: built.version,
        source: `${built.tarball}${debian}`,
        sourceSha256: built.tarballSha256,
        configure: built.configure,
        compiler: built.compiler,
        ...(built.libraries.length === 0 ? {} : { libraries: built.libraries }),
      },
    });
    return built;
  },
};

/** The base Python, the graft policy, the staging folder and the build paths. */
const setup: QuietStep = {
  name: 'base',
  recorded: false,
  changesElves: false,
  async run(ctx) {
    const source = compilesPython(ctx) ? ctx.result('pythonSource') : null;
    const python = source?.python ?? ctx.options.python!;
    const base = await inspectBasePython(python);
    const policy = loadGraftPolicy();
    // A fixed-length random name: the staging path must not change the length of anything.
    const stage = `${ctx.output}.pyrelo-stage-${randomBytes(4).toString('hex')}`;
    const home = mkdtempSync(join(tmpdir(), 'pyrelo-build-home-'));
    // A Python living in /usr shares its prefix with the whole system, where /usr/bin/env and the
    // like are the target's paths too: there, only its own stdlib folder counts as a build path.
    const buildPaths = [
      isSharedSystemPrefix(base.prefix) ? join(base.prefix, base.stdlib) : base.prefix,
      stage,
      ...(source === null ? [] : [source.sourceDir]),
    ];
    ctx.record('setup', {
      python,
      base,
      policy,
      stage,
      bundle: join(stage, 'bundle'),
      home,
      buildPaths,
      interpreter: basename(base.executable),
    });
    ctx.progress.note(`base Python ${base.version} at ${base.prefix}; output ${ctx.output} (${ctx.kind})`);
    mkdirSync(stage);
  },
};

const copy: RecordedStep = {
  name: 'copy',
  recorded: true,
  changesElves: true,
  async run(ctx) {
    const { options } = ctx;
    const { base, home, bundle } = ctx.setup;
    const prepared = await baseStage(
      base,
      { slim: options.slim, withPip: options.withPip, sourceless: options.sourceless === true },
      home,
      ctx.progress,
    );
    // cp keeps links as links and modes; it is several times faster than a copy file by file from node.
    await execa('cp', ['-RP', '--preserve=mode,links', '--', prepared.dir, bundle]);
    return ctx.record('prepared', prepared);
  },
};

const install: RecordedStep = {
  name: 'install',
  recorded: true,
  changesElves: true,
  async run(ctx) {
    const { options } = ctx;
    const { base, home, bundle } = ctx.setup;
    return ctx.record(
      'installed',
      await installApplication(
        bundle,
        base,
        {
          project: options.project,
          requirements: options.requirements,
          wheelhouse: options.wheelhouse,
          indexUrl: options.indexUrl ?? null,
        },
        home,
      ),
    );
  },
};

/** The bundle's name and prompt, from what the install step installed. */
const naming: QuietStep = {
  name: 'name',
  recorded: false,
  changesElves: false,
  run(ctx) {
    const { options, entries, declared } = ctx;
    const project = ctx.record(
      'project',
      declared === null
        ? null
        : installedProject(declared, join(ctx.bundle, ctx.setup.base.purelib), ctx.result('installed').packages),
    );
    const name = ctx.record('name', chooseBundleName(options.prompt, project, entries[0]?.name ?? null));
    // bin/activate's prompt: the first entry point (the command people run) before the project.
    ctx.record('prompt', options.prompt ?? entries[0]?.name ?? name);
    ctx.progress.note(
      project === null
        ? `bundle ${name} (no PROJECT: named as before, after --prompt, the first --entry or "bundle")`
        : `bundle ${name}${name !== project.name ? ` (--prompt)` : ''}: ${project.name} ${project.version}`,
    );
  },
};

const slim: RecordedStep = {
  name: 'slim',
  recorded: true,
  changesElves: true,
  when: (ctx) => ctx.options.slim,
  async run(ctx) {
    const { options, progress } = ctx;
    const result = await slimBundle(ctx.bundle, ctx.setup.base, options.withPip, ctx.result('prepared').leftOut, {
      packageTests: options.slimPackageTests === true,
      note: (line) => progress.note(line),
    });
    ctx.slimmed = result.categories;
    return result;
  },
};

const strip: RecordedStep = {
  name: 'strip',
  recorded: true,
  changesElves: true,
  async run(ctx) {
    const { bundle, base } = ctx.setup;
    // The interpreter was stripped before its RUNPATH was set (copy step); never strip after patchelf.
    const elves = ctx.elves().filter((e) => e.path !== join(bundle, base.executable));
    const archives = walkBundle(bundle)
      .files.filter((f) => f.endsWith('.a'))
      .map((f) => join(bundle, f)); // --no-slim keeps them
    const result = await stripDebug([...elves.map((e) => e.path), ...archives]);
    const refused = result.refused.map((p) => p.slice(bundle.length + 1));
    return {
      summary:
        `stripped debug information and local symbols from ${result.stripped - archives.length} ELF files` +
        `${archives.length > 0 ? ` and ${archives.length} static libraries` : ''}` +
        `; ${result.untouched} had none and were left as they were` +
        (refused.length > 0
          ? `; kept ${refused.length} unstripped that strip would have made unloadable (${refused.join(' ')})`
          : ''),
    };
  },
};

/**
 * Where each need resolves as installed, before any RPATH becomes a RUNPATH (which ends its
 * inheritance); then RUNPATHs for what the bundle already holds (libpython, a wheel's .libs),
 * so the graft only sees true gaps.
 */
const installedNeeds: QuietStep = {
  name: 'installed-needs',
  recorded: false,
  changesElves: true,
  async run(ctx) {
    ctx.record('installedNeeds', resolveInstalledNeeds(ctx.bundle, ctx.elves(), ctx.hostView()));
    await patchAll(ctx);
  },
};

const graft: RecordedStep = {
  name: 'graft',
  recorded: true,
  changesElves: true,
  async run(ctx) {
    const { bundle, policy } = ctx.setup;
    const result = await graftLibraries(
      bundle,
      ctx.elves(),
      ctx.hostView(),
      policy,
      [],
      ctx.result('installedNeeds'),
      new Set(ctx.allowMissing),
    );
    await stripDebug(result.grafted.map((g) => join(bundle, g.path)));
    ctx.grafted = result.grafted;
    return result;
  },
};

const runpath: RecordedStep = {
  name: 'runpath',
  recorded: true,
  changesElves: true,
  async run(ctx) {
    const changed = await patchAll(ctx);
    return { summary: `set $ORIGIN-relative RUNPATHs (DT_RUNPATH) on ${changed} ELF files; no absolute RUNPATH left` };
  },
};

/** --libc auto: the bundle ships glibc when its files need a newer one than --min-glibc. */
const libcChoice: QuietStep = {
  name: 'libc-choice',
  recorded: false,
  changesElves: false,
  when: (ctx) => ctx.options.libc === 'auto',
  run(ctx) {
    const { options } = ctx;
    const { bundle, policy, base } = ctx.setup;
    const floor = verifyBuiltBundle(bundle, ctx.elves(), ctx.hostView(), policy, {
      libc: 'host',
      executable: base.executable,
    }).glibcFloor;
    ctx.libc = floor !== null && compareVersions(floor, options.minGlibc) > 0 ? 'bundle' : 'host';
    ctx.progress.note(
      `--libc auto: glibc floor ${floor ?? 'none'} ${ctx.libc === 'bundle' ? '>' : '<='} --min-glibc ` +
        `${options.minGlibc}: libc ${ctx.libc}`,
    );
    // What bundling costs on the hosts (README, "What a `--libc bundle` bundle can and cannot use from the host").
    if (ctx.libc === 'bundle')
      ctx.progress.note(
        "--libc auto: with its own glibc the bundle does not load host NSS modules outside its loader's " +
          "folders or built for a newer glibc (pyrelo check warns per host; Python's pwd and grp then ask the " +
          `host's getent); --libc host needs a base and wheels whose glibc floor is ${options.minGlibc} or lower`,
      );
  },
};

const libc: RecordedStep = {
  name: 'libc',
  recorded: true,
  changesElves: true,
  when: (ctx) => ctx.libc === 'bundle',
  run: (ctx) => bundleGlibc(ctx.bundle, ctx.setup.base.executable, ctx.hostView(), ctx.setup.policy),
};

// Writes scripts only, but over whatever bin/NAME was: counted as changing ELF files, to be safe.
const launchers: RecordedStep = {
  name: 'launchers',
  recorded: true,
  changesElves: true,
  run(ctx) {
    const { entries, bundle } = ctx;
    const { interpreter, buildPaths } = ctx.setup;
    for (const entry of entries) writeEntryPoint(bundle, entry, interpreter);
    const rewritten = rewriteShebangs(bundle, buildPaths, interpreter);
    writeActivate(bundle, ctx.result('prompt'));
    const how =
      ctx.libc === 'bundle'
        ? 'starts libexec/' + interpreter + ' through the bundled loader'
        : 'runs as itself ($ORIGIN RUNPATH)';
    return {
      summary:
        `${interpreter} ${how}; ${entries.length} entry points written; relocatable shebangs for ` +
        `${rewritten.length} scripts${rewritten.length > 0 ? ` (${rewritten.join(' ')})` : ''}; bin/activate ` +
        '(sh, bash, zsh) and bin/activate.fish',
    };
  },
};

// Python modules, certificates and terminfo files: no ELF.
const host: RecordedStep = {
  name: 'host',
  recorded: true,
  changesElves: false,
  run: (ctx) => installHostHooks(ctx.bundle, ctx.setup.base, ctx.setup.python, ctx.options.wheelhouse),
};

// Binaries holding a build path are overwritten in place.
const scrub: RecordedStep = {
  name: 'scrub',
  recorded: true,
  changesElves: true,
  run: (ctx) => scrubBuildPaths(ctx.bundle, ctx.setup.base, ctx.setup.buildPaths, ctx.setup.home),
};

// .pyc files, and with --sourceless fewer .py files: no ELF.
const compile: RecordedStep = {
  name: 'compile',
  recorded: true,
  changesElves: false,
  run: (ctx) =>
    compileBytecode(ctx.bundle, ctx.setup.base, ctx.setup.home, {
      legacy: ctx.options.sourceless === true,
      dropSources: ctx.options.sourceless === true,
    }),
};

const smokeProgram: QuietStep = {
  name: 'smoke-program',
  recorded: false,
  changesElves: false,
  when: (ctx) => (ctx.options.smoke ?? null) !== null,
  run(ctx) {
    const program = ctx.options.smoke![0]!;
    if (!existsSync(join(ctx.bundle, program)))
      throw new Error(`--smoke: ${program} is not in the bundle (entry points are bin/NAME)`);
  },
};

const smoke: RecordedStep = {
  name: 'smoke',
  recorded: true,
  changesElves: true,
  when: (ctx) => (ctx.options.smoke ?? null) !== null,
  async run(ctx) {
    const result = await smokeStep(ctx.bundle, ctx.options.smoke!, ctx.hostView(), ctx.setup.policy);
    ctx.grafted = mergeGrafted(ctx.grafted, result.grafted);
    ctx.elvesChanged(); // the new grafts
    // The callers' RUNPATHs name the graft folder, and the new grafts get theirs.
    await patchAll(ctx, result.dlopened);
    ctx.smoked = result;
    return result;
  },
};

const verify: RecordedStep = {
  name: 'verify',
  recorded: true,
  changesElves: false,
  run(ctx) {
    const { bundle, policy, base, buildPaths } = ctx.setup;
    const dynamic = new Set(
      ctx
        .elves()
        .filter((e) => e.dynamic)
        .map((e) => e.rel),
    );
    for (const path of ctx.preloadOnly)
      if (!dynamic.has(path))
        throw new BuildInputError(
          `--preload-only ${path}`,
          'no dynamically linked ELF file at that path in the bundle (paths are relative to the bundle root)',
        );
    const result = verifyBuiltBundle(bundle, ctx.elves(), ctx.hostView(), policy, {
      libc: ctx.libc,
      executable: base.executable,
      runtimeNeeds: ctx.smoked?.runtimeNeeds,
      allowMissing: ctx.allowMissing,
      preloadOnly: ctx.preloadOnly,
    });
    const refusal = notSelfContained(result);
    if (refusal !== null) throw new Error(refusal);
    for (const warning of result.warnings) ctx.progress.note(`warning: ${warning}`);
    const left = filesHoldingBuildPaths(bundle, buildPaths);
    if (left.length > 0) throw new BuildPathLeftError(left);
    return ctx.record('verified', result);
  },
};

/** Declared locales and those the smoke run set, one record per name as glibc compares them. */
function localeNeeds(declared: readonly string[], smoked: readonly string[]): LocaleNeed[] {
  const byName = new Map<string, LocaleNeed>();
  for (const name of declared)
    byName.set(normalizeLocale(name), {
      name,
      declared: true,
      smoke: byName.get(normalizeLocale(name))?.smoke ?? false,
    });
  for (const name of smoked) {
    const known = byName.get(normalizeLocale(name));
    byName.set(normalizeLocale(name), { name: known?.name ?? name, declared: known?.declared ?? false, smoke: true });
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const manifest: QuietStep = {
  name: 'manifest',
  recorded: false,
  changesElves: false,
  run(ctx) {
    const { options, progress, bundle, entries } = ctx;
    const { base } = ctx.setup;
    const elves = ctx.elves();
    const project = ctx.result('project');
    const verified = ctx.result('verified');
    const runtimeNeeds = ctx.smoked?.runtimeNeeds;
    const smokeCommand = options.smoke ?? null;
    const locales = localeNeeds(options.locales ?? [], ctx.smoked?.locales ?? []);
    const allowedMissing = allowedMissingRecords(elves, ctx.allowMissing, (line) => progress.note(line));
    const written: Manifest = {
      format: MANIFEST_FORMAT,
      name: ctx.result('name'),
      ...(project !== null ? { version: project.version } : {}),
      python: {
        version: base.version,
        executable: base.executable,
        packages: ctx.result('installed').packages,
        ...(compilesPython(ctx) ? { build: ctx.result('pythonSource').build } : {}),
        ...(ctx.result('installed').lock !== undefined ? { lock: ctx.result('installed').lock } : {}),
      },
      libc: ctx.libc,
      glibcFloor: verified.glibcFloor,
      kernelFloor: verified.kernelFloor,
      entryPoints: Object.fromEntries(entries.map((e) => [e.name, `${e.module}:${e.func}`])),
      ...(smokeCommand !== null ? { smoke: smokeCommand } : {}),
      steps: [...progress.steps],
      slimmed: ctx.slimmed,
      grafted: ctx.grafted.map((g) => ({ ...g, neededBy: g.neededBy.filter((n) => existsSync(join(bundle, n))) })),
      ...(runtimeNeeds !== undefined ? { runtimeNeeds } : {}),
      ...(locales.length > 0 ? { locales } : {}),
      ...(allowedMissing.length > 0 ? { allowMissing: allowedMissing } : {}),
      ...(ctx.preloadOnly.length > 0 ? { preloadOnly: ctx.preloadOnly } : {}),
      elf: elves.filter((e) => e.dynamic).map((e) => describeNeeds(bundle, e.path)),
      files: listBundleFiles(bundle),
    };
    writeManifest(bundle, ctx.record('manifest', written));
  },
};

// The bundle leaves the staging folder.
const pack: RecordedStep = {
  name: 'pack',
  recorded: true,
  changesElves: true,
  async run(ctx) {
    const { output, kind, bundle } = ctx;
    // --clear was given (checked before the build).
    if (existsSync(output)) rmSync(output, { recursive: true, force: true });
    if (kind === 'directory') renameSync(bundle, output);
    else if (kind === 'archive') await packBundle(bundle, output);
    else await writeRunInstaller(bundle, output, ctx.result('manifest'));
    const size = kind === 'directory' ? 0 : statSync(output).size;
    return { summary: kind === 'directory' ? `bundle folder ${output}` : `${output} (${(size / 1e6).toFixed(1)} MB)` };
  },
};

export const BUILD_STEPS: readonly BuildStep[] = [
  pythonSource,
  setup,
  copy,
  install,
  naming,
  slim,
  strip,
  installedNeeds,
  graft,
  runpath,
  libcChoice,
  libc,
  launchers,
  host,
  scrub,
  compile,
  smokeProgram,
  smoke,
  verify,
  manifest,
  pack,
];
