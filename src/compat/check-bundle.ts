// Checks every ELF file of an unpacked bundle against one host view and condenses the reports into
// a CheckResult: the same answer `pyrelo check BUNDLE` gives, in the form the database stores. The
// server runs it against stored inventories (a prediction), the agent against its live host.

import { join, resolve } from 'node:path';
import { checkFile } from '../loader/check.js';
import type { HostView, LoaderConfig } from '../loader/host-view.js';
import { OverlayHostView } from '../loader/overlay-host.js';
import { RootHostView } from '../loader/root-host.js';
import { InventoryHostView } from '../inventory/inventory-host.js';
import type { Inventory } from '../inventory/format.js';
import { loaderConfigForRoot } from '../inventory/root-config.js';
import { findElfFiles } from '../elf/find-elf-files.js';
import { maxVersion } from '../loader/floors.js';
import { applyBundleRules, bundleCheckOptions, bundlesAmong, type BundleContext } from './bundle-rules.js';
import { localeProblems } from './host-locales.js';
import { bundledGlibcNssWarnings, readBundledGlibc } from './bundled-glibc-nss.js';
import { collectHostNss, type HostNss } from '../inventory/host-nss.js';
import { GLIBC_DIR } from '../bundle/layout.js';
import { buildHostLeftovers } from './leftovers.js';
import { runtimeNeedReports } from './runtime-need-check.js';
import { failsBundle, problemWords } from './allowed-missing.js';
import type { CheckKind, CheckResult, ProblemMessage } from '../proto/messages.js';
import type { LoadReport } from '../loader/types.js';

/**
 * Paths in messages name the folder the bundle was unpacked in, which differs between the server
 * and each agent; they are written relative to the bundle root so that a prediction and a run
 * compare equal ("bin/python3: ... (required by lib/libpython3.11.so.1.0)").
 */
function relativize(text: string, bundleDir: string): string {
  return text.split(`${bundleDir}/`).join('');
}

/**
 * What a bundle's check needs of the bundle alone: its ELF files, the pyrelo bundles among them,
 * the build-host leftovers, and a view of its folder whose parsed files are kept. The server makes
 * it once per bundle and shares it among the predictions of every inventory (issue 16, "Parse the
 * bundle side once"); it depends on the host only through the ELF class the host's loader wants.
 */
export interface BundleSide {
  readonly dir: string;
  readonly files: readonly string[];
  readonly bundles: ReturnType<typeof bundlesAmong>;
  readonly leftovers: ReturnType<typeof buildHostLeftovers>;
  readonly local: RootHostView;
}

export function bundleSide(bundleDir: string, config: LoaderConfig): BundleSide {
  const dir = resolve(bundleDir);
  return {
    dir,
    files: findElfFiles([dir]),
    bundles: bundlesAmong([dir]),
    // Scripts, .pth and sysconfig files that still name the build host: the bundle is broken there
    // even when every ELF loads.
    leftovers: buildHostLeftovers(dir),
    local: new RootHostView('/', config),
  };
}

/** The host's NSS as the bundled-glibc warnings need it (bundled-glibc-nss.ts), and its compiled locales. */
export interface HostNssFacts {
  readonly databases: Readonly<Record<string, readonly string[]>>;
  /** Where the host's own loader finds a module; null: nowhere. */
  readonly hostPath: (soname: string) => string | null;
  /** The host's compiled locales, as named on disk (host-locales.ts). */
  readonly locales: readonly string[];
}

export function hostNssFacts(nss: HostNss): HostNssFacts {
  const paths = new Map(nss.modules.map((m) => [m.soname, m.path]));
  return { databases: nss.databases, hostPath: (soname) => paths.get(soname) ?? null, locales: nss.locales };
}

/** The glibc that runs a bundle's setlocale: the bundled one, else the host's ("2.36"; null: unknown). */
export function setlocaleGlibc(bundle: BundleContext, view: HostView): string | null {
  if (bundle.libc === 'bundle') return readBundledGlibc(bundle.root)?.version ?? null;
  const v = view.config.glibcVersion;
  return v === null ? null : `${v[0]}.${v[1]}`;
}

/** Per needed locale the host has not compiled: a warning, or an error when the smoke run set it. */
function localeProblemMessages(view: HostView, bundles: readonly BundleContext[], nss: HostNssFacts): ProblemMessage[] {
  return bundles.flatMap((bundle) =>
    localeProblems(bundle.locales, nss.locales, setlocaleGlibc(bundle, view)).map((p) => ({
      kind: 'host-locale',
      severity: p.severity,
      message: p.message,
      file: 'pyrelo.json',
      object: 'pyrelo.json',
      requiredBy: '',
      library: p.name,
      version: '',
      symbol: '',
    })),
  );
}

/** Warnings for what a --libc bundle bundle cannot use of the host's NSS modules. */
function nssProblems(view: HostView, bundles: readonly BundleContext[], nss: HostNssFacts): ProblemMessage[] {
  const problems: ProblemMessage[] = [];
  for (const bundle of bundles.filter((b) => b.libc === 'bundle')) {
    const glibc = readBundledGlibc(bundle.root);
    if (glibc === null) continue;
    for (const w of bundledGlibcNssWarnings(view, glibc, nss.databases, nss.hostPath)) {
      const file = relativize(join(bundle.root, GLIBC_DIR, 'libc.so.6'), bundle.root);
      problems.push({
        kind: 'host-nss',
        severity: 'warning',
        message: w.message,
        file,
        object: file,
        requiredBy: '',
        library: w.soname,
        version: '',
        symbol: '',
      });
    }
  }
  return problems;
}

export function checkBundleOnView(
  view: HostView,
  bundleDir: string,
  meta: { digest: string; host: string; kind: CheckKind; inventorySha256?: string },
  nss?: HostNssFacts,
): CheckResult {
  return checkBundleSide(view, bundleSide(bundleDir, view.config), meta, nss);
}

/**
 * The reports that count. A file of another machine or ELF class is left out when its bundle's
 * interpreter runs on the host: wheels ship such files that the interpreter never loads (debuggers'
 * attach helpers for other architectures). When the interpreter itself is of another machine, the
 * whole bundle is for another machine and will not run: its interpreter's report comes first, in
 * the kernel's words (loader/foreign-file.ts), then the other files', so a deploy refuses it.
 */
function withoutStrayForeignFiles(reports: readonly LoadReport[], bundles: readonly BundleContext[]): LoadReport[] {
  // Compared as normalised absolute paths: a root given as "dir/" or "dir/./x" names the same files.
  const interpreters = new Set(bundles.flatMap((b) => (b.interpreter === null ? [] : [resolve(b.interpreter)])));
  const foreignInterpreters = new Set(
    reports.filter((r) => r.kind === 'foreign' && interpreters.has(resolve(r.file))).map((r) => resolve(r.file)),
  );
  const foreignRoots = bundles
    .filter((b) => b.interpreter !== null && foreignInterpreters.has(resolve(b.interpreter)))
    .map((b) => resolve(b.root));
  const inForeignBundle = (file: string): boolean =>
    foreignRoots.some((root) => resolve(file).startsWith(root === '/' ? root : `${root}/`));
  const first = reports.filter((r) => foreignInterpreters.has(resolve(r.file)));
  const rest = reports.filter(
    (r) => !foreignInterpreters.has(resolve(r.file)) && (r.kind !== 'foreign' || inForeignBundle(r.file)),
  );
  return [...first, ...rest];
}

/** The check of a prepared bundle on `view` (a host with the bundle's folder laid over it). */
export function checkBundleSide(
  view: HostView,
  side: BundleSide,
  meta: { digest: string; host: string; kind: CheckKind; inventorySha256?: string },
  nss?: HostNssFacts,
): CheckResult {
  const { dir, files, bundles, leftovers } = side;
  // A --libc bundle bundle is checked as its launcher starts it (bundled loader, --library-path),
  // as `pyrelo check` does: checked as plain programs, its files would need the host's glibc.
  const checked = files.map((file) =>
    applyBundleRules(checkFile(view, file, { ...bundleCheckOptions(file, bundles), cwd: dir }), file, bundles),
  );
  const reports = withoutStrayForeignFiles(checked, bundles).concat(
    bundles.flatMap((b) => runtimeNeedReports(view, b, bundles, { base: { cwd: dir } })),
  );
  const problems: ProblemMessage[] = [];
  for (const report of reports) {
    for (const p of report.problems) {
      problems.push({
        kind: p.kind,
        severity: p.severity,
        message: relativize(problemWords(p), dir),
        file: relativize(report.file, dir),
        object: relativize(p.object, dir),
        requiredBy: relativize(p.requiredBy ?? '', dir),
        library: p.library ?? '',
        version: p.version ?? '',
        symbol: p.symbol ?? '',
      });
    }
  }
  for (const l of leftovers) {
    problems.push({
      kind: 'build-host-path',
      severity: 'error',
      message: l.message,
      file: l.file,
      object: l.file,
      requiredBy: '',
      library: '',
      version: '',
      symbol: '',
    });
  }
  // NSS modules are dlopened by glibc at run time, not by the bundle: warnings, never a failure.
  if (nss !== undefined) problems.push(...nssProblems(view, bundles, nss));
  // A locale the smoke command sets and the host lacks fails it there; a declared one only warns.
  const locales = nss === undefined ? [] : localeProblemMessages(view, bundles, nss);
  problems.push(...locales);
  // A file missing only a library the bundle was allowed to ship without is a warning (allowed-missing.ts).
  const loads = !reports.some(failsBundle) && leftovers.length === 0 && !locales.some((p) => p.severity === 'error');
  return {
    bundleDigest: meta.digest,
    host: meta.host,
    kind: meta.kind,
    runs: loads,
    loads,
    problems,
    filesChecked: reports.length,
    glibcFloor: maxVersion(reports.map((r) => r.glibcFloor)) ?? '',
    smokeRan: false,
    smokeExit: 0,
    smokeOutput: '',
    checkedAt: new Date().toISOString(),
    inventorySha256: meta.inventorySha256 ?? '',
  };
}

/** The prediction for a host far away: its stored inventory with the bundle laid over it. */
export function predictBundle(
  inventory: Inventory,
  bundleDir: string,
  meta: { digest: string; host: string; inventorySha256: string },
): CheckResult {
  const base = new InventoryHostView(inventory, `inventory of ${meta.host}`);
  const nss = inventory.nss === undefined ? undefined : hostNssFacts(inventory.nss);
  return predictBundleSide(base, bundleSide(bundleDir, base.config), meta, nss);
}

/**
 * The prediction on a stored inventory's view (InventoryHostView, IndexedInventoryHostView) of a
 * prepared bundle side, which many predictions may share; `nss`, the inventory's NSS facts.
 */
export function predictBundleSide(
  base: HostView,
  side: BundleSide,
  meta: { digest: string; host: string; inventorySha256: string },
  nss?: HostNssFacts,
): CheckResult {
  const view = new OverlayHostView(base, side.local, [side.dir]);
  return checkBundleSide(view, side, { ...meta, kind: 'predicted' }, nss);
}

/** The check on the live host this process runs on (the agent). */
export function checkBundleHere(bundleDir: string, meta: { digest: string; host: string }): CheckResult {
  const view = new RootHostView('/', loaderConfigForRoot('/'));
  return checkBundleOnView(view, bundleDir, { ...meta, kind: 'verified' }, hostNssFacts(collectHostNss('/', view)));
}

/** What a prediction and a run are compared on: the verdict and the problems, not the paths. */
export function problemKey(p: ProblemMessage): string {
  return [p.severity, p.kind, p.file, p.library, p.version, p.symbol].join('\u0000');
}

export function sameVerdict(a: CheckResult, b: CheckResult): boolean {
  if (a.loads !== b.loads) return false;
  const ka = a.problems.map(problemKey).sort();
  const kb = b.problems.map(problemKey).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}
