// bench/check: the whole of a library folder (default /usr/lib/x86_64-linux-gnu) checked three ways
// in one run: `pyrelo check` (one process for all files), `ldd -r` run on every file (what people
// script today), and libtree on every file. Prints files, seconds and ratios, and whether pyrelo's
// answers are identical to ldd -r's.
//
//   npm run bench:check [-- FOLDER]

import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { findElfFiles } from '../src/elf/find-elf-files.js';
import { parseTrace } from '../test/support/real-loader.js';

interface JsonReport {
  files: { file: string; objects: { index: number; name: string; path: string | null }[]; problems: { kind: string; symbol?: string; version?: string; object: string; requiredBy?: string }[] }[];
}

const here = dirname(fileURLToPath(import.meta.url));
const pyrelo = join(here, '..', 'src', 'client', 'main.js');

async function timed<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

function key(name: string, path: string | null): string {
  return `${name} => ${path ?? 'not found'}`;
}

async function main(): Promise<void> {
  const folder = process.argv[2] ?? '/usr/lib/x86_64-linux-gnu';
  const files = findElfFiles([folder]);
  console.log(`bench/check: ${files.length} ELF files under ${folder}`);

  const ours = await timed(async () => {
    const result = await execa('node', [pyrelo, 'check', '--json', ...files], { reject: false, maxBuffer: 1 << 30 });
    return JSON.parse(result.stdout) as JsonReport;
  });

  const ldd = await timed(async () => {
    const outputs: { stdout: string; stderr: string; exitCode: number }[] = [];
    for (const file of files) {
      const r = await execa('ldd', ['-r', file], { reject: false, env: { LC_ALL: 'C' }, extendEnv: false });
      outputs.push({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? 0 });
    }
    return outputs;
  });

  const libtree = await timed(async () => {
    let failures = 0;
    for (const file of files) {
      const r = await execa('libtree', ['-p', file], { reject: false });
      if (r.exitCode !== 0) failures += 1;
    }
    return failures;
  });

  // Same answers? Compare the loaded objects and the undefined symbols / missing versions per file.
  let identical = 0;
  const different: string[] = [];
  ours.value.files.forEach((report, i) => {
    // ldd merges ld.so's two streams into stdout: object lines start with a tab, messages do not.
    const { stdout, stderr, exitCode } = ldd.value[i]!;
    const lines = stdout.split('\n');
    const objectLines = lines.filter((l) => l.startsWith('\t')).join('\n');
    const messageLines = [...lines.filter((l) => l !== '' && !l.startsWith('\t')), stderr].join('\n');
    const trace = parseTrace(files[i]!, exitCode, objectLines, messageLines);
    if (trace.notDynamic) {
      identical += 1;
      return;
    }
    const predicted = report.objects.slice(1).map((o) => key(o.name, o.path)).join('\n');
    const real = trace.objects.map((o) => key(o.name, o.path)).join('\n');
    // ld.so prints an undefined symbol once per relocation naming it; compare the sets.
    const predictedSymbols = new Set(report.problems.filter((p) => p.kind === 'undefined-symbol').map((p) => `${p.symbol}@${p.version ?? ''} ${p.object}`));
    const realSymbols = new Set(trace.undefinedSymbols.map((u) => `${u.symbol}@${u.version ?? ''} ${u.object}`));
    const sameSymbols = predictedSymbols.size === realSymbols.size && [...realSymbols].every((k) => predictedSymbols.has(k));
    const predictedVersions = new Set(report.problems.filter((p) => p.kind === 'missing-version').map((p) => `${p.version} ${p.object} ${p.requiredBy}`));
    const realVersions = new Set(trace.versionErrors.filter((v) => !v.weak).map((v) => `${v.version} ${v.provider} ${v.requiredBy}`));
    const sameVersions = predictedVersions.size === realVersions.size && [...realVersions].every((k) => predictedVersions.has(k));
    if (predicted === real && sameSymbols && sameVersions) identical += 1;
    else different.push(report.file);
  });

  const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}x`;
  console.log(`pyrelo check (1 process): ${ours.seconds.toFixed(2)} s`);
  console.log(`ldd -r loop:              ${ldd.seconds.toFixed(2)} s   pyrelo is ${ratio(ldd.seconds, ours.seconds)} faster`);
  console.log(`libtree loop:             ${libtree.seconds.toFixed(2)} s   pyrelo is ${ratio(libtree.seconds, ours.seconds)} faster (libtree failed on ${libtree.value} files)`);
  console.log(`identical answers to ldd -r: ${identical}/${files.length}`);
  for (const file of different.slice(0, 10)) console.log(`  differs: ${file}`);
  if (different.length > 0) process.exitCode = 1;
}

await main();
