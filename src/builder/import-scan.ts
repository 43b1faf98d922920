// Which modules a Python source file imports, read from its text. Slim uses it to decide what
// nothing imports: the stdlib's "when unused" groups (data/slim-unused-stdlib.json) and, with
// --slim-package-tests, packages' own test folders. It is generous on purpose: a wrong "imported"
// keeps a few bytes, a wrong "unused" breaks the application. Every `import`/`from … import` at
// the start of a line counts, in docstrings too; comments do not.

/** `from X import (a, b)` over several lines, `from .x import y as z`, `import a.b as c, d`. */
const IMPORT_STATEMENT =
  /^[ \t]*(?:from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+(\([^)]*\)?|[^\n#;]*)|import[ \t]+([^\n#;]*))/gm;
/** importlib.import_module("a.b"), __import__('a'). */
const IMPORT_CALL = /(?:import_module|__import__)\(\s*['"]([\w.]+)['"]/g;
/** Any quoted dotted name ("pkg.tests.plugin"), for pytest_plugins lists and the like. */
const DOTTED_STRING = /['"]([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)['"]/g;

/** Names of a comma-separated import list, without `as` aliases, parentheses and comments. */
function listedNames(list: string): string[] {
  return list
    .replace(/#[^\n]*/g, '')
    .replace(/[()\\]/g, ' ')
    .split(',')
    .map((part) => part.trim().split(/\s+/)[0] ?? '')
    .filter((name) => /^[A-Za-z_][\w.]*$/.test(name));
}

export interface ScanOptions {
  /**
   * The package the file belongs to (`a.b` for a/b/c.py and for a/b/__init__.py), for relative
   * imports; null for a top-level module or a file outside any package (relative imports skipped).
   */
  readonly package?: string | null;
  /** Also count every quoted dotted name (a module named in a string: pytest_plugins, entry points). */
  readonly dottedStrings?: boolean;
}

/**
 * The absolute dotted names `text` imports. `from X import a, b` gives X, X.a and X.b (a and b
 * may be submodules), so a name matches a module when it is the module or lies inside it.
 */
export function importedNames(text: string, options: ScanOptions = {}): Set<string> {
  const names = new Set<string>();
  const pkg = options.package ?? null;
  for (const m of text.matchAll(IMPORT_STATEMENT)) {
    if (m[4] !== undefined) {
      for (const name of listedNames(m[4])) names.add(name);
      continue;
    }
    const level = m[1]!.length;
    let base = m[2]!;
    if (level > 0) {
      if (pkg === null) continue;
      const parts = pkg.split('.');
      if (level - 1 >= parts.length) continue; // beyond the top-level package: not importable
      const anchor = parts.slice(0, parts.length - (level - 1)).join('.');
      base = base === '' ? anchor : `${anchor}.${base}`;
    }
    if (base === '') continue;
    names.add(base);
    for (const name of listedNames(m[3]!)) names.add(`${base}.${name}`);
  }
  for (const m of text.matchAll(IMPORT_CALL)) names.add(m[1]!);
  if (options.dottedStrings === true) for (const m of text.matchAll(DOTTED_STRING)) names.add(m[1]!);
  return names;
}

/** Whether one of `names` is `module` or lies inside it (`a.b.c` is inside `a.b`, `a.bc` is not). */
export function importsModule(names: ReadonlySet<string>, module: string): boolean {
  if (names.has(module)) return true;
  const prefix = `${module}.`;
  for (const name of names) if (name.startsWith(prefix)) return true;
  return false;
}
