// Step "slim": what a deployed application never uses, removed by category with the bytes saved.
// Only the standard library and the prefix's own extras are touched, never installed packages (a
// package's tests folder may be imported by the package). Bytecode is not slimmed: without .pyc,
// start-up is several times slower, so the stdlib is compiled instead (step "compile").

import { lstatSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SlimCategory } from '../bundle/manifest.js';
import type { BasePython } from './base-python.js';

interface Removal {
  readonly category: string;
  readonly path: string;
}

function sizeOf(path: string): { files: number; bytes: number } {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return { files: 0, bytes: 0 };
  if (!stat.isDirectory()) return { files: 1, bytes: stat.size };
  let files = 0;
  let bytes = 0;
  for (const name of readdirSync(path)) {
    const s = sizeOf(join(path, name));
    files += s.files;
    bytes += s.bytes;
  }
  return { files, bytes };
}

const STDLIB_TEST_DIRS = ['test', 'idlelib/idle_test', 'tkinter/test', 'lib2to3/tests', 'ctypes/test', 'unittest/test',
  'distutils/tests', 'sqlite3/test', 'test/support'];
const TEST_MODULES = /^(_testcapi|_testbuffer|_testclinic|_testimportmultiple|_testinternalcapi|_testmultiphase|_xxtestfuzz|_ctypes_test|xxlimited|xxlimited_35|_xxsubinterpreters)\./;
const TK_MODULES = ['idlelib', 'tkinter', 'turtledemo', 'turtle.py'];

/** Whether anything installed (site-packages) or the entry points mention tkinter. */
function tkinterUsed(bundle: string, base: BasePython): boolean {
  const site = join(bundle, base.purelib);
  const walk = (dir: string): boolean => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        if (walk(path)) return true;
      } else if (name.endsWith('.py') && /^\s*(import|from)\s+(tkinter|turtle)\b/m.test(readFileSync(path, 'latin1'))) return true;
    }
    return false;
  };
  return existsSync(site) && walk(site);
}

export function plannedRemovals(bundle: string, base: BasePython, withPip = true): Removal[] {
  const removals: Removal[] = [];
  const stdlib = base.stdlib;
  // --without-pip: the pip and setuptools wheels ensurepip would install (3 MB, already compressed)
  // go too; `python -m venv` then needs --without-pip as well, which is what was asked for.
  if (!withPip) removals.push({ category: 'pip wheels (--without-pip)', path: `${stdlib}/ensurepip/_bundled` });
  for (const dir of STDLIB_TEST_DIRS) removals.push({ category: 'tests', path: `${stdlib}/${dir}` });
  const dynload = `${stdlib}/lib-dynload`;
  if (existsSync(join(bundle, dynload))) {
    for (const name of readdirSync(join(bundle, dynload)).sort()) if (TEST_MODULES.test(name)) removals.push({ category: 'tests', path: `${dynload}/${name}` });
  }
  // pydoc_data holds only the text of help('keywords') and other topics (1.2 MB); help() on modules,
  // classes and functions reads their docstrings and keeps working, and a missing topic is reported
  // by pydoc itself ("documentation not found").
  removals.push({ category: 'docs', path: 'share/man' }, { category: 'docs', path: 'share/doc' }, { category: 'docs', path: `${stdlib}/pydoc_data` });
  removals.push({ category: 'headers', path: 'include' }, { category: 'headers', path: 'lib/pkgconfig' });
  const config = readdirSync(join(bundle, stdlib)).find((n) => n.startsWith('config-'));
  if (config !== undefined) removals.push({ category: 'static libraries and build files', path: `${stdlib}/${config}` });
  for (const name of readdirSync(join(bundle, 'lib')).sort()) if (name.endsWith('.a')) removals.push({ category: 'static libraries and build files', path: `lib/${name}` });
  if (!tkinterUsed(bundle, base)) {
    for (const name of TK_MODULES) removals.push({ category: 'idle and tkinter (unused)', path: `${stdlib}/${name}` });
    if (existsSync(join(bundle, dynload))) {
      for (const name of readdirSync(join(bundle, dynload))) if (name.startsWith('_tkinter.')) removals.push({ category: 'idle and tkinter (unused)', path: `${dynload}/${name}` });
    }
  }
  return removals;
}

export function slimBundle(bundle: string, base: BasePython, withPip = true): { summary: string; categories: SlimCategory[] } {
  const totals = new Map<string, { files: number; bytes: number }>();
  for (const removal of plannedRemovals(bundle, base, withPip)) {
    const path = join(bundle, removal.path);
    const size = sizeOf(path);
    if (size.files === 0 && !existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    const total = totals.get(removal.category) ?? { files: 0, bytes: 0 };
    totals.set(removal.category, { files: total.files + size.files, bytes: total.bytes + size.bytes });
  }
  const categories = [...totals].map(([category, t]) => ({ category, ...t }));
  const bytes = categories.reduce((a, c) => a + c.bytes, 0);
  const detail = categories.map((c) => `${c.category} ${(c.bytes / 1e6).toFixed(1)} MB`).join(', ');
  return { summary: `removed ${(bytes / 1e6).toFixed(1)} MB: ${detail}`, categories };
}
