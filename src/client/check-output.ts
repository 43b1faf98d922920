// Renders loader-check reports for people (a libtree-style tree that says where each library was
// found and by which rule, or why it was not) and for programs (JSON).

import type { LoadReport, LoadedObject, SearchStep } from '../loader/types.js';
import { maxVersion } from '../loader/floors.js';
import { problemWords } from '../compat/allowed-missing.js';

const RULE_LABELS: Readonly<Record<string, string>> = {
  main: 'checked file',
  interpreter: 'interpreter',
  path: 'path in DT_NEEDED',
  rpath: 'rpath',
  'ld-library-path': 'LD_LIBRARY_PATH',
  runpath: 'runpath',
  'ld.so.cache': 'ld.so.cache',
  default: 'default path',
  'already-loaded': 'already loaded',
  'not-found': 'not found',
};

function describeSteps(steps: readonly SearchStep[]): string[] {
  return steps
    .filter((s) => s.outcome !== 'used')
    .map((s) => `${s.path} (${RULE_LABELS[s.source] ?? s.source}: ${s.outcome})`);
}

/** The dependency tree of one report, each object expanded once, like libtree. */
export function renderTree(report: LoadReport, showSearch: boolean): string[] {
  const lines: string[] = [];
  const root = report.objects[0];
  if (root === undefined) return lines;
  const into = report.loadedInto === undefined ? '' : `, dlopened into ${report.loadedInto}`;
  lines.push(`${report.file} (${report.kind}${into})`);
  const expanded = new Set<number>([0]);
  const children = new Map<number, { name: string; to: number; foundBy: string }[]>();
  for (const edge of report.edges) {
    const list = children.get(edge.from) ?? [];
    list.push(edge);
    children.set(edge.from, list);
  }
  const draw = (from: number, prefix: string): void => {
    const edges = children.get(from) ?? [];
    edges.forEach((edge, i) => {
      const last = i === edges.length - 1;
      const target: LoadedObject | undefined = report.objects[edge.to];
      const branch = prefix + (last ? '└── ' : '├── ');
      if (target === undefined || target.path === null) {
        lines.push(`${branch}${edge.name} not found`);
        if (showSearch && target !== undefined) {
          for (const step of describeSteps(target.searched))
            lines.push(`${prefix}${last ? '    ' : '│   '}    tried ${step}`);
        }
        return;
      }
      const again = expanded.has(edge.to);
      const rule = again ? 'already loaded' : (RULE_LABELS[target.foundBy] ?? target.foundBy);
      lines.push(`${branch}${edge.name} => ${target.path} [${rule}]`);
      if (!again) {
        expanded.add(edge.to);
        draw(edge.to, prefix + (last ? '    ' : '│   '));
      }
    });
  };
  draw(0, '');
  return lines;
}

/** Undefined symbols shown per file in text; the rest are counted (all of them are in --json). */
const SYMBOLS_SHOWN = 10;

function renderProblems(report: LoadReport): string[] {
  const lines: string[] = [];
  let symbols = 0;
  // What follows from a library allowed missing is never reached by ld.so: counted, not listed.
  const following = report.problems.filter((p) => p.allowedMissing !== undefined && p.kind !== 'missing-library');
  for (const problem of report.problems) {
    if (following.includes(problem)) continue;
    if (problem.kind === 'undefined-symbol' && ++symbols > SYMBOLS_SHOWN) continue;
    lines.push(`  ${problem.severity}: ${problemWords(problem)}`);
  }
  if (symbols > SYMBOLS_SHOWN) {
    const missing = report.problems.some((p) => p.kind === 'missing-library' || p.kind === 'missing-interpreter');
    lines.push(
      `  … and ${symbols - SYMBOLS_SHOWN} more undefined symbols` +
        `${missing ? ' (most would come from the missing libraries)' : ''}; --json lists all`,
    );
  }
  if (following.length > 0) {
    const sonames = [...new Set(following.map((p) => p.allowedMissing))].join(', ');
    lines.push(
      `  warning: ${following.length} undefined symbol${following.length === 1 ? '' : 's'} and versions follow ` +
        `from ${sonames}; --json lists them`,
    );
  }
  return lines;
}

export interface CheckSummary {
  readonly files: number;
  readonly loading: number;
  readonly failing: number;
  /** Of the failing: those missing only a library their bundle was allowed to ship without. */
  readonly allowedMissing: number;
  readonly errors: number;
  readonly warnings: number;
  readonly glibcFloor: string | null;
  readonly kernelFloor: string | null;
}

export function summarize(reports: readonly LoadReport[]): CheckSummary {
  const problems = reports.flatMap((r) => r.problems);
  return {
    files: reports.length,
    loading: reports.filter((r) => r.loads).length,
    failing: reports.filter((r) => !r.loads).length,
    allowedMissing: reports.filter((r) => !r.loads && r.problems.every((p) => p.severity !== 'error')).length,
    errors: problems.filter((p) => p.severity === 'error').length,
    warnings: problems.filter((p) => p.severity === 'warning').length,
    glibcFloor: maxVersion(reports.map((r) => r.glibcFloor)),
    kernelFloor: maxVersion(reports.map((r) => r.kernelFloor)),
  };
}

export interface TextOptions {
  /** Print the tree of every file, not only of those that would not load (and of a single file). */
  readonly tree: boolean;
  readonly hostLabel: string;
}

export function renderText(reports: readonly LoadReport[], options: TextOptions): string[] {
  const lines: string[] = [];
  for (const report of reports) {
    const withTree = options.tree || reports.length === 1 || !report.loads;
    if (withTree) lines.push(...renderTree(report, true));
    else lines.push(`${report.file}: loads`);
    lines.push(...renderProblems(report));
    if (withTree) lines.push('');
  }
  const s = summarize(reports);
  lines.push(
    `${s.files} file${s.files === 1 ? '' : 's'} checked on ${options.hostLabel}: ${s.loading} load, ` +
      `${s.failing} would not` +
      (s.allowedMissing > 0
        ? `, ${s.allowedMissing} of them only for want of a library allowed missing at build`
        : '') +
      ` (${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.warnings} warning${s.warnings === 1 ? '' : 's'})`,
    `glibc floor: ${s.glibcFloor ?? 'none'}; kernel floor: ${s.kernelFloor ?? 'none'}`,
  );
  return lines;
}

/** JSON without the per-object ELF details, which are large and belong to inventories. */
export function toJson(reports: readonly LoadReport[], hostLabel: string): unknown {
  return {
    host: hostLabel,
    summary: summarize(reports),
    files: reports.map((r) => ({
      file: r.file,
      kind: r.kind,
      ...(r.loadedInto === undefined ? {} : { loadedInto: r.loadedInto }),
      loads: r.loads,
      glibcFloor: r.glibcFloor,
      kernelFloor: r.kernelFloor,
      objects: r.objects.map(({ object: _object, ...rest }) => rest),
      edges: r.edges,
      problems: r.problems,
    })),
  };
}
