// Compares the real loader's verdict on one file with pyrelo's: both must say "loads", or both must
// say "does not", and then the reason ld.so gave (dlerror() reports only the first failure) must be
// among the errors pyrelo predicts (same kind, same library, version or symbol).

import type { RealVerdict } from './real-load.js';

/** One problem in the few words both sides can be compared on. */
export interface ProblemKey {
  readonly kind: string;
  /** The library (missing-library), version (missing-version) or symbol (undefined-symbol); '' otherwise. */
  readonly what: string;
}

export interface PyreloProblem {
  readonly kind: string;
  readonly severity: string;
  readonly message: string;
  readonly library?: string;
  readonly version?: string;
  readonly symbol?: string;
  /**
   * A library the bundle was allowed to ship without, which this problem follows from: a warning,
   * the file still fails.
   */
  readonly allowedMissing?: string;
}

/**
 * The problems that make pyrelo say a file does not load: errors, and warnings excused by a library
 * allowed missing.
 */
function failures(v: PyreloVerdict): PyreloProblem[] {
  return v.problems.filter((p) => p.severity === 'error' || p.allowedMissing !== undefined);
}

export interface PyreloVerdict {
  readonly loads: boolean;
  readonly kind: string;
  readonly problems: readonly PyreloProblem[];
}

/**
 * ld.so's words (dlerror(), or what the interpreter printed when it could not start) read as a
 * problem key; see docs/loader.md sections 1, 5, 6 and 9 for the message forms.
 */
export function parseLoaderMessage(message: string, exitCode: number): ProblemKey {
  let m = /([^\s:]+): cannot open shared object file/.exec(message);
  if (m !== null) return { kind: 'missing-library', what: m[1]! };
  m = /version `([^']+)' not found/.exec(message);
  if (m !== null) return { kind: 'missing-version', what: m[1]! };
  m = /undefined symbol: ([^\s,]+)/.exec(message);
  if (m !== null) return { kind: 'undefined-symbol', what: m[1]! };
  if (/CPU ISA level is lower than required/.test(message)) return { kind: 'isa-level', what: '' };
  if (/cannot allocate memory in static TLS block/.test(message)) return { kind: 'static-tls', what: '' };
  // The kernel could not exec the interpreter's PT_INTERP: the shell says "not found" (exit 127).
  if (exitCode === 127 && /not found|No such file/.test(message)) return { kind: 'missing-interpreter', what: '' };
  return { kind: 'other', what: message };
}

export function pyreloKey(p: PyreloProblem): ProblemKey {
  switch (p.kind) {
    case 'missing-library':
      return { kind: p.kind, what: p.library ?? '' };
    case 'missing-version':
      return { kind: p.kind, what: p.version ?? '' };
    case 'undefined-symbol':
      return { kind: p.kind, what: p.symbol ?? '' };
    case 'missing-interpreter':
      return { kind: p.kind, what: '' };
    case 'program-fails': {
      // "LIB: not loaded: PROGRAM, which loads it, does not start (ld.so's words for the program)":
      // the real loader prints the program's own failure, so that is what compares.
      const m = /does not start \((.*)\)$/.exec(p.message);
      return m === null ? { kind: p.kind, what: '' } : parseLoaderMessage(m[1]!, 127);
    }
    default:
      return { kind: p.kind, what: '' };
  }
}

export type Outcome =
  'agree-loads' | 'agree-fails' | 'real-loads-pyrelo-not' | 'pyrelo-loads-real-not' | 'reason-differs' | 'not-checked';

export interface Comparison {
  readonly file: string;
  readonly root: string;
  readonly libc: string;
  readonly outcome: Outcome;
  readonly real: RealVerdict;
  readonly pyrelo: PyreloVerdict | undefined;
  /** The real loader's reason as a key (when it failed). */
  readonly realKey: ProblemKey | null;
}

export function compareOne(
  file: string,
  root: string,
  libc: string,
  real: RealVerdict,
  pyrelo: PyreloVerdict | undefined,
): Comparison {
  const realKey = real.loaded ? null : parseLoaderMessage(real.message, real.exitCode);
  const base = { file, root, libc, real, pyrelo, realKey };
  if (pyrelo === undefined) return { ...base, outcome: 'not-checked' };
  if (real.loaded && pyrelo.loads) return { ...base, outcome: 'agree-loads' };
  if (real.loaded) return { ...base, outcome: 'real-loads-pyrelo-not' };
  if (pyrelo.loads) return { ...base, outcome: 'pyrelo-loads-real-not' };
  const errors = failures(pyrelo).map(pyreloKey);
  const matched = errors.some((k) => k.kind === realKey!.kind && k.what === realKey!.what);
  return { ...base, outcome: matched ? 'agree-fails' : 'reason-differs' };
}

export function isAgreement(c: Comparison): boolean {
  return c.outcome === 'agree-loads' || c.outcome === 'agree-fails';
}

/** pyrelo's errors in its own words, shortest first, for a report line. */
export function pyreloWords(v: PyreloVerdict | undefined, max = 3): string {
  if (v === undefined) return 'not checked';
  if (v.loads) return 'loads';
  const errors = failures(v);
  const shown = errors.slice(0, max).map((p) => p.message);
  return `would not load: ${shown.join(' | ')}${errors.length > max ? ` (+${errors.length - max} more)` : ''}`;
}

export function realWords(v: RealVerdict): string {
  return v.loaded ? 'loaded' : `exit ${v.exitCode}: ${v.message}`;
}

/**
 * Disagreements grouped by what went wrong (outcome, the real loader's kind of failure, pyrelo's
 * first error kind), each with its count and one example in both sides' words.
 */
export function groupDisagreements(all: readonly Comparison[]): string[] {
  const groups = new Map<string, Comparison[]>();
  for (const c of all.filter((x) => !isAgreement(x))) {
    const firstError = c.pyrelo === undefined ? undefined : failures(c.pyrelo)[0];
    const key =
      `${c.outcome}; real: ${c.realKey === null ? 'loaded' : c.realKey.kind}; pyrelo: ` +
      `${c.pyrelo === undefined ? 'not checked' : firstError === undefined ? 'loads' : firstError.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const lines: string[] = [];
  for (const [key, members] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    const roots = [...new Set(members.map((m) => `${m.root}/${m.libc}`))].sort().join(' ');
    const example = members[0]!;
    lines.push(`  ${members.length} × ${key} (in ${roots})`);
    lines.push(`    e.g. [${example.root} ${example.libc}] ${example.file}`);
    lines.push(`      real loader: ${realWords(example.real)}`);
    lines.push(`      pyrelo:      ${pyreloWords(example.pyrelo)}`);
  }
  return lines;
}

/** Counts per outcome and per kind of real problem, and every disagreement in both sides' words. */
export function summarizeComparisons(all: readonly Comparison[]): string[] {
  const lines: string[] = [];
  const agreements = all.filter(isAgreement).length;
  const byOutcome = new Map<string, number>();
  for (const c of all) byOutcome.set(c.outcome, (byOutcome.get(c.outcome) ?? 0) + 1);
  const kinds = new Map<string, number>();
  for (const c of all) {
    if (c.realKey === null) continue;
    const k = `${c.realKey.kind}${c.realKey.kind === 'other' ? '' : c.realKey.what === '' ? '' : ` ${c.realKey.what}`}`;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const pct = all.length === 0 ? 100 : (100 * agreements) / all.length;
  lines.push(
    `${all.length} file loads compared: ${agreements} agree (${pct.toFixed(2)} %), ${all.length - agreements} disagree`,
  );
  lines.push(
    `  outcomes: ${[...byOutcome]
      .sort((a, b) => b[1] - a[1])
      .map(([o, n]) => `${o} ${n}`)
      .join(', ')}`,
  );
  if (kinds.size > 0) {
    lines.push('  real loader failures by kind:');
    for (const [k, n] of [...kinds].sort((a, b) => b[1] - a[1])) lines.push(`    ${n} × ${k}`);
  }
  const disagreements = all.filter((c) => !isAgreement(c));
  if (disagreements.length > 0) {
    lines.push('  disagreements:');
    for (const c of disagreements) {
      lines.push(`    [${c.root} ${c.libc}] ${c.file}: ${c.outcome}`);
      lines.push(`      real loader: ${realWords(c.real)}`);
      lines.push(`      pyrelo:      ${pyreloWords(c.pyrelo)}`);
    }
  }
  return lines;
}
