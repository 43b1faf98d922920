// One bundle in one lab root, both sides: every ELF library of the bundle loaded by the real loader
// (real-load.ts) and checked by `pyrelo check --root ROOT BUNDLE --json`, then compared file by file.

import { readManifest } from '../../src/bundle/manifest.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ElfFile } from '../../src/elf/elf-file.js';
import { findElfFiles } from '../../src/elf/find-elf-files.js';
import { DF_1_PIE, ET_DYN } from '../../src/elf/constants.js';
import { ensureRoot, type LabRootName } from '../lab/lab.js';
import { compareOne, type Comparison, type PyreloVerdict } from './compare.js';
import { loadEachInRoot } from './real-load.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYRELO = join(here, '..', '..', 'src', 'client', 'main.js');

/**
 * The bundle's ELF files split into what dlopen can open (ET_DYN without DF_1_PIE: extension
 * modules, the libraries in `*.libs/`, libpython, grafted and bundled glibc libraries) and the rest
 * (programs: the interpreter, executables shipped in wheels), which no dlopen loads.
 */
export function bundleElfFiles(bundleDir: string): { libraries: string[]; others: string[] } {
  const libraries: string[] = [];
  const others: string[] = [];
  for (const file of findElfFiles([bundleDir])) {
    let dlopenable = false;
    try {
      const elf = ElfFile.open(file);
      try {
        dlopenable =
          elf.header.e_type === ET_DYN && ((elf.dynamic()?.flags1 ?? 0) & DF_1_PIE) === 0 && elf.dynamic() !== null;
      } finally {
        elf.close();
      }
    } catch {
      dlopenable = false;
    }
    (dlopenable ? libraries : others).push(file);
  }
  return { libraries, others };
}

interface CheckJson {
  files: { file: string; kind: string; loads: boolean; problems: PyreloVerdict['problems'] }[];
}

/** `pyrelo check --root ROOT BUNDLE --json`: a verdict per file. */
export async function pyreloVerdicts(root: string, bundleDir: string): Promise<Map<string, PyreloVerdict>> {
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-corpus-check-'));
  try {
    const out = join(work, 'check.json');
    const r = await execa('node', [PYRELO, 'check', '--root', root, bundleDir, '--json'], {
      reject: false,
      stdout: { file: out },
    });
    if (r.exitCode !== 0 && r.exitCode !== 1)
      throw new Error(`pyrelo check --root ${root} ${bundleDir} failed (exit ${r.exitCode}): ${r.stderr}`);
    const json = JSON.parse(readFileSync(out, 'utf8')) as CheckJson;
    return new Map(json.files.map((f) => [f.file, { loads: f.loads, kind: f.kind, problems: f.problems }]));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface BundleUnderTest {
  readonly name: string;
  readonly libc: 'host' | 'bundle';
  readonly dir: string;
}

export interface RootRun {
  readonly comparisons: Comparison[];
  readonly others: number;
  readonly realSeconds: number;
  readonly checkSeconds: number;
}

/** Every library of the bundle in the named root: real loads and pyrelo's check, compared. */
export async function compareInRoot(bundle: BundleUnderTest, rootName: LabRootName): Promise<RootRun> {
  const root = await ensureRoot(rootName);
  const { libraries, others } = bundleElfFiles(bundle.dir);
  const started = Date.now();
  const preloaded = new Set((readManifest(bundle.dir).preloadOnly ?? []).map((p) => join(bundle.dir, p)));
  const real = await loadEachInRoot(root, libraries, {
    python: join(bundle.dir, 'bin', 'python3'),
    binds: [bundle.dir],
    preloaded,
  });
  const realSeconds = (Date.now() - started) / 1000;
  const checkStarted = Date.now();
  const predicted = await pyreloVerdicts(root, bundle.dir);
  const checkSeconds = (Date.now() - checkStarted) / 1000;
  const comparisons = libraries.map((file) =>
    compareOne(file, rootName, bundle.libc, real.get(file)!, predicted.get(file)),
  );
  return { comparisons, others: others.length, realSeconds, checkSeconds };
}
