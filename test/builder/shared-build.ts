// One real build shared by the tests of a file (builds take seconds, not milliseconds): this
// machine's CPython + the wheelhouse's yamlsmoke app (cryptography, cffi and a libyaml extension).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildResult } from '../../src/builder/build.js';
import type { BuildOptions } from '../../src/builder/build-options.js';
import { Progress } from '../../src/builder/progress.js';
import { execa } from 'execa';
import { BASE_PYTHON, COMBINED_ENTRIES, ensureWheelhouse, type CombinedWheelhouse } from './wheelhouse.js';

export const APP = 'yamlsmoke';
export const ENTRY = 'smoke=yamlsmoke.smoke:main';
export const BASE_PREFIX = '/root/.pyenv/versions/3.11.7';

/** Why the build tests cannot run here, or undefined. */
export function buildSkipReason(): string | undefined {
  if (!existsSync(BASE_PYTHON)) return `no base interpreter at ${BASE_PYTHON}`;
  for (const tool of ['patchelf', 'strip', 'gcc', 'zstd', 'xz']) {
    if (!['/usr/bin', '/bin'].some((d) => existsSync(join(d, tool))))
      return `${tool} is not installed (scripts/install-system-deps.sh)`;
  }
  if (!existsSync('/usr/include/yaml.h')) return 'libyaml-dev is not installed (scripts/install-system-deps.sh)';
  return undefined;
}

/** The smoke app bundled with this machine's CPython, or with one compiled from pythonSource (a tarball). */
export async function buildApp(
  output: string,
  lines: string[] = [],
  libc: 'host' | 'bundle' | 'auto' = 'host',
  pythonSource: string | null = null,
  more: Partial<BuildOptions> = {},
): Promise<BuildResult> {
  const wheelhouse = await ensureWheelhouse();
  return build(
    {
      project: APP,
      python: pythonSource === null ? BASE_PYTHON : null,
      pythonSource,
      requirements: null,
      wheelhouse,
      libc,
      minGlibc: '2.17',
      entries: [ENTRY],
      slim: true,
      clear: false,
      prompt: null,
      withPip: true,
      output,
      ...more,
    },
    new Progress((line) => lines.push(line)),
  );
}

/**
 * The combined app (yamlsmoke with cryptography and libyaml, scismoke with numpy and lxml, allsmoke
 * running both and a spawn pool) bundled with this machine's CPython: project yamlsmoke plus
 * `-r requirements.txt`, from the wheelhouse makeCombinedWheelhouse made; bin/allsmoke is the
 * recorded smoke command. With `pythonSource` (a tarball), on CPython compiled from it instead.
 */
export async function buildCombined(
  { wheelhouse, requirements }: CombinedWheelhouse,
  output: string,
  libc: 'host' | 'bundle' | 'auto',
  lines: string[] = [],
  pythonSource: string | null = null,
): Promise<BuildResult> {
  return build(
    {
      project: APP,
      python: pythonSource === null ? BASE_PYTHON : null,
      pythonSource,
      requirements,
      wheelhouse,
      libc,
      minGlibc: '2.17',
      entries: COMBINED_ENTRIES,
      smoke: ['bin/allsmoke'],
      slim: true,
      clear: false,
      prompt: null,
      withPip: false,
      output,
    },
    new Progress((line) => lines.push(line)),
  );
}

export interface SmokeResult {
  version: string;
  prefix: string;
  executable: string;
  cwd: string;
  yaml: string;
  yaml_events: number;
  fernet: string;
  ssl: string;
  child_exit: number;
  child_stdout: string;
}

/** Runs the smoke app of a bundle from cwd with a bare environment; its JSON line. */
export async function smoke(bundle: string, cwd: string, env: Record<string, string> = {}): Promise<SmokeResult> {
  const r = await execa(join(bundle, 'bin', 'smoke'), [], {
    cwd,
    env: { PATH: '/usr/bin:/bin', ...env },
    extendEnv: false,
    reject: false,
  });
  assert.equal(r.exitCode, 0, `smoke failed in ${cwd}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as SmokeResult;
}
