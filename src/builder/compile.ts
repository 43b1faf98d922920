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
// The base stage (base-stage.ts) compiles the stdlib and pip once; a build compiles only what has
// no bytecode of its current source (the application's packages, files the build rewrote), so a
// build with a cached stage and one without compile the same files in the same runs.
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
      } else if (
        name.endsWith('.py') &&
        (stat.isFile() || statSync(join(root, child), { throwIfNoEntry: false })?.isFile()) &&
        !NOT_COMPILED.test(`/${child}`)
      ) {
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
legacy = sys.argv[1] == 'legacy'
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

/** Prints (NUL-separated) the files named on stdin whose bytecode is missing or not of their current source. */
/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
const STALE = `
import sys, importlib.util
legacy = sys.argv[1] == 'legacy'
out = []
for rel in sys.stdin.read().split('\\0'):
    if not rel:
        continue
    try:
        with open(rel + 'c' if legacy else importlib.util.cache_from_source(rel), 'rb') as f:
            head = f.read(16)
        with open(rel, 'rb') as f:
            source = f.read()
    except OSError:
        out.append(rel)
        continue
    # magic, flags 0b01 (hash-based, unchecked), the source's hash
    if head[:4] != importlib.util.MAGIC_NUMBER or head[4:8] != b'\\x01\\0\\0\\0' or head[8:16] != importlib.util.source_hash(source):
        out.append(rel)
sys.stdout.write(''.join(r + '\\0' for r in out))
`;
/* eslint-enable max-len */

/** Removes __pycache__ entries whose source is gone (slim, an uninstall) and __pycache__ folders left empty. */
function dropOrphanBytecode(dir: string): number {
  let dropped = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (!entry.isDirectory()) continue;
    if (entry.name !== '__pycache__') {
      dropped += dropOrphanBytecode(path);
      continue;
    }
    for (const name of readdirSync(path)) {
      if (name.endsWith('.pyc') && !existsSync(join(dir, `${name.split('.')[0]}.py`))) {
        rmSync(join(path, name));
        dropped += 1;
      }
    }
    if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
  }
  return dropped;
}

export interface CompileOptions {
  /** Write each .pyc beside its source (what --sourceless keeps) instead of into __pycache__. */
  readonly legacy: boolean;
  /** Then remove every .py that has a .pyc (--sourceless). */
  readonly dropSources: boolean;
}

/**
 * Bytecode for every module under lib/ whose bytecode is missing or stale; what the base stage
 * compiled and nobody changed since is kept as it is.
 */
export async function compileBytecode(
  bundle: string,
  base: BasePython,
  home: string,
  options: CompileOptions,
): Promise<{ summary: string }> {
  const mode = options.legacy ? 'legacy' : 'cache';
  const env = cleanEnv(home);
  // -B (below) does not stop py_compile; it stops these interpreters from writing bytecode of
  // their own imports into the bundle (timestamp-based, at moments that vary; -I ignores
  // PYTHONDONTWRITEBYTECODE).
  const files = pythonFiles(bundle, 'lib');
  const check = await execa(bundledPython(bundle, base), ['-I', '-B', '-c', STALE, mode], {
    cwd: bundle,
    input: files.map((f) => `${f}\0`).join(''),
    env,
    extendEnv: false,
  });
  const stale = check.stdout.split('\0').filter((f) => f !== '');
  const runs = partition(bundle, stale, WORKERS).filter((run) => run.length > 0);
  const results = await Promise.all(
    runs.map((run) =>
      execa(bundledPython(bundle, base), ['-I', '-B', '-c', DRIVER, mode], {
        cwd: bundle,
        input: run.map((f) => `${f}\0`).join(''),
        env,
        extendEnv: false,
      }),
    ),
  );
  // A file that does not compile (Python 2 code in an old package) stays without bytecode, as pip
  // would leave it.
  const failed = results.reduce((sum, r) => sum + Number(r.stdout.trim().split('\n').at(-1) ?? 0), 0);
  const orphans = options.legacy ? 0 : dropOrphanBytecode(join(bundle, 'lib'));
  const dropped = options.dropSources ? dropSources(join(bundle, 'lib')) : 0;
  return {
    summary:
      `bytecode for ${files.length - failed} files: ${stale.length - failed} compiled here, the rest kept from ` +
      'the base stage' +
      ` (unchecked-hash, ${WORKERS} fixed runs in parallel)` +
      `${orphans > 0 ? `; removed ${orphans} .pyc files whose source is gone` : ''}` +
      `${options.dropSources ? `; sourceless: ${dropped} .py files replaced by their .pyc` : ''}` +
      (failed > 0
        ? `; ${failed} files do not compile and ${options.dropSources ? 'keep their source' : 'have none'}`
        : ''),
  };
}
