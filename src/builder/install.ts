// Step "install": the application goes in with the bundled interpreter's own pip, offline: only
// the wheelhouse (and the pip/setuptools wheels CPython ships in ensurepip/_bundled) are looked at,
// and an index only when --index-url names one. sdists are built in pip's isolated build
// environment from the same sources; a missing build requirement is reported as such.
// pip runs from ensurepip's wheel (unpacked and compiled once, see pip-runner.ts), so
// --without-pip bundles still install. pip's config files and PIP_* variables of the build host
// are ignored (--isolated, a clean environment). pip itself is installed into the base stage
// (base-stage.ts), since it is the same for every application; a requirement on another pip
// version replaces it here.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { InstalledPackage, LockRecord } from '../bundle/manifest.js';
import { BuildInputError } from './errors.js';
import { hashMismatchError, readRequirementsLock } from './lock-file.js';
import { pipRunner } from './pip-runner.js';
import type { BasePython } from './base-python.js';

export interface InstallRequest {
  readonly project: string | null;
  readonly requirements: string | null;
  readonly wheelhouse: string | null;
  /** A package index pip may use besides the wheelhouse (--index-url); null: offline, the default. */
  readonly indexUrl: string | null;
}

export interface InstallResult {
  readonly summary: string;
  readonly packages: InstalledPackage[];
  /** -r FILE as read before pip ran (lock-file.ts); absent without -r. */
  readonly lock?: LockRecord;
}

/** The environment of every bundled-interpreter run: nothing from the build host's Python set-up. */
export function cleanEnv(home: string): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LC_ALL: 'C.UTF-8',
    PYTHONNOUSERSITE: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/**
 * The pip wheel to install with and its folder: CPython's own ensurepip/_bundled, or, for
 * Debian's python3.x whose ensurepip is unbundled, the wheels of python3-pip-whl.
 */
function findPipWheel(ensurepip: string): { folder: string; wheel: string } {
  for (const folder of [ensurepip, DEBIAN_PYTHON_WHEELS]) {
    const wheel = existsSync(folder)
      ? readdirSync(folder).find((n) => n.startsWith('pip-') && n.endsWith('.whl'))
      : undefined;
    if (wheel !== undefined) return { folder, wheel };
  }
  throw new BuildInputError(
    ensurepip,
    `no pip wheel here nor in ${DEBIAN_PYTHON_WHEELS} (on Debian: apt-get install python3-pip-whl)`,
  );
}

const DEBIAN_PYTHON_WHEELS = '/usr/share/python-wheels';

export function bundledPython(bundle: string, base: BasePython): string {
  return join(bundle, base.executable);
}

/**
 * Runs the bundled interpreter's pip (from the cached runner: see pip-runner.ts) with `args`,
 * ignoring the build host's pip configuration: offline (--no-index) unless `indexUrl` is given.
 * Returns pip's output; throws with it.
 */
export async function runPip(
  bundle: string,
  base: BasePython,
  args: readonly string[],
  home: string,
  what: string,
  indexUrl: string | null = null,
  /** -r FILE, when given: pip's refusal of a wheel whose hash differs is said naming it. */
  requirements: string | null = null,
): Promise<string> {
  const { folder, wheel } = findPipWheel(join(bundle, base.stdlib, 'ensurepip', '_bundled'));
  const runner = await pipRunner(bundledPython(bundle, base), base.short, join(folder, wheel), cleanEnv(home));
  // pip runs in the user's working directory (relative paths on the command line and in
  // requirement files are theirs), but -c's '' entry goes from sys.path: a folder named like a
  // module there must not shadow pip's imports.
  const runPipModule =
    'import runpy, sys; sys.path[:] = [p for p in sys.path if p != ""]; sys.path.insert(0, ' +
    `${JSON.stringify(runner)}); ` +
    'runpy.run_module("pip", run_name="__main__", alter_sys=True)';
  const index = indexUrl === null ? ['--no-index'] : ['--index-url', indexUrl];
  const result = await execa(
    bundledPython(bundle, base),
    [
      '-s',
      '-E',
      '-B',
      '-c',
      runPipModule,
      'install',
      '--isolated',
      ...index,
      '--find-links',
      folder,
      '--no-compile',
      '--no-warn-script-location',
      '--disable-pip-version-check',
      '--no-cache-dir',
      '--progress-bar',
      'off',
      ...args,
    ],
    { env: cleanEnv(home), extendEnv: false, reject: false, all: true },
  );
  if (result.exitCode !== 0) {
    throw (
      (requirements === null ? null : hashMismatchError(result.all, requirements)) ??
      missingBuildRequirements(result.all, indexUrl) ??
      new BuildInputError(what, `pip install failed (exit ${result.exitCode}):\n${result.all}`)
    );
  }
  return result.all;
}

/**
 * pip's failure to set up an sdist's isolated build environment, said in the user's terms: which
 * sdist, which build requirements the wheelhouse lacks, and the ways out. Null for other failures.
 */
function missingBuildRequirements(output: string, indexUrl: string | null): BuildInputError | null {
  // Only a failure of those steps (build-system.requires, then what the backend asks for):
  // "Installing build dependencies" is printed by every sdist build.
  const failed = output.search(
    /pip subprocess to install (build|backend) dependencies did not run successfully|Installing (build|backend) dependencies: finished with status 'error'/,
  );
  if (failed === -1) return null;
  const missing = [...new Set([...output.matchAll(/No matching distribution found for (\S+)/g)].map((m) => m[1]!))];
  const sdists = [
    ...output.slice(0, failed).matchAll(/^\s*Processing (\S+\.(?:tar\.gz|tar\.bz2|tar\.xz|zip))\s*$/gm),
  ].map((m) => m[1]!);
  const sdist = sdists.at(-1) ?? 'an sdist';
  const names = missing.length > 0 ? missing.join(', ') : 'its build requirements';
  const where =
    indexUrl === null ? 'the wheelhouse (the build is offline: --no-index)' : `the wheelhouse nor ${indexUrl}`;
  return new BuildInputError(
    sdist,
    `building it needs ${names} (its build-system requirements, installed into an isolated build` +
      ` environment), which neither ${where} nor ensurepip's wheels hold. Add their wheels to the wheelhouse` +
      (` (\`pip download ${missing.length > 0 ? missing.join(' ') : 'REQUIREMENT'} --only-binary=:all: -d ` +
        'WHEELHOUSE` where there is a network),') +
      ` put a wheel of the package itself there instead of the sdist, or let pip fetch them with --index-url URL.` +
      `\npip said:\n${output
        .split('\n')
        .filter((l) => /ERROR|error:/.test(l))
        .join('\n')}`,
  );
}

/**
 * PROJECT as pip should see it: a project folder (pyproject.toml or setup.py) or a wheel file that
 * exists is passed as an absolute path, even when written as a bare name (`pyrelo build myapp`,
 * where pip would look for a package called myapp); anything else is a requirement.
 */
function pipTarget(project: string): string {
  const path = resolve(project);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory() === true && (existsSync(join(path, 'pyproject.toml')) || existsSync(join(path, 'setup.py'))))
    return path;
  if (stat?.isFile() === true && project.endsWith('.whl')) return path;
  return project;
}

/** pip itself, from the wheel CPython ships (ensurepip), as `python -m ensurepip` would put it. */
export async function installPip(bundle: string, base: BasePython, home: string): Promise<void> {
  await runPip(bundle, base, ['pip'], home, 'pip');
}

/** The application; pip is already there (base stage) unless --without-pip. */
export async function installApplication(
  bundle: string,
  base: BasePython,
  request: InstallRequest,
  home: string,
): Promise<InstallResult> {
  const targets: string[] = [];
  // Read before pip runs, so the manifest names the bytes pip was given.
  const lock = request.requirements === null ? undefined : readRequirementsLock(request.requirements);
  if (request.requirements !== null) targets.push('-r', request.requirements);
  if (request.project !== null) targets.push(pipTarget(request.project));
  if (targets.length > 0) {
    const findLinks = request.wheelhouse === null ? [] : ['--find-links', request.wheelhouse];
    await runPip(
      bundle,
      base,
      [...findLinks, ...targets],
      home,
      request.project ?? request.requirements!,
      request.indexUrl,
      request.requirements,
    );
  }
  const packages = await installedPackages(bundle, base, home);
  const names = packages.map((p) => `${p.name} ${p.version}`).join(', ');
  const from = request.indexUrl === null ? 'offline' : `from the wheelhouse and ${request.indexUrl}`;
  const locked =
    lock === undefined
      ? ''
      : ` (-r ${lock.file}, sha256 ${lock.sha256.slice(0, 12)}…${lock.hashes ? ', every package hash-checked' : ''})`;
  return {
    summary: `installed ${packages.length} packages ${from}${locked}${packages.length > 0 ? `: ${names}` : ''}`,
    packages,
    ...(lock !== undefined ? { lock } : {}),
  };
}

export async function installedPackages(bundle: string, base: BasePython, home: string): Promise<InstalledPackage[]> {
  const script =
    'import json, importlib.metadata as m; print(json.dumps(sorted({(d.metadata["Name"], d.version) for d in ' +
    'm.distributions()})))';
  const result = await execa(bundledPython(bundle, base), ['-I', '-B', '-c', script], {
    env: cleanEnv(home),
    extendEnv: false,
  });
  return (JSON.parse(result.stdout) as Array<[string, string]>).map(([name, version]) => ({ name, version }));
}
