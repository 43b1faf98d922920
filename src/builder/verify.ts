// Step "verify": the bundle rules `pyrelo check` applies (compat/bundle-rules.ts: libraries
// dlopened into the bundle's interpreter, --libc bundle programs started through the bundled
// loader, $ORIGIN-relative RUNPATHs only), run over every ELF of the finished bundle on the build
// host, plus one rule of the build's own: everything not assumed by the graft policy must come
// from inside the bundle. The highest GLIBC_x.y and kernel any file needs become the bundle's floors.

import { checkFile } from '../loader/check.js';
import { maxVersion } from '../loader/floors.js';
import type { HostView } from '../loader/host-view.js';
import { applyBundleRules, bundleCheckOptions, bundleContext } from '../compat/bundle-rules.js';
import { nonOriginElements } from '../bundle/origin-relative.js';
import type { LibcPolicy, RuntimeNeed } from '../bundle/manifest.js';
import { verifyRuntimeNeeds } from './verify-runtime-needs.js';
import type { BundleElf } from './bundle-elves.js';
import type { GraftPolicy } from './graft-policy.js';
import { MissingLibraries, missingLibraryParagraph, type MissingLibrary } from './missing-libraries.js';
import { problemWords } from '../compat/allowed-missing.js';
import { throughAllowedMissing } from './allowed-missing-record.js';

export interface VerifyResult {
  readonly summary: string;
  readonly glibcFloor: string | null;
  readonly kernelFloor: string | null;
  /** Human-readable problems, but for missing libraries; empty when the bundle is self-contained. */
  readonly problems: string[];
  /** Libraries found neither in the bundle nor on the build host, not allowed missing: the build fails. */
  readonly missing: MissingLibrary[];
  /** Per file, in ld.so's words: a library allowed missing (--allow-missing) is not on the build host either. */
  readonly warnings: string[];
}

/** How the bundle will start: its libc mode and its interpreter (relative to the bundle, as in the manifest). */
export interface BundleStart {
  readonly libc: LibcPolicy;
  readonly executable: string;
  /** What the build's smoke run dlopened by name (build-smoke.ts); checked like DT_NEEDED entries. */
  readonly runtimeNeeds?: readonly RuntimeNeed[];
  /** --allow-missing: sonames the bundle ships without (compat/allowed-missing.ts). */
  readonly allowMissing?: readonly string[];
  /** --preload-only: library files (relative to the bundle) checked as preloaded (compat/bundle-rules.ts). */
  readonly preloadOnly?: readonly string[];
}

export function absoluteRunpathElements(elf: Pick<BundleElf, 'runpath' | 'rpath'>): string[] {
  return nonOriginElements(elf).map((e) => e.element);
}

/** `view`: the build host (build-host.ts), as the bundle's files are now. */
export function verifyBuiltBundle(
  bundle: string,
  elves: readonly BundleElf[],
  view: HostView,
  policy: GraftPolicy,
  start: BundleStart,
): VerifyResult {
  const bundles = [bundleContext(bundle, start.libc, start.executable, start.allowMissing, start.preloadOnly)];
  const allowed = bundles[0]!.allowMissing;
  const local = (text: string): string => text.split(`${bundle}/`).join('');
  const problems: string[] = [];
  const missing = new MissingLibraries();
  const warnings: string[] = [];
  const glibc: Array<string | null> = [];
  const kernel: Array<string | null> = [];
  for (const elf of elves) {
    // ld.so refuses such a file before anything else. The loader check below applies the rules of
    // the build host's glibc only; a bundle must map under every glibc's rules.
    for (const problem of elf.loadProblems) problems.push(`${elf.rel}: ${problem}`);
    if (!elf.dynamic) continue;
    const report = applyBundleRules(
      checkFile(view, elf.path, { ...bundleCheckOptions(elf.path, bundles), cwd: bundle }),
      elf.path,
      bundles,
    );
    glibc.push(report.glibcFloor);
    kernel.push(report.kernelFloor);
    for (const object of report.objects.slice(1)) {
      if (policy.assumed(object.name) || throughAllowedMissing(report.objects, object, allowed)) continue;
      if (object.path === null) continue; // reported below, in ld.so's words
      if (!object.path.startsWith(`${bundle}/`))
        problems.push(`${elf.rel}: ${object.name} comes from the build host (${object.path})`);
    }
    for (const problem of missing.take(report, local))
      problems.push(
        `${elf.rel}: ${local(problem.message)}${problem.kind === 'static-tls' ? preloadHint(elf.rel) : ''}`,
      );
    for (const problem of report.problems) {
      if (problem.kind === 'missing-library' && problem.allowedMissing !== undefined)
        warnings.push(`${elf.rel}: ${local(problemWords(problem))}`);
    }
  }
  const runtime = verifyRuntimeNeeds(view, bundles[0]!, start.runtimeNeeds ?? [], policy);
  problems.push(...runtime.problems);
  glibc.push(...runtime.glibcFloors);
  kernel.push(...runtime.kernelFloors);
  const glibcFloor = maxVersion(glibc);
  const kernelFloor = maxVersion(kernel);
  const without =
    warnings.length === 0
      ? ''
      : `, but ${warnings.length} need ${[...allowed].sort().join(' ')} (--allow-missing) and load only where ` +
        'the target has it';
  return {
    summary:
      `${elves.length} ELF files load from the bundle and glibc only${without}; glibc floor ` +
      `${glibcFloor ?? 'none'}, kernel floor ${kernelFloor ?? 'none'}`,
    glibcFloor,
    kernelFloor,
    problems,
    missing: missing.list(),
    warnings,
  };
}

/**
 * A library whose initial-exec TLS does not fit a dlopen may still be meant for LD_PRELOAD only
 * (ray preloads its jemalloc into its workers): then the build should check it that way.
 */
function preloadHint(rel: string): string {
  return ` (if it is only ever loaded with LD_PRELOAD, never dlopened, pass --preload-only ${rel})`;
}

/** Why the build stops: a paragraph per missing library, then every other problem; null when none. */
export function notSelfContained(result: VerifyResult): string | null {
  const lines = [...result.missing.map(missingLibraryParagraph), ...result.problems];
  return lines.length === 0 ? null : `the bundle is not self-contained:\n  ${lines.join('\n  ')}`;
}
