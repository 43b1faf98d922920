// The verify step's account of libraries found neither in the bundle nor on the build host. A file
// whose DT_NEEDED (or its dependency's) names such a library fails at its first missing library in
// a real run, so the undefined symbols and versions the emulation lists beside it follow from it
// (compat/allowed-missing.ts). Rather than hundreds of such lines, the build says once per soname
// which files need it and what to do: install it on the build host, so the graft step copies it in,
// or pass --allow-missing SONAME to ship without it (README "pyrelo build").

import type { LoadReport } from '../loader/types.js';

export interface MissingLibrary {
  readonly soname: string;
  /** Bundle-relative files whose DT_NEEDED names it. */
  readonly neededBy: readonly string[];
  readonly undefinedSymbols: number;
  readonly missingVersions: number;
}

/** How many files a paragraph names before it counts the rest. */
const FILES_SHOWN = 3;

export class MissingLibraries {
  private readonly bySoname = new Map<
    string,
    { neededBy: Set<string>; undefinedSymbols: number; missingVersions: number }
  >();

  /**
   * Takes the missing libraries of one report (its errors; allowed ones are warnings by then) and
   * what follows from them; returns the report's other errors. `local` makes a path bundle-relative.
   */
  take(report: LoadReport, local: (path: string) => string): LoadReport['problems'] {
    const errors = report.problems.filter((p) => p.severity === 'error');
    const missing = errors.filter((p) => p.kind === 'missing-library');
    if (missing.length === 0) return errors;
    for (const p of missing) {
      const entry = this.entry(p.library ?? p.message);
      entry.neededBy.add(local(p.requiredBy ?? report.file));
    }
    // Counted once, against the first missing library: where ld.so stops.
    const first = this.entry(missing[0]!.library ?? missing[0]!.message);
    first.undefinedSymbols += errors.filter((p) => p.kind === 'undefined-symbol').length;
    first.missingVersions += errors.filter((p) => p.kind === 'missing-version').length;
    return errors.filter(
      (p) => p.kind !== 'missing-library' && p.kind !== 'undefined-symbol' && p.kind !== 'missing-version',
    );
  }

  private entry(soname: string): { neededBy: Set<string>; undefinedSymbols: number; missingVersions: number } {
    let entry = this.bySoname.get(soname);
    if (entry === undefined) {
      entry = { neededBy: new Set(), undefinedSymbols: 0, missingVersions: 0 };
      this.bySoname.set(soname, entry);
    }
    return entry;
  }

  list(): MissingLibrary[] {
    return [...this.bySoname]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([soname, e]) => ({
        soname,
        neededBy: [...e.neededBy].sort(),
        undefinedSymbols: e.undefinedSymbols,
        missingVersions: e.missingVersions,
      }));
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One short paragraph: which files need it, what follows from it, and the two ways out. */
export function missingLibraryParagraph(m: MissingLibrary): string {
  const files =
    m.neededBy.slice(0, FILES_SHOWN).join(', ') +
    (m.neededBy.length > FILES_SHOWN ? ` and ${m.neededBy.length - FILES_SHOWN} more` : '');
  const follows = [
    m.undefinedSymbols > 0 ? plural(m.undefinedSymbols, 'undefined symbol') : '',
    m.missingVersions > 0 ? plural(m.missingVersions, 'missing version') : '',
  ]
    .filter((x) => x !== '')
    .join(' and ');
  return (
    `${m.soname}, needed by ${files}, is neither in the bundle nor on the build host` +
    `${follows === '' ? '' : ` (${follows} follow from it)`}: ` +
    `install it on the build host so it is grafted, or pass --allow-missing ${m.soname} to ship without it`
  );
}
