// `pyrelo check PATH… [--root DIR | --inventory FILE] [--env NAME=VALUE] [--json] [--tree]`

import { checkFile, type CheckOptions } from '../../loader/check.js';
import { findElfFiles, InputError } from '../../elf/find-elf-files.js';
import { renderText, toJson } from '../check-output.js';
import { selectHost } from '../host-selection.js';
import { applyBundleRules, bundleCheckOptions, bundlesAmong, type BundleContext } from '../../compat/bundle-rules.js';
import { bundledGlibcNssWarnings, readBundledGlibc, type NssWarning } from '../../compat/bundled-glibc-nss.js';
import { hostNssFacts, setlocaleGlibc } from '../../compat/check-bundle.js';
import { localeProblems, type LocaleProblem } from '../../compat/host-locales.js';
import { collectHostNss, type HostNss } from '../../inventory/host-nss.js';
import { platformInventory } from '../../inventory/platform-catalog.js';
import { choosePlatform } from '../../compat/platform-prediction.js';
import { readInventory } from '../../inventory/read.js';
import { buildHostLeftovers } from '../../compat/leftovers.js';
import { runtimeNeedReports } from '../../compat/runtime-need-check.js';
import { allowedMissingLines, failsBundle } from '../../compat/allowed-missing.js';
import { resolve } from 'node:path';
import { writeJsonOut, writeOut } from '../../common/terminal-text.js';
import { givenPageSize } from './inventory.js';
import { defaultCacheDir, ParseCache } from '../../loader/parse-cache.js';
import { checkContext, rememberedCheck } from '../../loader/remembered-check.js';
import { RootHostView } from '../../loader/root-host.js';
import type { HostView } from '../../loader/host-view.js';
import type { LoadReport } from '../../loader/types.js';

export interface CheckCommandOptions {
  readonly root?: string;
  readonly inventory?: string;
  /** --platform NAME: a reference platform of data/platforms/ (platform-catalog.ts). */
  readonly platform?: string;
  readonly env: readonly string[];
  /** false with --no-proc (commander's negated option). */
  readonly proc?: boolean;
  readonly json?: boolean;
  readonly tree?: boolean;
  /** false with --no-cache: every file is read, and the parse cache is neither read nor written. */
  readonly cache?: boolean;
  /** --page-size N: the live host or --root as run on a kernel with pages of N bytes (docs/loader.md section 7). */
  readonly pageSize?: string;
}

/** The loader environment variables the emulation honours. */
function parseEnv(assignments: readonly string[]): Pick<CheckOptions, 'libraryPath'> {
  const result: { libraryPath?: string } = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new InputError(`--env ${assignment}`, 'expected NAME=VALUE');
    const name = assignment.slice(0, eq);
    const value = assignment.slice(eq + 1);
    if (name === 'LD_LIBRARY_PATH') result.libraryPath = value;
    else throw new InputError(`--env ${assignment}`, `${name} is not emulated (supported: LD_LIBRARY_PATH)`);
  }
  return result;
}

/**
 * checkFile, or with a cache over a live root (neither --inventory nor a laid-over folder) the
 * remembered check, which answers from earlier runs when nothing it read has changed. Files of a
 * bundle are always checked afresh: the bundle rules read more than the loader does.
 */
function checkerFor(
  view: HostView,
  parseCache: ParseCache | null,
): (path: string, options: CheckOptions) => LoadReport {
  if (parseCache === null || !(view instanceof RootHostView)) return (path, options) => checkFile(view, path, options);
  const contexts = new Map<string, string>();
  return (path, options) => {
    const key = JSON.stringify(options);
    let context = contexts.get(key);
    if (context === undefined) {
      context = checkContext(view.config, options);
      contexts.set(key, context);
    }
    return rememberedCheck(view, parseCache, context, path, options);
  };
}

export function runCheck(paths: readonly string[], options: CheckCommandOptions): number {
  const env = parseEnv(options.env);
  givenPageSize(options.pageSize); // refused before any file is read
  const files = findElfFiles(paths);
  if (files.length === 0) throw new InputError(paths.join(' '), 'no ELF files found');
  const parseCache =
    options.cache === false
      ? null
      : ParseCache.open(defaultCacheDir(), (message) => process.stderr.write(`pyrelo: warning: ${message}\n`));
  try {
    return checkFiles(paths, files, options, env, parseCache);
  } finally {
    parseCache?.close();
  }
}

/** A platform's NSS facts: its stored inventory's; none from facts alone (then no warnings). */
function platformNss(given: string): HostNss | undefined {
  const choice = choosePlatform(given);
  return platformInventory(choice.platform, choice.arch)?.nss;
}

/**
 * Per --libc bundle bundle, the host NSS modules its glibc cannot use (none listed: it can use all);
 * per bundle, the locales it needs that the host has not compiled.
 */
function hostNssWarnings(
  bundles: readonly BundleContext[],
  view: HostView,
  options: CheckCommandOptions,
): { nss: { bundle: string; warnings: NssWarning[] }[]; locales: { bundle: string; problems: LocaleProblem[] }[] } {
  const bundled = bundles.filter((b) => b.libc === 'bundle');
  if (bundled.length === 0 && bundles.every((b) => b.locales.length === 0)) return { nss: [], locales: [] };
  const facts =
    options.inventory !== undefined
      ? readInventory(options.inventory).nss
      : options.platform !== undefined
        ? platformNss(options.platform)
        : collectHostNss(options.root ?? '/', view);
  if (facts === undefined) return { nss: [], locales: [] }; // an inventory written before NSS facts were recorded
  const { databases, hostPath, locales } = hostNssFacts(facts);
  const localeLists = bundles.flatMap((b) => {
    const problems = localeProblems(b.locales, locales, setlocaleGlibc(b, view));
    return problems.length === 0 ? [] : [{ bundle: b.root, problems }];
  });
  const nss = bundled.flatMap((b) => {
    const glibc = readBundledGlibc(b.root);
    const warnings = glibc === null ? [] : bundledGlibcNssWarnings(view, glibc, databases, hostPath);
    return warnings.length === 0 ? [] : [{ bundle: b.root, warnings }];
  });
  return { nss, locales: localeLists };
}

function checkFiles(
  paths: readonly string[],
  files: readonly string[],
  options: CheckCommandOptions,
  env: Pick<CheckOptions, 'libraryPath'>,
  parseCache: ParseCache | null,
): number {
  // Paths in pyrelo bundles get the bundle rules, and their whole bundle is laid over the host.
  const bundles = bundlesAmong(paths);
  const host = selectHost(
    { ...options, pageSize: givenPageSize(options.pageSize) },
    [...paths, ...bundles.map((b) => b.root)],
    parseCache,
  );
  const check = checkerFor(host.view, bundles.length === 0 ? parseCache : null);
  const reports = files.map((file) =>
    applyBundleRules(
      check(host.toHostPath(file), {
        ...env,
        ...bundleCheckOptions(resolve(file), bundles, host.toHostPath),
        cwd: process.cwd(),
      }),
      resolve(file),
      bundles,
    ),
  );
  // What the checked files of a bundle dlopen by name at run time (manifest runtimeNeeds), like DT_NEEDED.
  const checked = new Set(files.map((f) => resolve(f)));
  reports.push(
    ...bundles.flatMap((b) =>
      runtimeNeedReports(host.view, b, bundles, {
        checked,
        toHostPath: host.toHostPath,
        base: { ...env, cwd: process.cwd() },
      }),
    ),
  );
  // What a --libc bundle bundle's glibc cannot use of the host's NSS modules: warnings (bundled-glibc-nss.ts).
  const { nss, locales } = hostNssWarnings(bundles, host.view, options);
  const localeErrors = locales.some((l) => l.problems.some((p) => p.severity === 'error'));
  // Build-host paths left in the bundles' scripts, .pth and sysconfig files (not ELF: not in the reports).
  const leftovers = bundles.flatMap((b) => buildHostLeftovers(b.root).map((l) => ({ bundle: b.root, ...l })));
  // File names, sonames, symbols and RUNPATHs come from the checked files and the host: a wheel's
  // DT_NEEDED may hold an escape sequence, so control characters are escaped (common/terminal-text.ts).
  if (options.json) {
    const json = {
      ...(toJson(reports, host.view.label) as object),
      leftovers,
      hostNss: nss,
      hostLocales: locales,
      ...(host.platform === undefined ? {} : { platform: host.platform }),
    };
    writeJsonOut(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const lines = renderText(reports, { tree: options.tree ?? false, hostLabel: host.view.label });
    for (const b of bundles) lines.push(...allowedMissingLines(b, reports, host.view.label, host.toHostPath(b.root)));
    for (const { bundle, warnings } of nss)
      lines.push(
        `${bundle}: the bundled glibc and ${host.view.label}'s NSS modules:`,
        ...warnings.map((w) => `  warning: ${w.message}`),
      );
    for (const { bundle, problems } of locales)
      lines.push(
        `${bundle}: the locales it needs and ${host.view.label}'s:`,
        ...problems.map((p) => `  ${p.severity}: ${p.message}`),
      );
    for (const b of bundles) {
      const own = leftovers.filter((l) => l.bundle === b.root);
      if (own.length > 0)
        lines.push(
          `${b.root}: ${own.length} build-host path${own.length === 1 ? '' : 's'} left in the bundle:`,
          ...own.map((l) => `  ${l.message}`),
        );
    }
    for (const doubt of host.platform?.uncertain ?? [])
      lines.push(`note: ${host.platform!.name}: not certain: ${doubt}`);
    writeOut(`${lines.join('\n')}\n`);
  }
  // A checked file that is not readable ELF is bad input, not a prediction.
  if (reports.some((r) => r.kind === 'unreadable')) return 2;
  // A file missing only a library its bundle was allowed to ship without does not fail the check.
  return !reports.some(failsBundle) && leftovers.length === 0 && !localeErrors ? 0 : 1;
}
