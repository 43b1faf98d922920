// Step "verify": the loader emulation run over every ELF of the finished bundle on the build host:
// everything not assumed by the graft policy must come from inside the bundle, no RUNPATH may be
// absolute, and the highest GLIBC_x.y and kernel any of them needs become the bundle's floors.

import { relative } from 'node:path';
import { checkFile } from '../loader/check.js';
import { maxVersion } from '../loader/floors.js';
import { RootHostView } from '../loader/root-host.js';
import { loaderConfigForRoot } from '../inventory/root-config.js';
import type { BundleElf } from './bundle-elves.js';
import type { GraftPolicy } from './graft-policy.js';

export interface VerifyResult {
  readonly summary: string;
  readonly glibcFloor: string | null;
  readonly kernelFloor: string | null;
  /** Human-readable problems; empty when the bundle is self-contained. */
  readonly problems: string[];
}

export function absoluteRunpathElements(elf: Pick<BundleElf, 'runpath' | 'rpath'>): string[] {
  return [elf.runpath, elf.rpath].filter((p): p is string => p !== null).flatMap((p) => p.split(':'))
    .filter((e) => !e.startsWith('$ORIGIN') && !e.startsWith('${ORIGIN}'));
}

export function verifyBundle(bundle: string, elves: readonly BundleElf[], policy: GraftPolicy): VerifyResult {
  const view = new RootHostView('/', loaderConfigForRoot('/'));
  const problems: string[] = [];
  const glibc: Array<string | null> = [];
  const kernel: Array<string | null> = [];
  for (const elf of elves) {
    for (const element of absoluteRunpathElements(elf)) problems.push(`${elf.rel}: RUNPATH element ${element} is not $ORIGIN-relative`);
    // ld.so refuses such a file before anything else. The loader check below applies the rules of
    // the build host's glibc only; a bundle must map under every glibc's rules.
    for (const problem of elf.loadProblems) problems.push(`${elf.rel}: ${problem}`);
    if (!elf.dynamic) continue;
    const report = checkFile(view, elf.path, {});
    glibc.push(report.glibcFloor);
    kernel.push(report.kernelFloor);
    for (const object of report.objects.slice(1)) {
      if (policy.assumed(object.name)) continue;
      if (object.path === null) problems.push(`${elf.rel}: needs ${object.name}, found nowhere`);
      else if (!object.path.startsWith(`${bundle}/`)) problems.push(`${elf.rel}: ${object.name} comes from the build host (${object.path})`);
    }
    for (const problem of report.problems) {
      if (problem.severity !== 'error') continue;
      // Extension modules leave the Python C API undefined: the interpreter that dlopens them defines it.
      if (problem.kind === 'undefined-symbol' && report.kind === 'library') continue;
      problems.push(`${relative(bundle, report.file)}: ${problem.message}`);
    }
  }
  const glibcFloor = maxVersion(glibc);
  const kernelFloor = maxVersion(kernel);
  return {
    summary: `${elves.length} ELF files load from the bundle and glibc only; glibc floor ${glibcFloor ?? 'none'}, kernel floor ${kernelFloor ?? 'none'}`,
    glibcFloor,
    kernelFloor,
    problems,
  };
}
