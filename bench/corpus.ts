// bench/corpus: ground truth on the world's wheels. The corpus (test/corpus/corpus.lock.json: the
// most downloaded PyPI projects with cp311 manylinux x86_64 wheels) is fetched once into a cached
// wheelhouse, installed into its bundles in both libc modes (built once, cached by their inputs),
// and in every lab root every ELF library of every bundle is loaded by a fresh process of the
// bundle's own interpreter and checked by `pyrelo check --root`. Prints files, agreements, the kinds
// of failures, and every disagreement grouped (all of them, in both sides' words, go to a JSON file).
//
//   npm run bench:corpus [-- --roots bullseye,bookworm] [--libc host|bundle] [--bundles
// corpus-1,corpus-2] [--jobs 2] [--out FILE]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BASE_PYTHON } from '../test/builder/wheelhouse.js';
import { parseArgs } from 'node:util';
import { LAB_ROOT_NAMES, type LabRootName } from '../test/lab/lab.js';
import { BuildFailed, ensureCorpusBundle, ensureCorpusWheelhouse, BUNDLE_CACHE } from '../test/corpus/corpus-cache.js';
import { normalizeName, readLock, type CorpusBundle } from '../test/corpus/corpus-lock.js';
import { compareInRoot, type BundleUnderTest } from '../test/corpus/corpus-run.js';
import {
  groupDisagreements,
  isAgreement,
  realWords,
  pyreloWords,
  summarizeComparisons,
  type Comparison,
} from '../test/corpus/compare.js';

function list(value: string | undefined, all: readonly string[]): string[] {
  if (value === undefined) return [...all];
  const chosen = value.split(',').filter((v) => v !== '');
  const unknown = chosen.filter((v) => !all.includes(v));
  if (unknown.length > 0) throw new Error(`unknown ${unknown.join(', ')} (one of ${all.join(', ')})`);
  return chosen;
}

/** Runs `jobs` of the tasks at once, in order; results in task order. */
async function pool<T>(tasks: (() => Promise<T>)[], jobs: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

/**
 * The names of every distribution `project` installs (itself included), as pip resolves it in the
 * wheelhouse under the bundle's pins.
 */
async function closure(project: string, bundle: CorpusBundle, wheelhouse: string): Promise<Set<string>> {
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-corpus-closure-'));
  try {
    const constraints = join(work, 'constraints.txt');
    writeFileSync(constraints, `${bundle.requirements.join('\n')}\n`);
    const r = await execa(BASE_PYTHON, [
      '-m',
      'pip',
      'install',
      '--dry-run',
      '--quiet',
      '--disable-pip-version-check',
      '--no-index',
      '--find-links',
      wheelhouse,
      '--ignore-installed',
      '-c',
      constraints,
      '--report',
      '-',
      project,
    ]);
    const report = JSON.parse(r.stdout) as { install: { metadata: { name: string } }[] };
    return new Set(report.install.map((i) => normalizeName(i.metadata.name)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A bundle pyrelo build refused, built again without the packages its failure names and without
 * the projects that install them: the rest of the bundle still gets its ground truth, and the
 * refusal itself is reported.
 */
async function withoutRefused(
  bundle: CorpusBundle,
  named: readonly string[],
  wheelhouse: string,
): Promise<{ bundle: CorpusBundle; dropped: string[] } | null> {
  if (named.length === 0) return null;
  const kept: string[] = [];
  const keptDistributions = new Set<string>();
  for (const project of bundle.projects) {
    const installs = await closure(project, bundle, wheelhouse);
    if (named.some((n) => installs.has(n))) continue;
    kept.push(project);
    for (const d of installs) keptDistributions.add(d);
  }
  const dropped = bundle.projects.filter((p) => !kept.includes(p));
  if (dropped.length === 0 || kept.length === 0) return null;
  return {
    bundle: {
      name: `${bundle.name}-without-${named.join('-')}`,
      projects: kept,
      requirements: bundle.requirements.filter((r) => keptDistributions.has(normalizeName(r.split('==')[0]!))),
    },
    dropped,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      roots: { type: 'string' },
      libc: { type: 'string' },
      bundles: { type: 'string' },
      jobs: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const lock = readLock();
  const roots = list(values.roots, LAB_ROOT_NAMES) as LabRootName[];
  const modes = list(values.libc, ['host', 'bundle']) as ('host' | 'bundle')[];
  const bundles = lock.bundles.filter((b) =>
    list(
      values.bundles,
      lock.bundles.map((x) => x.name),
    ).includes(b.name),
  );
  const jobs = Number(values.jobs ?? 2);
  const out = values.out ?? `${BUNDLE_CACHE}/last-run.json`;
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;

  console.log(
    `bench/corpus: ${lock.projects.length} projects in ${lock.bundles.length} bundles, ${lock.wheels.length} ` +
      `wheels (${(lock.downloadBytes / 1e6).toFixed(0)} MB); left out: ` +
      `${lock.leftOut.map((l) => `${l.name} (${l.reason})`).join('; ')}`,
  );
  const wheelhouse = await ensureCorpusWheelhouse(lock.wheels);
  console.log(`wheelhouse ${wheelhouse} ready at ${elapsed()}`);

  // Builds one at a time (each uses both cores for bytecode and pip); the loads then run `jobs` roots at once.
  const built: BundleUnderTest[] = [];
  const refusals: string[] = [];
  const allowedMissing: string[] = [];
  for (const bundle of bundles) {
    for (const libc of modes) {
      const log = (line: string): void => console.log(`  ${line}`);
      // A refusal for libraries found nowhere (numba's optional libtbb, pyodbc's system libodbc) is
      // built again with --allow-missing for them, as their users would; any other refusal names
      // packages, and the bundle is built again without them until it builds.
      const named: string[] = [];
      const allowMissing: string[] = [];
      const preloadOnly: string[] = [];
      let attempt = bundle;
      for (;;) {
        try {
          const dir = await ensureCorpusBundle(
            { name: attempt.name, requirements: attempt.requirements, libc, wheelhouse, allowMissing, preloadOnly },
            log,
          );
          built.push({ name: attempt.name, libc, dir });
          break;
        } catch (error) {
          if (!(error instanceof BuildFailed)) throw error;
          const sonames = error.missingSonames().filter((n) => !allowMissing.includes(n));
          if (sonames.length > 0) {
            allowMissing.push(...sonames);
            allowedMissing.push(`${attempt.name} --libc ${libc}: --allow-missing ${sonames.join(' ')}`);
            console.log(`  building ${attempt.name} again with --allow-missing ${sonames.join(' ')}`);
            continue;
          }
          // A library only ever preloaded (ray's jemalloc): its users pass --preload-only, as the refusal says.
          const preloads = error.preloadOnlyPaths().filter((p) => !preloadOnly.includes(p));
          if (preloads.length > 0) {
            preloadOnly.push(...preloads);
            allowedMissing.push(`${attempt.name} --libc ${libc}: --preload-only ${preloads.join(' ')}`);
            console.log(`  building ${attempt.name} again with --preload-only ${preloads.join(' ')}`);
            continue;
          }
          refusals.push(error.message);
          console.log(`  ${error.message.split('\n').join('\n    ')}`);
          const more = error
            .namedPackages()
            .map(normalizeName)
            .filter((n) => !named.includes(n));
          if (more.length === 0) break;
          named.push(...more);
          const smaller = await withoutRefused(bundle, named, wheelhouse);
          if (smaller === null) break;
          console.log(`  building ${bundle.name} again without ${smaller.dropped.join(', ')}`);
          attempt = smaller.bundle;
        }
      }
    }
  }
  console.log(`${built.length} bundles ready at ${elapsed()}`);

  const all: Comparison[] = [];
  const tasks = built.flatMap((b) =>
    roots.map((root) => async () => {
      const run = await compareInRoot(b, root);
      const agree = run.comparisons.filter(isAgreement).length;
      console.log(
        `  ${b.name} --libc ${b.libc} in ${root}: ${run.comparisons.length} libraries, ${agree} agree (real ` +
          `loads ${run.realSeconds.toFixed(0)} s, check ${run.checkSeconds.toFixed(0)} s) at ${elapsed()}`,
      );
      all.push(...run.comparisons);
      return run;
    }),
  );
  const runs = await pool(tasks, jobs);
  const programs = runs.reduce((n, r) => n + r.others, 0);

  const summary = summarizeComparisons(all);
  const cut = summary.findIndex((l) => l === '  disagreements:');
  console.log('');
  console.log((cut < 0 ? summary : summary.slice(0, cut)).join('\n'));
  console.log(
    `  (${programs} program files across the runs are not dlopened: interpreters and executables shipped in wheels)`,
  );
  if (cut >= 0) {
    console.log('  disagreements by kind:');
    console.log(groupDisagreements(all).join('\n'));
  }
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        roots,
        modes,
        bundles: built,
        refusals,
        allowedMissing,
        seconds: (Date.now() - started) / 1000,
        disagreements: all
          .filter((c) => !isAgreement(c))
          .map((c) => ({
            file: c.file,
            root: c.root,
            libc: c.libc,
            outcome: c.outcome,
            real: realWords(c.real),
            pyrelo: pyreloWords(c.pyrelo, 20),
          })),
      },
      null,
      1,
    )}\n`,
  );
  if (allowedMissing.length > 0) console.log(`built with libraries allowed missing:\n  ${allowedMissing.join('\n  ')}`);
  if (refusals.length > 0)
    console.log(
      `pyrelo build refused ${refusals.length} corpus bundle${refusals.length === 1 ? '' : 's'}:\n` +
        `${refusals.join('\n')}`,
    );
  console.log(`every disagreement in ${out}; ${all.length} loads in ${elapsed()}`);
  if (all.some((c) => !isAgreement(c)) || refusals.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
});
