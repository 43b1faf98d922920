// Ground truth for the loader check on a whole system: every ELF under the given folders of a root
// is checked by pyrelo and traced by the real loader of that root (`ldd -r` semantics), and the two
// answers are compared file by file.

import { join } from 'node:path';
import { findElfFiles } from '../../src/elf/find-elf-files.js';
import { checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import type { LoadReport } from '../../src/loader/types.js';
import { compareWithRealLoader } from './compare.js';
import { traceManyWithRealLoader, type CommandRunner, type RealLoaderTrace } from './real-loader.js';

export interface GroundTruthResult {
  readonly root: string;
  readonly files: number;
  readonly agreeing: number;
  /**
   * Files ldd's `--verify` refuses, so ld.so never traces them (a static program, a foreign class,
   * a separate debug-info file whose PT_DYNAMIC is empty): compared by the objects loaded only.
   */
  readonly notDynamic: number;
  /** Files ld.so traced as "statically linked" (no DT_NEEDED): compared in full like the rest. */
  readonly noNeeded: number;
  readonly disagreements: readonly { file: string; differences: string[] }[];
  readonly reports: readonly LoadReport[];
  readonly traces: readonly RealLoaderTrace[];
}

export interface GroundTruthOptions {
  /**
   * Trace only this many files, spread evenly over the sorted list (every k-th), so that a slow
   * root (emulated) gives a small, stable sample in `npm test`; all files when absent.
   */
  readonly sample?: number;
}

/** `count` files spread evenly over `files` (sorted first, so the sample is the same each run). */
export function evenSample(files: readonly string[], count: number): string[] {
  const sorted = [...files].sort();
  if (count >= sorted.length) return sorted;
  const step = sorted.length / count;
  return Array.from({ length: count }, (_, i) => sorted[Math.floor(i * step)]!);
}

/**
 * `folders` are paths inside the root ('/usr/lib'); `runner` runs a command inside that root
 * (the host runner for '/', a chroot runner for a lab root).
 */
export async function groundTruth(
  rootDir: string,
  folders: readonly string[],
  runner?: CommandRunner,
  options: GroundTruthOptions = {},
): Promise<GroundTruthResult> {
  const hostPaths = findElfFiles(folders.map((f) => (rootDir === '/' ? f : join(rootDir, f))));
  const all = hostPaths.map((p) => (rootDir === '/' ? p : p.slice(rootDir.replace(/\/$/, '').length)));
  const files = options.sample === undefined ? all : evenSample(all, options.sample);
  const config = loaderConfigForRoot(rootDir);
  const view = new RootHostView(rootDir, config);
  const reports = files.map((file) => checkFile(view, file, { cwd: '/' }));
  // The root's own loader: its PT_INTERP path for the root's machine (aarch64 roots run it under qemu).
  const traces = await traceManyWithRealLoader(files, {
    bindNow: true,
    ldso: config.interpreter,
    ...(runner === undefined ? {} : { runner }),
  });
  const disagreements: { file: string; differences: string[] }[] = [];
  let notDynamic = 0;
  let noNeeded = 0;
  reports.forEach((report, i) => {
    const trace = traces[i]!;
    if (trace.notDynamic) notDynamic += 1;
    if (trace.noNeeded) noNeeded += 1;
    const differences = compareWithRealLoader(report, trace);
    if (differences.length > 0) disagreements.push({ file: report.file, differences });
  });
  return {
    root: rootDir,
    files: files.length,
    agreeing: files.length - disagreements.length,
    notDynamic,
    noNeeded,
    disagreements,
    reports,
    traces,
  };
}

export function describeGroundTruth(result: GroundTruthResult, limit = 15): string {
  const lines = [
    `ground truth on ${result.root}: ${result.agreeing}/${result.files} files agree with the real loader` +
      (` (${((100 * result.agreeing) / Math.max(1, result.files)).toFixed(2)} %), ${result.noNeeded} of them ` +
        'without DT_NEEDED') +
      (` ("statically linked", compared in full), ${result.notDynamic} refused by --verify (ld.so does not ` +
        'trace them: compared by the objects loaded only)'),
  ];
  for (const d of result.disagreements.slice(0, limit))
    lines.push(`  ${d.file}:`, ...d.differences.map((x) => `    ${x}`));
  if (result.disagreements.length > limit) lines.push(`  … and ${result.disagreements.length - limit} more`);
  return lines.join('\n');
}
