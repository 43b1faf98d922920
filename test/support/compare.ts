// Compares pyrelo's loader prediction with what the real ld.so printed for the same file, and
// lists every difference in words a person can act on. An empty list means they agree on the
// objects loaded (names, paths, order), the fatal error, the missing versions and undefined symbols.

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

export function compareWithRealLoader(report: LoadReport, trace: RealLoaderTrace): string[] {
  const differences: string[] = [];
  const fatal = report.problems.find((p) => p.kind === 'unloadable-object');
  if (trace.notDynamic) {
    // ldd's --verify refuses it (a relocatable object, a static program): nothing is loaded either way.
    if (report.objects.length > 1) differences.push(`ld.so says not dynamic, pyrelo loads ${report.objects.length - 1} objects`);
    return differences;
  }
  if (trace.fatal !== null || fatal !== undefined) {
    if (trace.fatal === null) return [`pyrelo predicts a fatal error (${fatal!.message}), ld.so traced the file`];
    if (fatal === undefined) return [`ld.so stopped with "${trace.fatal}", pyrelo predicts no fatal error`];
    if (!trace.fatal.endsWith(fatal.message)) differences.push(`fatal error differs: ld.so "${trace.fatal}", pyrelo "${fatal.message}"`);
    return differences;
  }
  const real = trace.objects.map((o) => `${o.name} => ${o.path ?? 'not found'}`);
  const predicted = predictedObjects(report);
  if (real.join('\n') !== predicted.join('\n')) {
    differences.push(`objects differ:\n    ld.so:  ${real.join('\n            ')}\n    pyrelo: ${predicted.join('\n            ')}`);
  }
  differences.push(...diffSets('missing version',
    report.problems.filter((p) => p.kind === 'missing-version' || p.kind === 'weak-version')
      .map((p) => `${p.object}: ${p.kind === 'weak-version' ? 'weak ' : ''}${p.version} (required by ${p.requiredBy})`),
    trace.versionErrors.map((v) => `${v.provider}: ${v.weak ? 'weak ' : ''}${v.version} (required by ${v.requiredBy})`)));
  differences.push(...diffSets('undefined symbol',
    sorted(report.problems.filter((p) => p.kind === 'undefined-symbol').map((p) => `${p.symbol}${p.version ? `@${p.version}` : ''} in ${p.object}`)),
    sorted(trace.undefinedSymbols.map((u) => `${u.symbol}${u.version ? `@${u.version}` : ''} in ${u.object}`))));
  return differences;
}
