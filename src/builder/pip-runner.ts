// pip as the install step runs it: unpacked from its wheel and compiled once per wheel and Python
// version, then kept in the cache. Run straight from the wheel (a zip, where no bytecode can be
// cached), pip compiles every module it imports on each run: the yamlsmoke install took 1.7 s that
// way and 0.6 s from the compiled copy. The copy only ever runs pip; it never enters a bundle.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { sha256File } from '../bundle/file-list.js';
import { builderCacheRoot } from './cache-root.js';

/** Bump when what the runner folder holds changes. */
const RUNNER_FORMAT = 2;

// Without pip's .dist-info: pip would find it on sys.path and take pip for installed in the bundle.
const UNPACK = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    wheel.extractall(sys.argv[2], [n for n in wheel.namelist() if n.startswith('pip/')])
`;

/**
 * The folder to put first on sys.path to import pip from `wheel`, compiled by `python` (a
 * bundled interpreter of version `short`): made when missing, safe when two builds make it at once.
 */
export async function pipRunner(
  python: string,
  short: string,
  wheel: string,
  env: Record<string, string>,
  root = builderCacheRoot(),
): Promise<string> {
  const dir = join(root, 'pip', `${sha256File(wheel).slice(0, 16)}-py${short}-${RUNNER_FORMAT}`);
  if (existsSync(join(dir, 'pip', '__init__.py'))) return dir;
  mkdirSync(join(root, 'pip'), { recursive: true });
  const temporary = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await execa(python, ['-I', '-B', '-c', UNPACK, wheel, temporary], { env, extendEnv: false });
    // -B: compileall still writes pip's bytecode, but none of the stdlib modules it imports into the
    // bundle. -j 0: one worker a core (the runner's bytes need not be reproducible).
    await execa(python, ['-I', '-B', '-m', 'compileall', '-q', '-j', '0', '-d', dir, temporary], {
      env,
      extendEnv: false,
    });
    try {
      renameSync(temporary, dir);
    } catch (error) {
      // Another build put the same runner in place first: use theirs.
      if (!existsSync(join(dir, 'pip', '__init__.py'))) throw error;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
  return dir;
}
