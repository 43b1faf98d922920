// Whole check results kept across runs in the parse cache's file (parse-cache.ts). A check reads
// the host only through HostView.open (docs/loader.md), so its answer is decided by the host's
// configuration, the options, and what open() found at each path it asked for, absent paths
// included. A result is stored with the signature of every one of those paths
// (RootHostView.signatureOf) and used again only when every signature is still the same: a
// library replaced, removed or newly appearing earlier in a search path makes the check run again.

import { createHash } from 'node:crypto';
import { checkFile, type CheckOptions } from './check.js';
import type { LoaderConfig } from './host-view.js';
import { ParseCache } from './parse-cache.js';
import type { RootHostView } from './root-host.js';
import type { LoadReport } from './types.js';

/** A digest of what, besides the files, decides a check: the host's loader configuration and the options. */
export function checkContext(config: LoaderConfig, options: CheckOptions): string {
  const text = JSON.stringify({ config, options }, (_key, value: unknown) =>
    typeof value === 'bigint' ? `${value}n` : value,
  );
  return createHash('sha256').update(text).digest('hex');
}

type Dependencies = readonly (readonly [path: string, signature: string])[];

/**
 * checkFile(host, path, options), answered from the cache when every path the stored result
 * opened still has the same signature. Reports read back carry no parsed objects (`object` is
 * null in each): they are for output. A check as a dlopen (options.dlopenInto) is not remembered:
 * it reuses the program's report from earlier checks of the run, whose paths it would not record.
 */
export function rememberedCheck(
  host: RootHostView,
  cache: ParseCache,
  context: string,
  path: string,
  options: CheckOptions,
): LoadReport {
  if (options.dlopenInto !== undefined) return checkFile(host, path, options);
  const stored = cache.getResult(context, path);
  if (stored !== null) {
    const dependencies = JSON.parse(stored.dependencies) as Dependencies;
    if (dependencies.every(([dependency, signature]) => host.signatureOf(dependency).signature === signature)) {
      return JSON.parse(stored.report) as LoadReport;
    }
  }
  const { value: report, paths } = host.record(() => checkFile(host, path, options));
  const signatures = paths.map((p) => ({ path: p, ...host.signatureOf(p) }));
  // A file written in the last seconds may change again without its signature changing.
  if (!signatures.some((s) => s.mtimeNs !== null && ParseCache.isRacy(s.mtimeNs))) {
    const dependencies: Dependencies = signatures.map((s) => [s.path, s.signature]);
    const withoutObjects = { ...report, objects: report.objects.map((o) => ({ ...o, object: null })) };
    cache.putResult(context, path, {
      dependencies: JSON.stringify(dependencies),
      report: JSON.stringify(withoutObjects),
    });
  }
  return report;
}
