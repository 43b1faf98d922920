// Compares pyrelo's loader prediction with what the real ld.so printed for the same file, and
// lists every difference in words a person can act on. An empty list means they agree on the
// objects loaded (names, paths, order), the fatal error, the missing versions, the "no version
// information" warnings, the undefined symbols and the verdict, and that ld.so printed nothing the
// parser did not understand. A file without DT_NEEDED (ld.so's "statically linked") is compared
// like any other: ld.so still checks its versions and binds its symbols.

import type { LoadReport } from '../../src/loader/types.js';
import type { RealLoaderTrace } from './real-loader.js';

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

function diffSets(label: string, predicted: string[], real: string[]): string[] {
  const p = new Set(predicted);
  const r = new Set(real);
  const differences: string[] = [];
  for (const value of r) if (!p.has(value)) differences.push(`${label}: ld.so says ${value}, pyrelo does not`);
  for (const value of p) if (!r.has(value)) differences.push(`${label}: pyrelo says ${value}, ld.so does not`);
  return differences;
}

/** The objects after the checked file, as ld.so's trace lists them: "name => path" or "name => not found". */
function predictedObjects(report: LoadReport): string[] {
  return report.objects.slice(1).map((o) => `${o.name} => ${o.path ?? 'not found'}`);
}

/** The verdict ld.so's trace implies: no fatal error, nothing missing, every version and symbol found. */
function realLoads(trace: RealLoaderTrace): boolean {
  return (
    trace.fatal === null &&
    trace.objects.every((o) => o.path !== null) &&
    trace.versionErrors.every((v) => v.weak) &&
    trace.undefinedSymbols.length === 0
  );
}

export function compareWithRealLoader(report: LoadReport, trace: RealLoaderTrace): string[] {
  const differences: string[] = [];
  // A line nobody parsed is a word of ld.so nobody compared.
  for (const line of trace.unrecognized)
    differences.push(`ld.so printed a line the comparison does not understand: ${JSON.stringify(line)}`);
  const fatal = report.problems.find((p) => p.kind === 'unloadable-object');
  if (trace.notDynamic) {
    // ldd's --verify refuses it (a relocatable object, a static program): nothing is loaded either way.
    if (report.objects.length > 1)
      differences.push(`ld.so says not dynamic, pyrelo loads ${report.objects.length - 1} objects`);
    return differences;
  }
  if (trace.fatal !== null || fatal !== undefined) {
    if (trace.fatal === null)
      return [...differences, `pyrelo predicts a fatal error (${fatal!.message}), ld.so traced the file`];
    if (fatal === undefined)
      return [...differences, `ld.so stopped with "${trace.fatal}", pyrelo predicts no fatal error`];
    if (!trace.fatal.endsWith(fatal.message))
      differences.push(`fatal error differs: ld.so "${trace.fatal}", pyrelo "${fatal.message}"`);
    return differences;
  }
  // A trace that ended badly without saying why (a crash) is no answer to agree with.
  if (trace.exitCode !== 0) differences.push(`ld.so exited with status ${trace.exitCode} and no error message`);
  // "statically linked" replaces the list: only the file itself is loaded (ld.so leaves its own map
  // out of the namespace when nothing needs it).
  const real = trace.objects.map((o) => `${o.name} => ${o.path ?? 'not found'}`);
  const predicted = predictedObjects(report);
  if (real.join('\n') !== predicted.join('\n')) {
    const shown = (list: string[]): string =>
      list.length === 0 ? (trace.noNeeded ? '(statically linked: nothing)' : '(nothing)') : list.join('\n            ');
    differences.push(`objects differ:\n    ld.so:  ${shown(real)}\n    pyrelo: ${shown(predicted)}`);
  }
  differences.push(
    ...diffSets(
      'missing version',
      report.problems
        .filter((p) => p.kind === 'missing-version' || p.kind === 'weak-version')
        .map(
          (p) => `${p.object}: ${p.kind === 'weak-version' ? 'weak ' : ''}${p.version} (required by ${p.requiredBy})`,
        ),
      trace.versionErrors.map(
        (v) => `${v.provider}: ${v.weak ? 'weak ' : ''}${v.version} (required by ${v.requiredBy})`,
      ),
    ),
  );
  differences.push(
    ...diffSets(
      'no version information',
      report.problems
        .filter((p) => p.kind === 'no-version-information')
        .map((p) => `${p.object} (required by ${p.requiredBy})`),
      trace.noVersionInfo.map((n) => `${n.provider} (required by ${n.requiredBy})`),
    ),
  );
  differences.push(
    ...diffSets(
      'undefined symbol',
      sorted(
        report.problems
          .filter((p) => p.kind === 'undefined-symbol')
          .map((p) => `${p.symbol}${p.version ? `@${p.version}` : ''} in ${p.object}`),
      ),
      sorted(trace.undefinedSymbols.map((u) => `${u.symbol}${u.version ? `@${u.version}` : ''} in ${u.object}`)),
    ),
  );
  if (report.loads !== realLoads(trace)) {
    differences.push(
      `verdict differs: ld.so's trace says it ${realLoads(trace) ? 'loads' : 'does not load'}, pyrelo says it ` +
        `${report.loads ? 'loads' : 'does not'}` +
        ` (pyrelo's errors: ${
          report.problems
            .filter((p) => p.severity === 'error')
            .map((p) => p.message)
            .join('; ') || 'none'
        })`,
    );
  }
  return differences;
}
