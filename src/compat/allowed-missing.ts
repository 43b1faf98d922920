// Libraries a bundle was allowed to ship without (`pyrelo build --allow-missing SONAME`, manifest
// `allowMissing`; README "pyrelo build"). A file that needs one loads only where the target
// provides it. Where it does not, the file's report still says what ld.so says (the file does not
// load: dlopen fails with "SONAME: cannot open shared object file"), but as warnings: the bundle
// was built knowing it, so neither the check's exit status nor a deploy fails for it.
//
// ld.so maps every dependency before it checks a version or binds a symbol, and stops at the first
// library it cannot find (docs/loader-model.md, "dlopen"). The undefined symbols and missing
// versions the emulation lists beside a missing library are therefore never reached in a real run:
// they follow from it and are excused with it. Anything ld.so would refuse first (the file itself
// unmappable, another library missing that was not allowed) stays an error.

import type { LoadReport, Problem, ProblemKind } from '../loader/types.js';
import type { BundleContext } from './bundle-rules.js';

const FOLLOWING: ReadonlySet<ProblemKind> = new Set(['undefined-symbol', 'missing-version']);

/** The problems of one bundle file's report once `allowed` (sonames allowed missing) is applied. */
export function excuseAllowedMissing(problems: readonly Problem[], allowed: ReadonlySet<string>): Problem[] {
  if (allowed.size === 0) return [...problems];
  const missing = problems.filter((p) => p.kind === 'missing-library' && p.severity === 'error');
  const cause = missing.find((p) => allowed.has(p.library ?? ''));
  if (cause === undefined || missing.some((p) => !allowed.has(p.library ?? ''))) return [...problems];
  return problems.map((p): Problem => {
    if (p.severity !== 'error') return p;
    if (p.kind === 'missing-library') return { ...p, severity: 'warning', allowedMissing: p.library ?? '' };
    if (FOLLOWING.has(p.kind)) return { ...p, severity: 'warning', allowedMissing: cause.library ?? '' };
    return p;
  });
}

/** Whether a report fails its bundle: an error, not a file that is only missing an allowed library. */
export function failsBundle(report: LoadReport): boolean {
  return report.problems.some((p) => p.severity === 'error');
}

/** A problem in ld.so's words, with what excuses it when a soname allowed missing does. */
export function problemWords(problem: Problem): string {
  return problem.allowedMissing === undefined
    ? problem.message
    : `${problem.message} (${problem.allowedMissing} was allowed missing at build)`;
}

/**
 * What `pyrelo check` says of each soname `bundle` was allowed to ship without, given the reports
 * of its files: missing on this host (the files that need it will not load, warnings above), or
 * found (they load). Nothing when no checked file needs it. `hostRoot`: where the host view sees the bundle.
 */
export function allowedMissingLines(
  bundle: BundleContext,
  reports: readonly LoadReport[],
  hostLabel: string,
  hostRoot: string = bundle.root,
): string[] {
  const lines: string[] = [];
  // The bundle's files, and its run-time needs, labelled `dlopen("NAME") by CALLER` (runtime-need-check.ts).
  const own = reports.filter((r) => r.file.startsWith(`${hostRoot}/`) || r.file.includes(`") by ${hostRoot}/`));
  for (const soname of [...bundle.allowMissing].sort()) {
    const missing = own.filter((r) =>
      r.problems.some((p) => p.kind === 'missing-library' && p.allowedMissing === soname),
    );
    const found = own.flatMap((r) =>
      r.objects.filter((o) => o.path !== null && (o.name === soname || o.aliases.includes(soname))).map((o) => o.path!),
    );
    if (missing.length > 0) {
      lines.push(
        `${bundle.root}: ${soname} was allowed missing at build and is not on ${hostLabel}: ` +
          `${missing.length === 1 ? '1 file that needs it' : `${missing.length} files that need it`} will not ` +
          'load (warnings above)',
      );
    } else if (found.length > 0) {
      lines.push(
        `${bundle.root}: ${soname} was allowed missing at build and is on ${hostLabel} (${found[0]}): the ` +
          'files that need it load',
      );
    }
  }
  return lines;
}
