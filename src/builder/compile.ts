// Step "compile": bytecode for everything, with unchecked-hash invalidation: the .pyc files do not
// depend on file times (archives set them all to 0) and need no source hashing at import, so
// start-up stays as fast as with the base interpreter. One process, files in a fixed order:
// marshal output can depend on what the process compiled before, so parallel workers would make
// the bytes vary between builds. co_filename is stored relative to the bundle root (Python
// replaces it with the real path at import anyway).

import { execa } from 'execa';
import type { BasePython } from './base-python.js';
import { bundledPython, cleanEnv } from './install.js';

export async function compileBytecode(bundle: string, base: BasePython, home: string): Promise<{ summary: string }> {
  const result = await execa(bundledPython(bundle, base), ['-I', '-m', 'compileall', '-q', '-f', '--invalidation-mode', 'unchecked-hash',
    '-s', `${bundle}/`, '-x', '/(test|tests|idle_test)/bad', `${bundle}/lib`], { env: { ...cleanEnv(home), PYTHONDONTWRITEBYTECODE: '' }, extendEnv: false, reject: false, all: true });
  // compileall exits 1 when some file does not compile (Python 2 files in old packages, lib2to3's
  // deliberately broken test data): those stay without bytecode, as pip would leave them.
  const failed = (result.all ?? '').split('\n').filter((l) => l.startsWith('*** Error compiling')).length;
  return { summary: `compiled bytecode (unchecked-hash)${failed > 0 ? `; ${failed} files do not compile and have none` : ''}` };
}
