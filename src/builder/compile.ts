// Step "compile": bytecode for everything, with unchecked-hash invalidation: the .pyc files do not
// depend on file times (archives set them all to 0) and need no source hashing at import, so
// start-up stays as fast as with the base interpreter. One process, files in a fixed order:
// marshal output can depend on what the process compiled before, so parallel workers would make
// the bytes vary between builds. co_filename is stored relative to the bundle root (Python
// replaces it with the real path at import anyway).

//
// --sourceless keeps only bytecode: each module's .pyc is written beside it (`-b`, the legacy
// location Python imports a .pyc from when there is no source) and the .py goes. About a fifth
// smaller installed; tracebacks then show no source lines, and pip's RECORD files still list the
// .py files (pip uninstall warns). A .py that does not compile keeps its source.

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BasePython } from './base-python.js';
import { bundledPython, cleanEnv } from './install.js';

/** Removes every .py under `dir` that has a .pyc beside it, and __pycache__ folders; how many .py went. */
function dropSources(dir: string): number {
  let dropped = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === '__pycache__') rmSync(path, { recursive: true, force: true });
      else dropped += dropSources(path);
    } else if (entry.isFile() && entry.name.endsWith('.py') && existsSync(`${path}c`)) {
      rmSync(path);
      dropped += 1;
    }
  }
  return dropped;
}

export async function compileBytecode(bundle: string, base: BasePython, home: string, sourceless = false): Promise<{ summary: string }> {
  const result = await execa(bundledPython(bundle, base), ['-I', '-m', 'compileall', '-q', '-f', '--invalidation-mode', 'unchecked-hash',
    ...(sourceless ? ['-b'] : []), '-s', `${bundle}/`, '-x', '/(test|tests|idle_test)/bad', `${bundle}/lib`],
  { env: { ...cleanEnv(home), PYTHONDONTWRITEBYTECODE: '' }, extendEnv: false, reject: false, all: true });
  // compileall exits 1 when some file does not compile (Python 2 files in old packages, lib2to3's
  // deliberately broken test data): those stay without bytecode, as pip would leave them.
  const failed = (result.all ?? '').split('\n').filter((l) => l.startsWith('*** Error compiling')).length;
  const dropped = sourceless ? dropSources(join(bundle, 'lib')) : 0;
  return {
    summary: `compiled bytecode (unchecked-hash)${sourceless ? `; sourceless: ${dropped} .py files replaced by their .pyc` : ''}`
      + `${failed > 0 ? `; ${failed} files do not compile and ${sourceless ? 'keep their source' : 'have none'}` : ''}`,
  };
}
