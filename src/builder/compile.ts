// Step "compile": bytecode for everything, with unchecked-hash invalidation: the .pyc files do not
// depend on file times (archives set them all to 0) and need no source hashing at import, so
// start-up stays as fast as with the base interpreter. co_filename is stored relative to the
// bundle root (Python replaces it with the real path at import anyway).
// Marshal output can depend on what the process compiled before, so compileall's -j (a pool that
// hands files to whichever worker is free) would make the bytes vary between builds. Instead the
// sorted file list is cut into WORKERS contiguous runs of about equal size, and each run is
// compiled in order by a fresh interpreter of its own: the same inputs give the same bytes, on any
// machine (the number of runs is fixed, not the number of cores).

//
// --sourceless keeps only bytecode: each module's .pyc is written beside it (`-b`, the legacy
// location Python imports a .pyc from when there is no source) and the .py goes. About a fifth
// smaller installed; tracebacks then show no source lines, and pip's RECORD files still list the
// .py files (pip uninstall warns). A .py that does not compile keeps its source.

import { existsSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compareBytes } from '../bundle/file-list.js';
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

/** Fixed, so that the partition (and so the bytes) never depends on the build machine. */
const WORKERS = 4;

/** compileall's -x: lib2to3's deliberately broken test data and the like. */
const NOT_COMPILED = /\/(test|tests|idle_test)\/bad/;

/** Each .py file under `dir` (and symlinks to files, as compileall), relative to `root`, sorted. */
function pythonFiles(root: string, dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort(compareBytes)) {
      const child = `${rel}/${name}`;
      const stat = lstatSync(join(root, child));
      if (stat.isDirectory()) {
        if (name !== '__pycache__') walk(child);
      } else if (name.endsWith('.py') && (stat.isFile() || statSync(join(root, child), { throwIfNoEntry: false })?.isFile()) && !NOT_COMPILED.test(`/${child}`)) {
        found.push(child);
      }
    }
  };
  walk(dir);
  return found;
}

/** Contiguous runs of about equal total size. */
function partition(root: string, files: readonly string[], parts: number): string[][] {
  const sizes = files.map((f) => statSync(join(root, f)).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const runs: string[][] = [[]];
  let filled = 0;
  files.forEach((file, i) => {
    if (filled >= (total * runs.length) / parts && runs.length < parts) runs.push([]);
    runs.at(-1)!.push(file);
    filled += sizes[i]!;
  });
  return runs;
}

/** Compiles the files named on stdin (relative to the cwd, the bundle root), in order; prints failures. */
const DRIVER = `
import sys, py_compile
legacy = sys.argv[1] == 'sourceless'
mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
failed = 0
for rel in sys.stdin.read().split('\\0'):
    if not rel:
        continue
    try:
        py_compile.compile(rel, cfile=rel + 'c' if legacy else None, dfile=rel, doraise=True, invalidation_mode=mode)
    except (py_compile.PyCompileError, SyntaxError, ValueError, UnicodeDecodeError) as error:
        failed += 1
        print('*** Error compiling', rel, error, file=sys.stderr)
print(failed)
`;

export async function compileBytecode(bundle: string, base: BasePython, home: string, sourceless = false): Promise<{ summary: string }> {
  const files = pythonFiles(bundle, 'lib');
  const runs = partition(bundle, files, WORKERS);
  const results = await Promise.all(runs.map((run) => execa(bundledPython(bundle, base), ['-I', '-c', DRIVER, sourceless ? 'sourceless' : 'cache'], {
    cwd: bundle, input: run.map((f) => `${f}\0`).join(''), env: { ...cleanEnv(home), PYTHONDONTWRITEBYTECODE: '' }, extendEnv: false,
  })));
  // A file that does not compile (Python 2 code in an old package) stays without bytecode, as pip
  // would leave it.
  const failed = results.reduce((sum, r) => sum + Number(r.stdout.trim().split('\n').at(-1) ?? 0), 0);
  const dropped = sourceless ? dropSources(join(bundle, 'lib')) : 0;
  return {
    summary: `compiled bytecode for ${files.length - failed} files (unchecked-hash, ${runs.length} fixed runs in parallel)`
      + `${sourceless ? `; sourceless: ${dropped} .py files replaced by their .pyc` : ''}`
      + `${failed > 0 ? `; ${failed} files do not compile and ${sourceless ? 'keep their source' : 'have none'}` : ''}`,
  };
}
