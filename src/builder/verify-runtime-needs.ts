// The verify step's part for run-time needs (the smoke run's dlopens by name, build-smoke.ts):
// each is checked on the build host as `pyrelo check` checks it (compat/runtime-need-check.ts),
// with the build's own rule on top: what it loads comes from the bundle or is glibc's. A need the
// target must provide (grafted null) is exempt from that rule only.

import type { RuntimeNeed } from '../bundle/manifest.js';
import type { BundleContext } from '../compat/bundle-rules.js';
import { runtimeNeedReports } from '../compat/runtime-need-check.js';
import type { HostView } from '../loader/host-view.js';
import type { GraftPolicy } from './graft-policy.js';

export interface RuntimeNeedsVerdict {
  readonly problems: string[];
  readonly glibcFloors: Array<string | null>;
  readonly kernelFloors: Array<string | null>;
}

export function verifyRuntimeNeeds(
  view: HostView,
  bundle: BundleContext,
  needs: readonly RuntimeNeed[],
  policy: GraftPolicy,
): RuntimeNeedsVerdict {
  const local = (text: string): string => text.split(`${bundle.root}/`).join('');
  const problems: string[] = [];
  const reports = runtimeNeedReports(view, bundle, [bundle], { needs, base: { cwd: bundle.root } });
  reports.forEach((report, i) => {
    const hostRequirement = needs[i]?.grafted === null;
    for (const object of report.objects) {
      if (hostRequirement || policy.assumed(object.name) || object.path === null) continue;
      if (!object.path.startsWith(`${bundle.root}/`))
        problems.push(`${local(report.file)}: ${object.name} comes from the build host (${object.path})`);
    }
    for (const problem of report.problems) {
      if (problem.severity === 'error') problems.push(`${local(report.file)}: ${local(problem.message)}`);
    }
  });
  return { problems, glibcFloors: reports.map((r) => r.glibcFloor), kernelFloors: reports.map((r) => r.kernelFloor) };
}
