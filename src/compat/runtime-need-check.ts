// The run-time needs of a bundle (manifest `runtimeNeeds`, recorded by `pyrelo build --smoke`: a
// library its code dlopens by name) checked like DT_NEEDED entries: in a process of the bundle's
// interpreter, the caller is dlopened, then dlopen(name) is searched from the caller as ld.so does
// (docs/loader-model.md, "dlopen"). `pyrelo check`, the service's predictions and checks, and the
// build's verify step all add these reports to those of the bundle's files.

import { join } from 'node:path';
import { checkDlopenByName, type CheckOptions } from '../loader/check.js';
import type { HostView } from '../loader/host-view.js';
import type { LoadReport } from '../loader/types.js';
import { readManifest, type RuntimeNeed } from '../bundle/manifest.js';
import { bundleCheckOptions, type BundleContext } from './bundle-rules.js';
import { excuseAllowedMissing } from './allowed-missing.js';

/** The run-time needs a bundle's manifest records; none when it records none or cannot be read. */
export function manifestRuntimeNeeds(root: string): readonly RuntimeNeed[] {
  try {
    return readManifest(root).runtimeNeeds ?? [];
  } catch {
    return []; // An unreadable manifest is not the check's subject (bundlesAmong does the same).
  }
}

/** How a run-time need is named in reports: what was dlopened, and by which file. */
export function runtimeNeedLabel(name: string, callerPath: string): string {
  return `dlopen("${name}") by ${callerPath}`;
}

/**
 * One report per run-time need of `bundle` whose caller is among `checked` (local paths; null: all),
 * named by runtimeNeedLabel with the caller's host path. `needs` defaults to the manifest's.
 */
export function runtimeNeedReports(
  view: HostView,
  bundle: BundleContext,
  bundles: readonly BundleContext[],
  options: {
    readonly checked?: ReadonlySet<string> | null;
    readonly needs?: readonly RuntimeNeed[];
    readonly toHostPath?: (p: string) => string;
    readonly base?: CheckOptions;
  } = {},
): LoadReport[] {
  const toHostPath = options.toHostPath ?? ((p: string): string => p);
  const reports: LoadReport[] = [];
  for (const need of options.needs ?? manifestRuntimeNeeds(bundle.root)) {
    const caller = join(bundle.root, need.caller);
    if (options.checked !== undefined && options.checked !== null && !options.checked.has(caller)) continue;
    const rules = bundleCheckOptions(caller, bundles, toHostPath);
    // Without an interpreter nothing dlopens anything; the bundle's own files say why.
    if (rules.dlopenInto === undefined) continue;
    const report = checkDlopenByName(view, need.name, toHostPath(caller), {
      ...options.base,
      ...rules,
      dlopenInto: rules.dlopenInto,
    });
    // A soname allowed missing at build is excused here as in the bundle's own files: the need still
    // does not load (ld.so's words, as warnings), but the app was built knowing it (allowed-missing.ts).
    const problems = excuseAllowedMissing(report.problems, bundle.allowMissing);
    reports.push({ ...report, problems, file: runtimeNeedLabel(need.name, toHostPath(caller)) });
  }
  return reports;
}
