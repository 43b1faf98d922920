// The corpus's downloads and builds, cached outside the checkout like the build tests' wheelhouse
// (README "Testing"): a wheelhouse per list of pinned wheels in WHEELHOUSE_CACHE/corpus-<key>, and a
// bundle per (requirements, libc mode, wheelhouse, pyrelo's builder) in BUNDLE_CACHE/<key>. Each is
// made in a temporary folder and renamed into place after its stamp is written, so an interrupted
// download or build is never used.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BASE_PYTHON, WHEELHOUSE_CACHE } from '../builder/wheelhouse.js';
import { CORPUS_PLATFORMS, pinOfWheel } from './corpus-lock.js';
import { cachedFolder } from '../support/cached-folder.js';

export const BUNDLE_CACHE = process.env.PYRELO_CORPUS_CACHE ?? '/var/cache/pyrelo/corpus-bundles';
const here = dirname(fileURLToPath(import.meta.url));
const PYRELO = join(here, '..', '..', 'src', 'client', 'main.js');

function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/**
 * The wheels named (exact file names from the lock), fetched once with `pip download --no-deps`
 * pinned to their versions; the folder must end up holding exactly those files.
 */
export async function ensureCorpusWheelhouse(wheels: readonly string[]): Promise<string> {
  const dir = join(WHEELHOUSE_CACHE, `corpus-${shortHash(['corpus', CORPUS_PLATFORMS, [...wheels].sort()])}`);
  return cachedFolder(dir, async (temporary) => {
    // Bundles may pin a project at different versions; one pip call takes one version of each.
    const batches: string[][] = [];
    for (const wheel of wheels) {
      const p = pinOfWheel(wheel);
      const batch = batches.find((b) => !b.some((pin) => pin.startsWith(`${p.name}==`)));
      if (batch === undefined) batches.push([`${p.name}==${p.version}`]);
      else batch.push(`${p.name}==${p.version}`);
    }
    for (const pins of batches) {
      await execa(BASE_PYTHON, [
        '-m',
        'pip',
        'download',
        '--quiet',
        '--disable-pip-version-check',
        '--no-deps',
        '--only-binary=:all:',
        '--python-version',
        '3.11',
        '--implementation',
        'cp',
        '--abi',
        'cp311',
        '--abi',
        'abi3',
        '--abi',
        'none',
        ...CORPUS_PLATFORMS.flatMap((p) => ['--platform', p]),
        '-d',
        temporary,
        ...pins,
      ]);
    }
    const got = new Set(readdirSync(temporary).filter((f) => f.endsWith('.whl')));
    const missing = wheels.filter((w) => !got.has(w));
    if (missing.length > 0)
      throw new Error(`pip download fetched other files than the lock names; missing: ${missing.join(', ')}`);
  });
}

/** A digest of pyrelo's compiled builder: a bundle built by an older builder is not reused. */
function builderDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.js')) hash.update(name).update(readFileSync(path));
    }
  };
  for (const part of ['builder', 'bundle', 'elf', 'loader', 'compat']) walk(join(here, '..', '..', 'src', part));
  return hash.digest('hex').slice(0, 16);
}

/** `pyrelo build` refused or failed; `output` is everything it printed. */
export class BuildFailed extends Error {
  constructor(
    readonly spec: CorpusBundleSpec,
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(
      `pyrelo build of ${spec.name} (--libc ${spec.libc}) failed (exit ${exitCode}):\n${output
        .split('\n')
        .filter((l) => !l.startsWith('pyrelo build: ['))
        .slice(0, 12)
        .join('\n')}`,
    );
  }

  /**
   * What its failure lines name in site-packages: top-level folders (`scipy` for `…/scipy.libs/…`)
   * and top-level extension modules (`pyodbc` for `…/pyodbc.cpython-311-x86_64-linux-gnu.so`).
   */
  namedPackages(): string[] {
    const names = new Set<string>();
    const failure = this.output.slice(this.output.indexOf('pyrelo build: failed'));
    for (const m of failure.matchAll(/site-packages\/([^/\s:]+?)(?:\.libs)?(?:\/|\.cpython-[^/\s:]*\.so|\.abi3\.so)/g))
      names.add(m[1]!);
    return [...names];
  }

  /**
   * The sonames its refusal says were found nowhere (README "A library found nowhere"): what
   * --allow-missing would take.
   */
  missingSonames(): string[] {
    const failure = this.output.slice(this.output.indexOf('pyrelo build: failed'));
    return [...new Set([...failure.matchAll(/pass --allow-missing (\S+) to ship without it/g)].map((m) => m[1]!))];
  }

  /** The paths its refusal says --preload-only would take (README "A library only ever preloaded"). */
  preloadOnlyPaths(): string[] {
    const failure = this.output.slice(this.output.indexOf('pyrelo build: failed'));
    return [...new Set([...failure.matchAll(/pass --preload-only (\S+)\)/g)].map((m) => m[1]!))];
  }
}

export interface CorpusBundleSpec {
  readonly name: string;
  readonly requirements: readonly string[];
  readonly libc: 'host' | 'bundle';
  readonly wheelhouse: string;
  /** --allow-missing SONAME for each (libraries wheels leave to the host or treat as optional). */
  readonly allowMissing?: readonly string[];
  /** --preload-only PATH for each (libraries only ever preloaded, such as ray's jemalloc). */
  readonly preloadOnly?: readonly string[];
  /** --smoke COMMAND: what agents run to verify the bundle (test/corpus/corpus-service.test.ts). */
  readonly smoke?: string;
}

/**
 * The bundle built by `pyrelo build -r … --wheelhouse … --libc …` on the build tests' base CPython;
 * the bundle folder.
 */
export async function ensureCorpusBundle(
  spec: CorpusBundleSpec,
  log: (line: string) => void = () => {},
): Promise<string> {
  const allowMissing = [...(spec.allowMissing ?? [])].sort();
  const key = shortHash([
    spec.name,
    spec.requirements,
    spec.libc,
    readdirSync(spec.wheelhouse).sort(),
    BASE_PYTHON,
    builderDigest(),
    ...(allowMissing.length > 0 ? [allowMissing] : []),
    ...(spec.smoke !== undefined ? [{ smoke: spec.smoke }] : []),
    ...((spec.preloadOnly ?? []).length > 0 ? [{ preloadOnly: [...spec.preloadOnly!].sort() }] : []),
  ]);
  const dir = join(BUNDLE_CACHE, `${spec.name}-${spec.libc}-${key}`);
  // A refusal is an answer too (same inputs, same builder): kept beside the folder, not built again.
  const refused = `${dir}.refused`;
  if (existsSync(refused)) {
    const saved = JSON.parse(readFileSync(refused, 'utf8')) as { exitCode: number; output: string };
    throw new BuildFailed(spec, saved.exitCode, saved.output);
  }
  await cachedFolder(dir, async (temporary) => {
    const requirements = join(temporary, 'requirements.txt');
    writeFileSync(requirements, `${spec.requirements.join('\n')}\n`);
    log(`building ${spec.name} (--libc ${spec.libc}, ${spec.requirements.length} requirements)`);
    const started = Date.now();
    const r = await execa(
      'node',
      [
        PYRELO,
        'build',
        '-r',
        requirements,
        '--wheelhouse',
        spec.wheelhouse,
        '--python',
        BASE_PYTHON,
        '--libc',
        spec.libc,
        '--without-pip',
        '--prompt',
        spec.name,
        ...allowMissing.flatMap((soname) => ['--allow-missing', soname]),
        ...(spec.smoke !== undefined ? ['--smoke', spec.smoke] : []),
        ...(spec.preloadOnly ?? []).flatMap((path) => ['--preload-only', path]),
        '-o',
        join(temporary, 'bundle'),
      ],
      { reject: false, all: true },
    );
    writeFileSync(join(temporary, 'build.log'), r.all ?? '');
    if (r.exitCode !== 0) {
      if (r.exitCode === 1) writeFileSync(refused, JSON.stringify({ exitCode: r.exitCode, output: r.all ?? '' }));
      throw new BuildFailed(spec, r.exitCode ?? -1, r.all ?? '');
    }
    log(`built ${spec.name} (--libc ${spec.libc}) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  return join(dir, 'bundle');
}
