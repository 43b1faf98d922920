// Step "install": the application goes in with the bundled interpreter's own pip, offline: only
// the wheelhouse (and the pip/setuptools wheels CPython ships in ensurepip/_bundled) are looked at.
// pip runs from ensurepip's wheel, so --without-pip bundles still install. pip's config files and
// PIP_* variables of the build host are ignored (--isolated, a clean environment).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { InstalledPackage } from '../bundle/manifest.js';
import { BuildInputError } from './errors.js';
import type { BasePython } from './base-python.js';

export interface InstallRequest {
  readonly project: string | null;
  readonly requirements: string | null;
  readonly wheelhouse: string | null;
  readonly withPip: boolean;
}

export interface InstallResult {
  readonly summary: string;
  readonly packages: InstalledPackage[];
}

/** The environment of every bundled-interpreter run: nothing from the build host's Python set-up. */
export function cleanEnv(home: string): Record<string, string> {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LC_ALL: 'C.UTF-8', PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1' };
}

/**
 * The pip wheel to install with and its folder: CPython's own ensurepip/_bundled, or, for
 * Debian's python3.x whose ensurepip is unbundled, the wheels of python3-pip-whl.
 */
function findPipWheel(ensurepip: string): { folder: string; wheel: string } {
  for (const folder of [ensurepip, DEBIAN_PYTHON_WHEELS]) {
    const wheel = existsSync(folder) ? readdirSync(folder).find((n) => n.startsWith('pip-') && n.endsWith('.whl')) : undefined;
    if (wheel !== undefined) return { folder, wheel };
  }
  throw new BuildInputError(ensurepip, `no pip wheel here nor in ${DEBIAN_PYTHON_WHEELS} (on Debian: apt-get install python3-pip-whl)`);
}

const DEBIAN_PYTHON_WHEELS = '/usr/share/python-wheels';

export function bundledPython(bundle: string, base: BasePython): string {
  return join(bundle, base.executable);
}

export async function installApplication(bundle: string, base: BasePython, request: InstallRequest, home: string): Promise<InstallResult> {
  const { folder: bundled, wheel: pipWheel } = findPipWheel(join(bundle, base.stdlib, 'ensurepip', '_bundled'));
  const targets: string[] = [];
  if (request.withPip) targets.push('pip');
  if (request.requirements !== null) targets.push('-r', request.requirements);
  if (request.project !== null) targets.push(request.project);
  if (targets.length > 0) {
    const findLinks = [...(request.wheelhouse === null ? [] : ['--find-links', request.wheelhouse]), '--find-links', bundled];
    const runPip = `import runpy, sys; sys.path.insert(0, ${JSON.stringify(join(bundled, pipWheel))}); runpy.run_module("pip", run_name="__main__", alter_sys=True)`;
    const result = await execa(bundledPython(bundle, base), ['-s', '-E', '-B', '-c', runPip, 'install', '--isolated', '--no-index', ...findLinks,
      '--no-compile', '--no-warn-script-location', '--disable-pip-version-check', '--no-cache-dir', '--progress-bar', 'off', ...targets],
    { env: cleanEnv(home), extendEnv: false, reject: false, all: true });
    if (result.exitCode !== 0) {
      throw new BuildInputError(request.project ?? request.requirements ?? 'pip', `pip install failed (exit ${result.exitCode}):\n${result.all}`);
    }
  }
  const packages = await installedPackages(bundle, base, home);
  const names = packages.map((p) => `${p.name} ${p.version}`).join(', ');
  return { summary: `installed ${packages.length} packages offline${packages.length > 0 ? `: ${names}` : ''}`, packages };
}

export async function installedPackages(bundle: string, base: BasePython, home: string): Promise<InstalledPackage[]> {
  const script = 'import json, importlib.metadata as m; print(json.dumps(sorted({(d.metadata["Name"], d.version) for d in m.distributions()})))';
  const result = await execa(bundledPython(bundle, base), ['-I', '-B', '-c', script], { env: cleanEnv(home), extendEnv: false });
  return (JSON.parse(result.stdout) as Array<[string, string]>).map(([name, version]) => ({ name, version }));
}
