// bench/check: the whole of a library folder (default /usr/lib/x86_64-linux-gnu) checked four ways
// in one run: `pyrelo check` (one process for all files), three times: without the cache
// (--no-cache), with an empty one (cold: parsed files and whole results are stored) and with the
// filled one (warm: what repeated checks of unchanged files see; the cache is a fresh folder, so
// no earlier run counts); `ldd -r`
// run on every file (what people script today); the real loader doing the same work in few
// processes (the batched tracer the ground-truth tests use: one /bin/sh per 256 files running
// ldd's logic, see README "Testing"); and libtree on every file. Prints files, seconds and ratios,
// and whether each pyrelo run's answer equals the real loader's for EVERY file (files without
// DT_NEEDED and fatal errors included), compared as the ground-truth tests compare them.
//
//   npm run bench:check [-- FOLDER]

import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { findElfFiles } from '../src/elf/find-elf-files.js';
import type { LoadReport } from '../src/loader/types.js';
import { parseTrace, traceManyWithRealLoader, type RealLoaderTrace } from '../test/support/real-loader.js';
import { compareWithRealLoader } from '../test/support/compare.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The `pyrelo` executable as installed: package.json's bin, the one-file build (scripts/bundle-cli.mjs). */
const pyrelo = join(here, '..', 'pyrelo.mjs');

async function timed<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/**
 * ldd merges ld.so's two streams into its stdout (`2>&1`): object lines start with a tab, messages
 * do not, except ldd's own "\tnot a dynamic executable", which is a message.
 */
function lddTrace(file: string, r: { stdout: string; stderr: string; exitCode: number }): RealLoaderTrace {
  const lines = r.stdout.split('\n');
  const isObject = (l: string): boolean => l.startsWith('\t') && l !== '\tnot a dynamic executable';
  const objectLines = lines
    .filter(isObject)
    .map((l) => `${l}\n`)
    .join('');
  const messageLines = [
    ...lines.filter((l) => l !== '' && !isObject(l)),
    ...r.stderr.split('\n').filter((l) => l !== ''),
  ]
    .map((l) => `${l}\n`)
    .join('');
  return parseTrace(file, r.exitCode, objectLines, messageLines);
}

/** Files whose pyrelo answer equals the real loader's, and the first differences of the others. */
function agreement(
  reports: readonly LoadReport[],
  traces: readonly RealLoaderTrace[],
): { identical: number; different: { file: string; differences: string[] }[] } {
  const different: { file: string; differences: string[] }[] = [];
  reports.forEach((report, i) => {
    const differences = compareWithRealLoader(report, traces[i]!);
    if (differences.length > 0) different.push({ file: report.file, differences });
  });
  return { identical: reports.length - different.length, different };
}

async function main(): Promise<void> {
  const folder = process.argv[2] ?? '/usr/lib/x86_64-linux-gnu';
  const files = findElfFiles([folder]);
  console.log(`bench/check: ${files.length} ELF files under ${folder}`);

  const cacheDir = mkdtempSync(join(tmpdir(), 'pyrelo-bench-cache-'));
  // The time is pyrelo's: from its start until it has exited and its whole output is read. Reading
  // that output (8 MB of JSON for this folder) into objects for the comparison is the bench's work.
  const runPyrelo = async (flags: readonly string[]) => {
    const { seconds, value: result } = await timed(() =>
      execa('node', [pyrelo, 'check', '--json', ...flags, ...files], {
        reject: false,
        maxBuffer: 1 << 30,
        env: { PYRELO_CACHE: cacheDir },
      }),
    );
    if (result.stderr !== '')
      console.log(`pyrelo check ${flags.join(' ')} said on stderr: ${result.stderr.slice(0, 500)}`);
    // The JSON report's files are LoadReports without the parsed ELF objects, which the comparison does not read.
    const reports = (JSON.parse(result.stdout) as { files: LoadReport[] }).files;
    if (reports.length !== files.length)
      throw new Error(`pyrelo check answered for ${reports.length} of ${files.length} files`);
    return { seconds, value: reports };
  };
  const runs = [
    { label: 'pyrelo check --no-cache', run: await runPyrelo(['--no-cache']) },
    { label: 'pyrelo check, cold cache', run: await runPyrelo([]) },
    { label: 'pyrelo check, warm cache', run: await runPyrelo([]) },
  ];
  rmSync(cacheDir, { recursive: true, force: true });

  const ldd = await timed(async () => {
    const traces: RealLoaderTrace[] = [];
    for (const file of files) {
      const r = await execa('ldd', ['-r', file], { reject: false, env: { LC_ALL: 'C' }, extendEnv: false });
      traces.push(lddTrace(file, { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? 128 }));
    }
    return traces;
  });

  const batched = await timed(() => traceManyWithRealLoader(files, { bindNow: true, env: { LC_ALL: 'C' } }));

  const libtree = await timed(async () => {
    let failures = 0;
    for (const file of files) {
      const r = await execa('libtree', ['-p', file], { reject: false });
      if (r.code === 'ENOENT') return null;
      if (r.exitCode !== 0) failures += 1;
    }
    return failures;
  });

  // How pyrelo (b seconds) compares with a baseline taking a seconds, said either way round.
  const ratio = (a: number, b: number): string =>
    a >= b ? `${(a / b).toFixed(1)}x faster` : `${(b / a).toFixed(1)}x slower`;
  const row = (label: string, text: string): void => console.log(`${`${label}:`.padEnd(34)}${text}`);
  const shells = Math.ceil(files.length / 256);
  const baselines = [
    { label: 'ldd -r loop', seconds: ldd.seconds, note: '' },
    { label: `ld.so batched (${shells} sh process${shells === 1 ? '' : 'es'})`, seconds: batched.seconds, note: '' },
    ...(libtree.value === null
      ? []
      : [{ label: 'libtree loop', seconds: libtree.seconds, note: ` (libtree failed on ${libtree.value} files)` }]),
  ];
  for (const b of baselines) row(b.label, `${b.seconds.toFixed(2)} s${b.note}`);
  if (libtree.value === null) row('libtree loop', 'not run: libtree is not installed');
  for (const { label, run } of runs) {
    row(
      label,
      `${run.seconds.toFixed(2)} s   ` +
        `${baselines.map((b) => `${ratio(b.seconds, run.seconds)} than ${b.label.replace(/ \(.*/, '')}`).join(', ')}`,
    );
  }

  const noNeeded = batched.value.filter((t) => t.noNeeded).length;
  const notDynamic = batched.value.filter((t) => t.notDynamic).length;
  const fatal = batched.value.filter((t) => t.fatal !== null).length;
  let anyDifferent = false;
  for (const { label, run } of runs) {
    const byLdd = agreement(run.value, ldd.value);
    const byBatch = agreement(run.value, batched.value);
    console.log(
      `${label}: identical answers to ldd -r ${byLdd.identical}/${files.length}, to ld.so batched ` +
        `${byBatch.identical}/${files.length}`,
    );
    for (const [against, result] of [
      ['ldd -r', byLdd],
      ['ld.so batched', byBatch],
    ] as const) {
      for (const d of result.different.slice(0, 10))
        console.log(`  differs from ${against}: ${d.file}\n    ${d.differences.slice(0, 3).join('\n    ')}`);
    }
    if (byLdd.different.length > 0 || byBatch.different.length > 0) anyDifferent = true;
  }
  console.log(`(${noNeeded} files without DT_NEEDED, ${fatal} with a fatal error, ${notDynamic} not traced by ld.so)`);
  if (anyDifferent) process.exitCode = 1;
}

await main();
