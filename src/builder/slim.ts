// Step "slim": what a deployed application never uses, removed by category with the bytes saved.
// Only the standard library and the prefix's own extras are touched, and installed packages only
// with --slim-package-tests: their own test folders, when nothing outside them imports them
// (package-tests.ts). Bytecode is not slimmed: without .pyc,
// start-up is several times slower, so the stdlib is compiled instead (step "compile").

import { lstatSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SlimCategory } from '../bundle/manifest.js';
import type { BasePython } from './base-python.js';
import { dataFile } from '../common/package-files.js';
import { importedNames, importsModule } from './import-scan.js';
import { sizeOf } from './tree-size.js';
import { slimPackageTests } from './package-tests.js';

interface Removal {
  readonly category: string;
  readonly path: string;
}

const STDLIB_TEST_DIRS = [
  'test',
  'idlelib/idle_test',
  'tkinter/test',
  'lib2to3/tests',
  'ctypes/test',
  'unittest/test',
  'distutils/tests',
  'sqlite3/test',
  'test/support',
];
const TEST_MODULES =
  /^(_testcapi|_testbuffer|_testclinic|_testimportmultiple|_testinternalcapi|_testmultiphase|_xxtestfuzz|_ctypes_test|xxlimited|xxlimited_35|_xxsubinterpreters)\./;
interface UnusedGroup {
  readonly category: string;
  readonly imports: readonly string[];
  readonly paths: readonly string[];
  readonly extensions: readonly string[];
}

/** data/slim-unused-stdlib.json: what goes when nothing installed imports it. */
function unusedGroups(): UnusedGroup[] {
  return (JSON.parse(readFileSync(dataFile('slim-unused-stdlib.json'), 'utf8')) as { groups: UnusedGroup[] }).groups;
}

/** The groups some .py file in site-packages (the application, its packages, pip) imports from. */
function usedGroups(bundle: string, base: BasePython, groups: readonly UnusedGroup[]): Set<UnusedGroup> {
  const used = new Set<UnusedGroup>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (name.endsWith('.py')) {
        const names = importedNames(readFileSync(path, 'latin1'));
        for (const group of groups)
          if (!used.has(group) && group.imports.some((module) => importsModule(names, module))) used.add(group);
      }
      if (used.size === groups.length) return;
    }
  };
  const site = join(bundle, base.purelib);
  if (existsSync(site)) walk(site);
  return used;
}

/** The stdlib's test folders and test extension modules, man pages and docs, under `root`. */
function testsAndDocs(root: string, base: BasePython): Removal[] {
  const removals: Removal[] = STDLIB_TEST_DIRS.map((dir) => ({ category: 'tests', path: `${base.stdlib}/${dir}` }));
  const dynload = `${base.stdlib}/lib-dynload`;
  if (existsSync(join(root, dynload))) {
    for (const name of readdirSync(join(root, dynload)).sort())
      if (TEST_MODULES.test(name)) removals.push({ category: 'tests', path: `${dynload}/${name}` });
  }
  removals.push({ category: 'docs', path: 'share/man' }, { category: 'docs', path: 'share/doc' });
  return removals;
}

/**
 * What can be left out already while copying the base prefix (nothing the install step needs:
 * pip runs from ensurepip's wheel and builds sdists against the headers, so both stay until
 * "slim"): the stdlib's tests, man pages and docs, and static libraries (libpython3.x.a alone is
 * about 45 MB). Copying 75 MB less is most of the copy step's time. Paths relative to `root`,
 * which is the base prefix here and the bundle in plannedRemovals.
 */
export function copyTimeRemovals(root: string, base: BasePython): Removal[] {
  const removals = testsAndDocs(root, base);
  const stdlib = base.stdlib;
  const config = existsSync(join(root, stdlib))
    ? readdirSync(join(root, stdlib)).find((n) => n.startsWith('config-'))
    : undefined;
  if (config !== undefined) {
    for (const name of readdirSync(join(root, stdlib, config)).sort())
      if (name.endsWith('.a'))
        removals.push({ category: 'static libraries and build files', path: `${stdlib}/${config}/${name}` });
  }
  if (existsSync(join(root, 'lib'))) {
    for (const name of readdirSync(join(root, 'lib')).sort())
      if (name.endsWith('.a')) removals.push({ category: 'static libraries and build files', path: `lib/${name}` });
  }
  const paths = new Set(removals.map((r) => r.path));
  const insideAnother = (path: string): boolean =>
    path.split('/').some((_, i, parts) => i > 0 && paths.has(parts.slice(0, i).join('/')));
  return removals.filter(
    (r) => lstatSync(join(root, r.path), { throwIfNoEntry: false }) !== undefined && !insideAnother(r.path),
  );
}

/** Sizes of removals under `root` (measured before they are skipped or removed). */
export function measureRemovals(root: string, removals: readonly Removal[]): SlimCategory[] {
  const totals = new Map<string, { files: number; bytes: number }>();
  for (const removal of removals) {
    const size = sizeOf(join(root, removal.path));
    const total = totals.get(removal.category) ?? { files: 0, bytes: 0 };
    totals.set(removal.category, { files: total.files + size.files, bytes: total.bytes + size.bytes });
  }
  return [...totals].map(([category, t]) => ({ category, ...t }));
}

/** Everything slim removes from the bundle after the install (what copyTimeRemovals left out is already gone). */
export function plannedRemovals(bundle: string, base: BasePython, withPip = true): Removal[] {
  const removals: Removal[] = [];
  const stdlib = base.stdlib;
  // --without-pip: the pip and setuptools wheels ensurepip would install (3 MB, already compressed)
  // go too; `python -m venv` then needs --without-pip as well, which is what was asked for.
  if (!withPip) removals.push({ category: 'pip wheels (--without-pip)', path: `${stdlib}/ensurepip/_bundled` });
  removals.push(...testsAndDocs(bundle, base));
  // pydoc_data holds only the text of help('keywords') and other topics (1.2 MB); help() on modules,
  // classes and functions reads their docstrings and keeps working, and a missing topic is reported
  // by pydoc itself ("documentation not found").
  removals.push({ category: 'docs', path: `${stdlib}/pydoc_data` });
  const dynload = `${stdlib}/lib-dynload`;
  removals.push({ category: 'headers', path: 'include' }, { category: 'headers', path: 'lib/pkgconfig' });
  const config = readdirSync(join(bundle, stdlib)).find((n) => n.startsWith('config-'));
  if (config !== undefined)
    removals.push({ category: 'static libraries and build files', path: `${stdlib}/${config}` });
  for (const name of readdirSync(join(bundle, 'lib')).sort())
    if (name.endsWith('.a')) removals.push({ category: 'static libraries and build files', path: `lib/${name}` });
  const groups = unusedGroups();
  const used = usedGroups(bundle, base, groups);
  const extensions = existsSync(join(bundle, dynload)) ? readdirSync(join(bundle, dynload)).sort() : [];
  for (const group of groups.filter((g) => !used.has(g))) {
    for (const path of group.paths) removals.push({ category: group.category, path: `${stdlib}/${path}` });
    for (const name of extensions)
      if (group.extensions.includes(name.split('.')[0]!))
        removals.push({ category: group.category, path: `${dynload}/${name}` });
  }
  return removals;
}

export interface SlimOptions {
  /** --slim-package-tests: installed packages' own test folders too (package-tests.ts). */
  readonly packageTests?: boolean;
  /** Gets one line per package test folder removed or kept. */
  readonly note?: (line: string) => void;
}

export function slimBundle(
  bundle: string,
  base: BasePython,
  withPip = true,
  leftOutAtCopy: readonly SlimCategory[] = [],
  options: SlimOptions = {},
): { summary: string; categories: SlimCategory[] } {
  const totals = new Map<string, { files: number; bytes: number }>(
    leftOutAtCopy.map((c) => [c.category, { files: c.files, bytes: c.bytes }]),
  );
  for (const removal of plannedRemovals(bundle, base, withPip)) {
    const path = join(bundle, removal.path);
    const size = sizeOf(path);
    if (size.files === 0 && !existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    // A module's bytecode goes with it (the base stage compiled it); a legacy .pyc beside the
    // source would otherwise stay importable.
    if (path.endsWith('.py')) rmSync(`${path}c`, { force: true });
    const total = totals.get(removal.category) ?? { files: 0, bytes: 0 };
    totals.set(removal.category, { files: total.files + size.files, bytes: total.bytes + size.bytes });
  }
  const categories: SlimCategory[] = [...totals]
    .map(([category, t]) => ({ category, ...t }))
    .filter((c) => c.files > 0);
  const packageTests = options.packageTests === true ? slimPackageTests(bundle, base) : null;
  for (const line of packageTests?.lines ?? []) options.note?.(line);
  if (packageTests?.category) categories.push(packageTests.category);
  const bytes = categories.reduce((a, c) => a + c.bytes, 0);
  const detail = categories.map((c) => `${c.category} ${(c.bytes / 1e6).toFixed(1)} MB`).join(', ');
  return {
    summary:
      `removed ${(bytes / 1e6).toFixed(1)} MB${leftOutAtCopy.length > 0 ? ' (most of it never copied)' : ''}: ` +
      `${detail}${packageTests !== null ? `; ${packageTests.summary}` : ''}`,
    categories,
  };
}
