// `pyrelo build`: a relocatable bundle of a CPython prefix and an application, in steps that each
// print a progress line and leave a summary in the manifest (build-steps.ts). Everything happens in
// a staging folder next to OUTPUT that is renamed (folder) or packed (archive) only when every step
// succeeded; here, the inputs are checked, the steps run in order and the staging folder goes.

import { localeNameProblem } from '../bundle/locale-name.js';
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isSafeRelativePath, isSonameLike, type Manifest } from '../bundle/manifest.js';
import { BuildContext } from './build-context.js';
import { BUILD_STEPS } from './build-steps.js';
import type { BuildOptions } from './build-options.js';
import { loadCpythonCatalog, matchingSources, requestedVersion } from './cpython-catalog.js';
import { chooseMirror } from './cpython-fetch.js';
import { BuildInputError } from './errors.js';
import { checkPrompt, declaredProject, type DeclaredProject } from './project-name.js';
import { Progress } from './progress.js';

export type { BuildOptions } from './build-options.js';

export interface BuildResult {
  readonly output: string;
  readonly manifest: Manifest;
  readonly seconds: number;
}

/** Refuses bad input before anything runs; returns what PROJECT declares its name to be. */
function checkInputs(options: BuildOptions): DeclaredProject | null {
  const source = options.pythonSource ?? null;
  if (options.python !== null && source !== null)
    throw new BuildInputError('--python-source', 'cannot be combined with --python');
  if (options.python === null && source === null)
    throw new BuildInputError('--python', 'required (or --python-source TARBALL)');
  const version = requestedVersion(options.python);
  // An unknown version or a bad mirror URL is refused before anything runs.
  if (version !== null) {
    matchingSources(loadCpythonCatalog(), version);
    chooseMirror(options.mirror);
  } else if ((options.mirror ?? null) !== null)
    throw new BuildInputError(
      `--mirror ${options.mirror}`,
      'only a --python VERSION (such as 3.13) is fetched from a mirror',
    );
  if (source !== null && !(existsSync(source) && statSync(source).isFile()))
    throw new BuildInputError(`--python-source ${source}`, 'no such file');
  if (options.requirements !== null && !existsSync(options.requirements))
    throw new BuildInputError(`-r ${options.requirements}`, 'no such file');
  if (options.wheelhouse !== null && !(existsSync(options.wheelhouse) && statSync(options.wheelhouse).isDirectory())) {
    throw new BuildInputError(`--wheelhouse ${options.wheelhouse}`, 'no such folder');
  }
  if (options.project !== null && /^[./]/.test(options.project) && !existsSync(options.project))
    throw new BuildInputError(options.project, 'no such file or folder');
  if (existsSync(options.output) && !options.clear)
    throw new BuildInputError(`-o ${options.output}`, 'already exists (use --clear to replace it)');
  const indexUrl = options.indexUrl ?? null;
  if (indexUrl !== null && !/^(https?|file):\/\/\S+$/.test(indexUrl))
    throw new BuildInputError(`--index-url ${indexUrl}`, 'expected an http://, https:// or file:// URL');
  if (!/^\d+\.\d+$/.test(options.minGlibc))
    throw new BuildInputError(`--min-glibc ${options.minGlibc}`, 'expected a glibc version such as 2.17');
  const smoke = options.smoke ?? null;
  if (smoke !== null && (smoke.length === 0 || !isSafeRelativePath(smoke[0]!))) {
    throw new BuildInputError(
      `--smoke ${JSON.stringify(smoke.join(' '))}`,
      'expected a program relative to the bundle root (such as bin/smoke) and its arguments',
    );
  }
  if (!existsSync(dirname(resolve(options.output))))
    throw new BuildInputError(`-o ${options.output}`, `folder ${dirname(resolve(options.output))} does not exist`);
  if (options.slimPackageTests === true && !options.slim)
    throw new BuildInputError('--slim-package-tests', 'cannot be combined with --no-slim');
  for (const soname of options.allowMissing ?? []) {
    if (!isSonameLike(soname))
      throw new BuildInputError(
        `--allow-missing ${JSON.stringify(soname.slice(0, 80))}`,
        'expected a library name as DT_NEEDED names it (such as libodbc.so.2)',
      );
  }
  for (const path of options.preloadOnly ?? []) {
    if (!isSafeRelativePath(path))
      throw new BuildInputError(
        `--preload-only ${JSON.stringify(path.slice(0, 200))}`,
        'expected a path inside the bundle, relative to its root (such as ' +
          'lib/python3.11/site-packages/ray/core/libjemalloc.so)',
      );
  }
  // --locale, or [tool.pyrelo] locales: names glibc's setlocale takes.
  for (const name of options.locales ?? []) {
    const problem = localeNameProblem(name);
    if (problem !== null) throw new BuildInputError(`--locale ${JSON.stringify(name.slice(0, 80))}`, problem);
  }
  checkPrompt(options.prompt);
  return declaredProject(options.project);
}

export async function build(options: BuildOptions, progress = new Progress()): Promise<BuildResult> {
  const ctx = new BuildContext(options, checkInputs(options), progress);
  try {
    for (const step of BUILD_STEPS) {
      if (step.when !== undefined && !step.when(ctx)) continue;
      if (step.recorded) await progress.step(step.name, () => step.run(ctx));
      else await step.run(ctx);
      if (step.changesElves) ctx.elvesChanged();
    }
    return { output: ctx.output, manifest: ctx.result('manifest'), seconds: progress.elapsedSeconds() };
  } finally {
    const setup = ctx.setupIfMade();
    if (setup !== null) {
      rmSync(setup.stage, { recursive: true, force: true });
      rmSync(setup.home, { recursive: true, force: true });
    }
  }
}
