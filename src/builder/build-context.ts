// What one `pyrelo build` works on: its inputs, where it stages the bundle, what each step hands
// to the later ones (build-steps.ts), one view of the build host and the bundle's ELF files.
// The ELF list and the host view describe the bundle as it is: both are dropped whenever a step
// rewrites, adds or removes ELF files (BuildStep.changesElves, or elvesChanged() inside a step).

import { resolve } from 'node:path';
import type { GraftedLibrary, LibcPolicy, Manifest, PythonBuildRecord, SlimCategory } from '../bundle/manifest.js';
import type { HostView, LoaderConfig } from '../loader/host-view.js';
import type { BasePython } from './base-python.js';
import type { BaseStage } from './base-stage.js';
import type { BuildOptions } from './build-options.js';
import { buildHostConfig, buildHostView } from './build-host.js';
import type { SmokeStepResult } from './build-smoke.js';
import { listBundleElves, type BundleElf } from './bundle-elves.js';
import { GRAFT_DIR } from './graft.js';
import type { GraftPolicy } from './graft-policy.js';
import type { InstalledNeeds } from './installed-needs.js';
import type { InstallResult } from './install.js';
import { parseEntryPoint, type EntryPoint } from './launchers.js';
import { outputKind, type OutputKind } from './output.js';
import type { Progress } from './progress.js';
import type { DeclaredProject, ProjectIdentity } from './project-name.js';
import type { VerifyResult } from './verify.js';

/** Where the build runs, known once the base Python is (step "base" of build-steps.ts). */
export interface BuildSetup {
  /** The base interpreter: --python, or the one --python-source compiled. */
  readonly python: string;
  readonly base: BasePython;
  readonly policy: GraftPolicy;
  /** The staging folder next to OUTPUT, and the bundle inside it. */
  readonly stage: string;
  readonly bundle: string;
  /** HOME of every program the build runs. */
  readonly home: string;
  /** Paths that must not be left in the bundle (scrub and verify steps). */
  readonly buildPaths: readonly string[];
  /** The interpreter's file name, e.g. python3.11. */
  readonly interpreter: string;
}

/** What steps make for later steps and the manifest; each is set once, by the step named. */
export interface StepResults {
  /** python-source: the compiled interpreter and its source folder (a build path). */
  readonly pythonSource: { readonly python: string; readonly sourceDir: string; readonly build: PythonBuildRecord };
  /** base */
  readonly setup: BuildSetup;
  /** copy */
  readonly prepared: BaseStage;
  /** install */
  readonly installed: InstallResult;
  /** install: the project PROJECT stands for, null without PROJECT. */
  readonly project: ProjectIdentity | null;
  /** install: the bundle's name and bin/activate's prompt. */
  readonly name: string;
  readonly prompt: string;
  /** installed-needs: where each need resolved before any RUNPATH was touched (installed-needs.ts). */
  readonly installedNeeds: InstalledNeeds;
  /** verify */
  readonly verified: VerifyResult;
  /** manifest */
  readonly manifest: Manifest;
}

export class BuildContext {
  readonly output: string;
  readonly kind: OutputKind;
  readonly entries: readonly EntryPoint[];
  /** --allow-missing, each once, sorted. */
  readonly allowMissing: readonly string[];
  /** --preload-only, each once, sorted. */
  readonly preloadOnly: readonly string[];
  /** Folders of the bundle whose libraries RUNPATHs may name. */
  readonly libraryDirs: readonly string[];

  /** slim: what it removed (none without slim). */
  slimmed: SlimCategory[] = [];
  /** graft, then smoke: every grafted library. */
  grafted: GraftedLibrary[] = [];
  /** host or bundle: from --libc, or chosen by the libc-choice step for --libc auto. */
  libc: LibcPolicy;
  /** smoke: null without --smoke. */
  smoked: SmokeStepResult | null = null;

  private readonly results: Partial<StepResults> = {};
  private hostConfig: LoaderConfig | null = null;
  private view: HostView | null = null;
  private elfList: readonly BundleElf[] | null = null;

  constructor(
    readonly options: BuildOptions,
    readonly declared: DeclaredProject | null,
    readonly progress: Progress,
  ) {
    this.output = resolve(options.output);
    this.kind = outputKind(this.output);
    this.entries = options.entries.map(parseEntryPoint);
    this.allowMissing = [...new Set(options.allowMissing ?? [])].sort();
    this.preloadOnly = [...new Set(options.preloadOnly ?? [])].sort();
    this.libraryDirs = ['lib', GRAFT_DIR];
    this.libc = options.libc === 'bundle' ? 'bundle' : 'host';
  }

  /** Records what a step made; a second time is a bug in the list of steps. */
  record<K extends keyof StepResults>(key: K, value: StepResults[K]): StepResults[K] {
    if (key in this.results) throw new Error(`build: ${key} was already set by an earlier step`);
    this.results[key] = value;
    return value;
  }

  /** What an earlier step made; asking before that step ran is a bug in the list of steps. */
  result<K extends keyof StepResults>(key: K): StepResults[K] {
    if (!(key in this.results)) throw new Error(`build: ${key} is used before the step that makes it`);
    return this.results[key] as StepResults[K];
  }

  /** The setup once the base step ran, else null (cleanup after an early failure). */
  setupIfMade(): BuildSetup | null {
    return this.results.setup ?? null;
  }

  get setup(): BuildSetup {
    return this.result('setup');
  }

  get bundle(): string {
    return this.setup.bundle;
  }

  /** The bundle's ELF files as they are now: listed once, again after a step changed them. */
  elves(): readonly BundleElf[] {
    this.elfList ??= listBundleElves(this.bundle);
    return this.elfList;
  }

  /**
   * The build host (build-host.ts). Its loader configuration is read once; the view itself caches
   * what it opened in the bundle, so it is made again after ELF files changed.
   */
  hostView(): HostView {
    this.hostConfig ??= buildHostConfig();
    this.view ??= buildHostView(this.hostConfig);
    return this.view;
  }

  /** ELF files of the bundle were rewritten, added or removed: what was read of them is stale. */
  elvesChanged(): void {
    this.elfList = null;
    this.view = null;
  }
}
