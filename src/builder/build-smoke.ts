// Step "smoke" (`pyrelo build --smoke CMD`): the smoke command runs once in the staged bundle, in
// the clean environment an agent runs it in (src/compat/smoke.ts), with LD_DEBUG=files in its
// environment only, so that ld.so of it and of every child writes down what it loaded
// (ld-debug-trace.ts). What it dlopened at run time by name, invisible to DT_NEEDED, becomes the
// bundle's run-time needs (README, `--smoke`):
// - a library from the bundle, or glibc's (the graft policy), or opened by glibc itself (NSS
//   modules, gconv, libgcc_s for unwinding): nothing to do;
// - a library dlopened by name from the build host: grafted into lib/pyrelo-grafted under that
//   name, with what it needs, and the caller's RUNPATH names the graft folder, which is where
//   ld.so's search for a name dlopened by that caller looks (docs/loader-model.md, "dlopen");
// - a library dlopened by an absolute path outside the bundle: the process asks for that very
//   file, which no graft can change; the target must provide it (a host requirement).
// Only processes whose program is the bundle's count: host tools the app starts (sh, ldconfig
// run by ctypes.util.find_library) load host libraries that are none of the bundle's business.
// A smoke command that fails fails the build, with its output.
// The locales its setlocale calls succeeded with (the start-up hook writes them to the file
// PYRELO_SMOKE_LOCALES names, data/python/_pyrelo_host.py) are locales it depends on: a target that
// has not compiled one fails the check (README, "Locales").

import { closeSync, constants, fstatSync, mkdtempSync, openSync, readSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { walkBundle } from '../bundle/file-list.js';
import type { GraftedLibrary, RuntimeNeed } from '../bundle/manifest.js';
import { smokeEnvironment } from '../compat/smoke.js';
import { readBundleElf } from './bundle-elves.js';
import { GRAFT_DIR, graftLibraries, type ExtraGraft } from './graft.js';
import type { GraftPolicy } from './graft-policy.js';
import type { HostView } from '../loader/host-view.js';
import { programInBundle, readTraces, type SmokeTrace } from './ld-debug-trace.js';
import { stripDebug } from './runpath.js';
import { localeNameProblem, normalizeLocale } from '../bundle/locale-name.js';

const SMOKE_TIMEOUT_MS = 120_000;
const OUTPUT_SHOWN = 4000;
/** Bounds on what the smoke run's locale record is read for: a real app sets a few. */
const MAX_LOCALE_RECORD_BYTES = 64 * 1024;
const MAX_SMOKE_LOCALES = 32;

export interface SmokeStepResult {
  readonly summary: string;
  readonly runtimeNeeds: RuntimeNeed[];
  /** Libraries grafted for them (and what those need). */
  readonly grafted: GraftedLibrary[];
  /** Bundle-relative caller -> the names it dlopens that were grafted: its RUNPATH must find them. */
  readonly dlopened: Map<string, string[]>;
  /** Locale names the smoke run's setlocale succeeded with, first spelling of each, sorted. */
  readonly locales: string[];
}

/** The locales the hook wrote down (one name a line); names glibc would not take are ignored. */
export function readSmokeLocales(file: string): string[] {
  let text: string;
  // The smoke command is the application's code and may have put anything at that path (a huge
  // file, a FIFO, a link to /dev/zero): only a regular file is read, and only its first bytes.
  let fd: number | null = null;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFile()) return [];
    const bytes = Buffer.alloc(MAX_LOCALE_RECORD_BYTES);
    text = bytes.subarray(0, readSync(fd, bytes, 0, bytes.length, 0)).toString('utf8');
  } catch {
    return []; // no setlocale call with a name
  } finally {
    if (fd !== null) closeSync(fd);
  }
  const seen = new Map<string, string>();
  for (const name of text.split('\n')) {
    if (localeNameProblem(name) !== null || seen.has(normalizeLocale(name))) continue;
    seen.set(normalizeLocale(name), name);
    if (seen.size >= MAX_SMOKE_LOCALES) break;
  }
  return [...seen.values()].sort();
}

/** A run-time need as planned, with where the smoke run found it on the build host. */
export interface PlannedNeed extends RuntimeNeed {
  readonly origin: string;
}

/** Runs the smoke command; its trace, or an error with the command's output when it fails. */
export async function runTracedSmoke(
  bundle: string,
  smoke: readonly string[],
): Promise<{ trace: SmokeTrace; created: string[]; locales: string[] }> {
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-smoke-'));
  const listed = walkBundle(bundle);
  const before = new Set([...listed.files, ...listed.dirs]);
  try {
    const env = {
      ...smokeEnvironment(work),
      // The build must not change the bundle it is about to list in the manifest.
      PYTHONDONTWRITEBYTECODE: '1',
      LD_DEBUG: 'files',
      LD_DEBUG_OUTPUT: join(work, 'trace'),
      PYRELO_SMOKE_LOCALES: join(work, 'locales'),
    };
    const result = await execa(join(bundle, smoke[0]!), smoke.slice(1), {
      reject: false,
      all: true,
      timeout: SMOKE_TIMEOUT_MS,
      cwd: bundle,
      extendEnv: false,
      env,
      stdin: 'ignore',
    });
    if (result.exitCode !== 0) {
      const output = (result.all ?? '').toString().trim();
      const shown = output.length > OUTPUT_SHOWN ? `…${output.slice(-OUTPUT_SHOWN)}` : output;
      const how = result.timedOut
        ? `did not finish in ${SMOKE_TIMEOUT_MS / 1000} s`
        : `exited with ${result.exitCode ?? result.signal ?? 'an error'}`;
      throw new Error(
        `--smoke ${smoke.join(' ')}: ${how} in the staged bundle${shown === '' ? ' (no output)' : `:\n${shown}`}`,
      );
    }
    const after = walkBundle(bundle);
    const created = after.files.filter((f) => !before.has(f));
    for (const file of created) rmSync(join(bundle, file), { force: true });
    // Folders it made, deepest first (walkBundle lists a folder before what is in it).
    for (const dir of after.dirs.filter((d) => !before.has(d)).reverse())
      rmSync(join(bundle, dir), { recursive: true, force: true });
    return { trace: readTraces(work), created, locales: readSmokeLocales(join(work, 'locales')) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The run-time needs a trace shows (see the top of this file), sorted by name and caller. */
export function plannedNeeds(trace: SmokeTrace, bundle: string, policy: GraftPolicy): PlannedNeed[] {
  const roots = [...new Set([bundle, realpathSync(bundle)])];
  const bundleRelative = (path: string): string | null => {
    const root = roots.find((r) => path.startsWith(`${r}/`));
    return root === undefined ? null : relative(root, path);
  };
  // ld.so names a file dlopened by a relative path as given; the smoke run's folder is the bundle.
  const traced = trace.dlopens.map((d) => (isAbsolute(d.path) ? d : { ...d, path: resolve(bundle, d.path) }));
  const outside = traced.filter(
    (d) =>
      programInBundle(d.program, bundle, bundle) &&
      bundleRelative(d.path) === null &&
      !policy.assumed(d.name) &&
      !policy.assumed(basename(d.path)) &&
      !policy.assumed(basename(d.caller)),
  );
  // A library the app dlopened from the host may dlopen more itself; once grafted, that is its caller.
  const graftedAt = new Map(
    outside.filter((d) => !d.name.includes('/')).map((d) => [d.path, `${GRAFT_DIR}/${d.name}`]),
  );
  const needs = new Map<string, PlannedNeed>();
  for (const d of outside) {
    const caller = bundleRelative(d.caller) ?? graftedAt.get(d.caller);
    if (caller === undefined) continue;
    const byPath = d.name.includes('/');
    const name = byPath ? d.path : d.name;
    needs.set(`${name}\0${caller}`, { name, caller, grafted: byPath ? null : `${GRAFT_DIR}/${name}`, origin: d.path });
  }
  return [...needs.values()].sort((a, b) =>
    a.name === b.name ? (a.caller < b.caller ? -1 : 1) : a.name < b.name ? -1 : 1,
  );
}

/** Runs the step: smoke run, run-time needs, their grafts (RUNPATHs are the caller's job: see `dlopened`). */
export async function smokeStep(
  bundle: string,
  smoke: readonly string[],
  view: HostView,
  policy: GraftPolicy,
): Promise<SmokeStepResult> {
  const { trace, created, locales } = await runTracedSmoke(bundle, smoke);
  const needs = plannedNeeds(trace, bundle, policy);
  const toGraft = new Map<string, ExtraGraft>();
  const dlopened = new Map<string, string[]>();
  for (const need of needs) {
    if (need.grafted === null) continue;
    const known = toGraft.get(need.name);
    toGraft.set(need.name, {
      name: need.name,
      origin: known?.origin ?? need.origin,
      neededBy: [...(known?.neededBy ?? []), need.caller],
    });
    dlopened.set(need.caller, [...(dlopened.get(need.caller) ?? []), need.name]);
  }
  // What the grafted libraries need comes along, as for the graft step: they are checked where they
  // lie on the build host, as if already in the graft folder.
  const extra = [...toGraft.values()];
  const asGrafted = extra.map((e) => ({ ...readBundleElf(bundle, e.origin), rel: `${GRAFT_DIR}/${e.name}` }));
  const grafted = extra.length === 0 ? [] : (await graftLibraries(bundle, asGrafted, view, policy, extra)).grafted;
  await stripDebug(grafted.map((g) => join(bundle, g.path)));
  const programs = trace.processes.filter((p) => programInBundle(p.program, bundle, bundle)).length;
  const listed = needs.map(
    (n) => `${n.name} (${n.grafted === null ? 'the target must provide it' : 'grafted'}; dlopened by ${n.caller})`,
  );
  const summary =
    `ran ${smoke.join(' ')} once with LD_DEBUG=files: ${programs} programs of the bundle started, ` +
    `${trace.processes.length - programs} host programs ignored; ` +
    (needs.length === 0 ? 'no run-time needs outside the bundle and glibc' : `run-time needs: ${listed.join(', ')}`) +
    (locales.length > 0 ? `; set locales ${locales.join(', ')}` : '') +
    (created.length > 0 ? `; removed ${created.length} files it wrote into the bundle (${created.join(' ')})` : '');
  return {
    summary,
    runtimeNeeds: needs.map(({ name, caller, grafted: at }) => ({ name, caller, grafted: at })),
    grafted,
    dlopened,
    locales,
  };
}
