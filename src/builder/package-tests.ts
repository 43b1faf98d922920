// `--slim-package-tests`: installed packages' own test suites (pandas/tests, numpy/*/tests) go,
// unless something outside them imports them.
//
// A test folder is a folder named `tests` or `test` inside a package: below a top-level package
// of site-packages (never a top-level `tests` itself, which any distribution may own and anything
// may import as `tests`), every folder on the way an importable name, and holding Python code.
// `testing` folders stay: by convention they are a package's public helpers for other packages'
// tests and for users (numpy.testing, pandas.testing), imported at run time.
//
// "Imported from outside" is read from every Python file of site-packages that is not inside a
// folder being removed, with the scanner slim uses for the stdlib's "when unused" groups
// (import-scan.ts), relative imports resolved, plus module names in strings (pytest_plugins,
// import_module) and in entry_points.txt. A kept folder's own imports count too, so a folder a
// kept one imports is kept as well. Extension modules and data paths (`os.path.join(…, "tests")`)
// are not read: such references go unseen.

import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SlimCategory } from '../bundle/manifest.js';
import type { BasePython } from './base-python.js';
import { importedNames, importsModule } from './import-scan.js';
import { formatBytes, sizeOf } from './tree-size.js';

export const PACKAGE_TESTS_CATEGORY = 'package tests (--slim-package-tests)';
const TEST_FOLDER_NAMES = new Set(['tests', 'test']);
const IDENTIFIER = /^[A-Za-z_]\w*$/;

export interface TestFolder {
  /** Relative to site-packages, `/`-separated. */
  readonly path: string;
  /** Its dotted module name. */
  readonly module: string;
}

export interface KeptTestFolder extends TestFolder {
  /** A file (relative to site-packages) that imports it. */
  readonly importer: string;
}

interface Source {
  readonly path: string;
  readonly names: ReadonlySet<string>;
}

function holdsPython(dir: string): boolean {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory() ? holdsPython(path) : name.endsWith('.py')) return true;
  }
  return false;
}

/** Test folders and the files that may import them, under site-packages. */
function scan(site: string): { folders: TestFolder[]; sources: Source[] } {
  const folders: TestFolder[] = [];
  const sources: Source[] = [];
  // `pkg`: the dotted name of `rel` while every folder on the way is an importable name (a
  // package; [] for site-packages itself), else null (data, .dist-info, bin folders).
  const walk = (rel: string, pkg: readonly string[] | null): void => {
    const dir = join(site, rel);
    for (const name of readdirSync(dir).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const stat = lstatSync(join(dir, name));
      if (stat.isDirectory()) {
        if (name === '__pycache__') continue;
        const child = pkg !== null && IDENTIFIER.test(name) ? [...pkg, name] : null;
        if (child !== null && pkg!.length > 0 && TEST_FOLDER_NAMES.has(name) && holdsPython(join(dir, name)))
          folders.push({ path, module: child.join('.') });
        walk(path, child);
      } else if (stat.isFile()) {
        if (name.endsWith('.py')) {
          const inPackage = pkg !== null && pkg.length > 0 ? pkg.join('.') : null;
          sources.push({
            path,
            names: importedNames(readFileSync(join(dir, name), 'latin1'), { package: inPackage, dottedStrings: true }),
          });
        } else if (
          (rel === '' && name.endsWith('.pth')) ||
          (rel.endsWith('.dist-info') && name === 'entry_points.txt')
        ) {
          // .pth lines starting with `import` run at start-up; entry points name `module:attr`.
          const text = readFileSync(join(dir, name), 'latin1');
          const names = importedNames(text);
          for (const m of text.matchAll(/=\s*([A-Za-z_][\w.]*)/g)) names.add(m[1]!);
          sources.push({ path, names });
        }
      }
    }
  };
  if (existsSync(site)) walk('', []);
  return { folders, sources };
}

const inside = (path: string, folder: string): boolean => path.startsWith(`${folder}/`);

/**
 * Which test folders go and which stay (with a file importing each kept one). Folders inside
 * another test folder are not listed on their own: they go or stay with it.
 */
export function planPackageTests(site: string): { removed: TestFolder[]; kept: KeptTestFolder[] } {
  const { folders, sources } = scan(site);
  const outermost = folders.filter((f) => !folders.some((g) => g !== f && inside(f.path, g.path)));
  let removed = outermost;
  const kept: KeptTestFolder[] = [];
  for (;;) {
    const outside = sources.filter((s) => !removed.some((f) => inside(s.path, f.path)));
    const keptNow: KeptTestFolder[] = [];
    for (const folder of removed) {
      const importer = outside.find((s) => importsModule(s.names, folder.module));
      if (importer !== undefined) keptNow.push({ ...folder, importer: importer.path });
    }
    if (keptNow.length === 0) break;
    kept.push(...keptNow);
    removed = removed.filter((f) => !keptNow.some((k) => k.path === f.path));
  }
  return { removed, kept };
}

export interface PackageTestsResult {
  /** The slim record: totals and the folders removed (relative to the bundle root); null when none. */
  readonly category: SlimCategory | null;
  /** One line per folder removed or kept, for the build output. */
  readonly lines: string[];
  /** For the step's one-line summary. */
  readonly summary: string;
}

/** Removes the package test folders nothing outside imports, from the bundle's site-packages. */
export function slimPackageTests(bundle: string, base: BasePython): PackageTestsResult {
  const site = join(bundle, base.purelib);
  const { removed, kept } = planPackageTests(site);
  const lines: string[] = [];
  let files = 0;
  let bytes = 0;
  const paths: string[] = [];
  for (const folder of removed) {
    const size = sizeOf(join(site, folder.path));
    rmSync(join(site, folder.path), { recursive: true, force: true });
    files += size.files;
    bytes += size.bytes;
    paths.push(`${base.purelib}/${folder.path}`);
    lines.push(`package tests: removed ${folder.path} (${formatBytes(size.bytes)}, ${size.files} files)`);
  }
  for (const folder of kept)
    lines.push(`package tests: kept ${folder.path}: ${folder.importer} imports ${folder.module}`);
  const summary =
    `${removed.length} package test folders removed` +
    `${kept.length > 0 ? `, ${kept.length} kept (imported from outside)` : ''}`;
  return {
    category: removed.length > 0 ? { category: PACKAGE_TESTS_CATEGORY, files, bytes, paths } : null,
    lines,
    summary,
  };
}
