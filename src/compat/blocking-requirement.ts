// What keeps a bundle off a host, as one requirement that hosts can be grouped by (pyrelo compat's
// "needs GLIBC_2.34: blocks 12 hosts (rhel:8: 9, debian:11: 3)"): the first error of the result the
// host's verdict rests on, named by what it asks of the host rather than in the loader's words,
// which name files and differ from host to host.

import type { CheckResult, ProblemMessage } from '../proto/messages.js';
import { compareVersionParts } from '../loader/floors.js';

export interface Requirement {
  /** What the host lacks: "GLIBC_2.34", "libssl.so.3", "kernel 3.2.0", … */
  readonly requirement: string;
  /** The problem's kind (missing-version, missing-library, …), or smoke for a failed smoke run. */
  readonly kind: string;
}

const VERSION_NAME = /^(.*?)_(\d+(?:\.\d+)*)$/;

/** "GLIBC_2.34" as its family and numbers; null for a version name without them. */
function versionParts(name: string): { family: string; parts: number[] } | null {
  const match = VERSION_NAME.exec(name);
  return match === null ? null : { family: match[1]!, parts: match[2]!.split('.').map(Number) };
}

/**
 * For a missing symbol version, the highest version of the same family among the result's
 * problems: a host lacking GLIBC_2.32 and GLIBC_2.34 needs a glibc with 2.34, whichever the loader
 * met first.
 */
function highestMissing(first: ProblemMessage, problems: readonly ProblemMessage[]): string {
  const own = versionParts(first.version);
  if (own === null) return first.version;
  let best = own;
  let name = first.version;
  for (const p of problems) {
    if (p.kind !== 'missing-version' || p.severity !== 'error') continue;
    const other = versionParts(p.version);
    if (other === null || other.family !== own.family) continue;
    if (compareVersionParts(other.parts, best.parts) > 0) {
      best = other;
      name = p.version;
    }
  }
  return name;
}

function requirementOf(p: ProblemMessage, problems: readonly ProblemMessage[]): string {
  switch (p.kind) {
    case 'missing-version':
      return p.version === '' ? p.message : highestMissing(p, problems);
    case 'missing-library':
      return p.library || p.message;
    case 'missing-interpreter':
      return `the interpreter ${p.object}`;
    case 'kernel-too-old': {
      const kernel = /built for kernel (\S+) or newer/.exec(p.message);
      return kernel === null ? 'a newer kernel' : `kernel ${kernel[1]}`;
    }
    case 'isa-level':
      return 'a higher x86-64 ISA level';
    case 'wrong-architecture':
      return "the bundle's architecture";
    case 'undefined-symbol':
      return p.symbol === '' ? p.message : `symbol ${p.symbol}`;
    case 'static-tls':
      return 'more static TLS room';
    default:
      return p.message;
  }
}

/**
 * The requirement that decides a failing result: its first error, else its failed smoke run; null
 * when the result shows neither (it runs).
 */
export function blockingRequirement(result: CheckResult): Requirement | null {
  const first = result.problems.find((p) => p.severity === 'error');
  if (first !== undefined) return { requirement: requirementOf(first, result.problems), kind: first.kind };
  if (result.smokeRan && result.smokeExit !== 0)
    return { requirement: `a smoke run that passes (exit ${result.smokeExit})`, kind: 'smoke' };
  return null;
}
