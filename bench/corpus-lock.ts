// Regenerates test/corpus/corpus.lock.json from test/corpus/candidates.txt: each candidate's newest
// wheel for CPython 3.11 manylinux x86_64 is fetched on its own (pip download --no-deps, into a probe
// folder cached outside the checkout); the first CORPUS_SIZE that hold an ELF shared library and
// weigh at most MAX_WHEEL_BYTES are the corpus; then one `pip download` of all of them pinned
// resolves their dependencies together, and every wheel it fetched is written down by file name.
//
//   npm run corpus:lock

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BASE_PYTHON, WHEELHOUSE_CACHE } from '../test/builder/wheelhouse.js';
import {
  CANDIDATES_PATH,
  CORPUS_PLATFORMS,
  LOCK_PATH,
  normalizeName,
  pinOfWheel,
  type CorpusLock,
  type LeftOut,
  type LockedProject,
} from '../test/corpus/corpus-lock.js';

const CORPUS_SIZE = 100;
const MAX_WHEEL_BYTES = 100 * 1000 * 1000;
/** Projects per bundle: five bundles of about 1 GB installed each. */
const BUNDLE_SIZE = 20;

/**
 * Wheels known to be over MAX_WHEEL_BYTES, left out without downloading them (sizes of their cp311
 * manylinux x86_64 wheels as PyPI listed them when the lock was written).
 */
const KNOWN_TOO_LARGE: Readonly<Record<string, string>> = {
  torch: 'wheel of 539 MB, plus CUDA wheels (nvidia-*) as dependencies',
  triton: 'wheel of 285 MB (a CUDA compiler)',
  'nvidia-nccl-cu12': 'wheel of 351 MB (a CUDA library)',
};

const PROBE = join(WHEELHOUSE_CACHE, 'corpus-probe');

function pipDownloadArgs(dir: string): string[] {
  return [
    '-m',
    'pip',
    'download',
    '--quiet',
    '--disable-pip-version-check',
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
    dir,
  ];
}

function readCandidates(): { rank: number; name: string }[] {
  return readFileSync(CANDIDATES_PATH, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const [rank, name] = line.split(/\s+/);
      return { rank: Number(rank), name: normalizeName(name ?? '') };
    });
}

async function wheelHoldsSharedLibrary(wheel: string): Promise<boolean> {
  const code =
    'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(any((n.endswith(".so") or ".so." in ' +
    'n.rsplit("/", 1)[-1]) and z.read(n)[:4] == b"\\x7fELF" for n in z.namelist()))';
  return (await execa(BASE_PYTHON, ['-I', '-c', code, wheel])).stdout.trim() === 'True';
}

/** The candidate's own wheel in the probe folder (fetched once), or why it cannot be in the corpus. */
async function probe(name: string): Promise<{ wheel: string; bytes: number } | { reason: string }> {
  const own = (): string | undefined =>
    readdirSync(PROBE).find((f) => f.endsWith('.whl') && normalizeName(pinOfWheel(f).name) === name);
  if (own() === undefined) {
    const r = await execa(BASE_PYTHON, [...pipDownloadArgs(PROBE), '--no-deps', name], { reject: false });
    if (r.exitCode !== 0) return { reason: 'no wheel for CPython 3.11 manylinux x86_64' };
  }
  const wheel = own();
  if (wheel === undefined) return { reason: 'pip fetched no wheel of that name' };
  const bytes = statSync(join(PROBE, wheel)).size;
  if (/-none-any\.whl$/.test(wheel)) return { reason: `pure Python (${wheel})` };
  if (bytes > MAX_WHEEL_BYTES) return { reason: `wheel of ${(bytes / 1e6).toFixed(0)} MB` };
  if (!(await wheelHoldsSharedLibrary(join(PROBE, wheel)))) return { reason: `no ELF shared library in ${wheel}` };
  return { wheel, bytes };
}

async function main(): Promise<void> {
  mkdirSync(PROBE, { recursive: true });
  const projects: LockedProject[] = [];
  const leftOut: LeftOut[] = [];
  // More than CORPUS_SIZE qualify on their own: a few drop out when their dependencies are resolved.
  for (const { rank, name } of readCandidates()) {
    const tooLarge = KNOWN_TOO_LARGE[name];
    if (tooLarge !== undefined) {
      leftOut.push({ rank, name, reason: tooLarge });
      continue;
    }
    const found = await probe(name);
    if ('reason' in found) {
      leftOut.push({ rank, name, reason: found.reason });
      console.log(`  ${rank} ${name}: left out, ${found.reason}`);
      continue;
    }
    projects.push({ rank, name, version: pinOfWheel(found.wheel).version, wheel: found.wheel, bytes: found.bytes });
    console.log(`  ${rank} ${name}: ${found.wheel} (${(found.bytes / 1e6).toFixed(1)} MB)`);
  }
  const bundles = await resolveBundles(projects, leftOut);
  const placed = new Set(bundles.flatMap((b) => b.projects));
  const unused = projects.filter((p) => !placed.has(p.name) && !leftOut.some((l) => l.name === p.name));
  if (placed.size < CORPUS_SIZE)
    console.log(`only ${placed.size} candidates qualified; add more to ${CANDIDATES_PATH}`);
  projects.splice(0, projects.length, ...projects.filter((p) => placed.has(p.name)));
  if (unused.length > 0) console.log(`not needed: ${unused.map((p) => p.name).join(' ')}`);
  const wheels = [...new Set(bundles.flatMap((b) => b.wheels))].sort();
  const downloadBytes = wheels.reduce((sum, w) => sum + statSync(join(PROBE_ALL, w)).size, 0);
  const lock: CorpusLock = {
    python: '3.11',
    platforms: CORPUS_PLATFORMS,
    projects,
    leftOut,
    bundles: bundles.map((b) => ({ name: b.name, projects: b.projects, requirements: b.wheels.map(pinText) })),
    wheels,
    downloadBytes,
  };
  writeFileSync(LOCK_PATH, `${JSON.stringify(lock, null, 1)}\n`);
  console.log(
    `${projects.length} projects in ${bundles.length} bundles, ${wheels.length} wheels, ` +
      `${(downloadBytes / 1e6).toFixed(0)} MB; ${leftOut.length} left out; written to ${LOCK_PATH}`,
  );
}

/** Every wheel any bundle resolved to, kept to weigh the download. */
const PROBE_ALL = join(WHEELHOUSE_CACHE, 'corpus-probe-resolved');

function pinText(wheel: string): string {
  const p = pinOfWheel(wheel);
  return `${p.name}==${p.version}`;
}

/** pip's "Could not find a version that satisfies the requirement X==1 (from P)": P and X. */
function unavailableDependency(stderr: string): { project: string; dependency: string } | null {
  const m = /satisfies the requirement (\S+) \(from ([^)]+)\)/.exec(stderr);
  return m === null ? null : { project: normalizeName(m[2]!.split(/[=<>!~ ;[]/)[0]!), dependency: m[1]! };
}

/**
 * pip's "Cannot install a==1, b==2 and c==3 because these package versions have conflicting
 * dependencies": the names.
 */
function conflicting(stderr: string): string[] {
  const m = /Cannot install (.+?) because these package versions have conflicting dependencies/.exec(stderr);
  if (m === null) return [];
  return m[1]!.split(/, | and /).map((r) => normalizeName(r.split('==')[0]!.trim()));
}

/** One `pip download` of the projects pinned, with their dependencies: the wheel files, or the conflicting projects. */
async function resolve(
  projects: readonly LockedProject[],
): Promise<{ wheels: string[] } | { conflict: string[]; stderr: string }> {
  const staging = join(WHEELHOUSE_CACHE, `corpus-resolve-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const r = await execa(
      BASE_PYTHON,
      [...pipDownloadArgs(staging), ...projects.map((p) => `${p.name}==${p.version}`)],
      { reject: false },
    );
    if (r.exitCode !== 0) return { conflict: conflicting(r.stderr), stderr: r.stderr };
    const wheels = readdirSync(staging)
      .filter((f) => f.endsWith('.whl'))
      .sort();
    mkdirSync(PROBE_ALL, { recursive: true });
    for (const w of wheels) renameSync(join(staging, w), join(PROBE_ALL, w));
    return { wheels };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

interface ResolvedBundle {
  name: string;
  projects: string[];
  wheels: string[];
}

/**
 * The projects in rank order, BUNDLE_SIZE to a bundle, each bundle resolved on its own; a project
 * whose pins conflict with the bundle's (pip names them) moves on to the next bundle.
 */
async function resolveBundles(projects: readonly LockedProject[], leftOut: LeftOut[]): Promise<ResolvedBundle[]> {
  const bundles: ResolvedBundle[] = [];
  let placed = 0;
  let waiting = [...projects];
  while (waiting.length > 0 && placed < CORPUS_SIZE) {
    const take = Math.min(BUNDLE_SIZE, CORPUS_SIZE - placed);
    let members = waiting.slice(0, take);
    let rest = waiting.slice(take);
    const deferred: LockedProject[] = [];
    for (;;) {
      const result = await resolve(members);
      if (!('wheels' in result) && result.conflict.length === 0) {
        // A project whose dependency has no usable wheel leaves the corpus; the next candidate takes its place.
        const missing = unavailableDependency(result.stderr);
        const project = missing === null ? undefined : members.find((p) => p.name === missing.project);
        if (missing === null || project === undefined)
          throw new Error(`pip could not resolve ${members.map((p) => p.name).join(' ')}:\n${result.stderr}`);
        leftOut.push({
          rank: project.rank,
          name: project.name,
          reason: `its dependency ${missing.dependency} has no wheel for CPython 3.11 manylinux x86_64`,
        });
        console.log(`  ${project.rank} ${project.name}: left out, its dependency ${missing.dependency} has no wheel`);
        members = members.filter((p) => p !== project);
        if (rest.length > 0) {
          members.push(rest[0]!);
          rest = rest.slice(1);
        }
        continue;
      }
      if ('wheels' in result) {
        const name = `corpus-${bundles.length + 1}`;
        bundles.push({ name, projects: members.map((p) => p.name), wheels: result.wheels });
        placed += members.length;
        console.log(
          `${name}: ${members.map((p) => p.name).join(' ')} (${result.wheels.length} wheels)` +
            `${deferred.length > 0 ? `; moved on: ${deferred.map((p) => p.name).join(' ')}` : ''}`,
        );
        break;
      }
      const named = members.filter((p) => result.conflict.includes(p.name));
      if (named.length < 2)
        throw new Error(`pip could not resolve ${members.map((p) => p.name).join(' ')}:\n${result.stderr}`);
      const last = named[named.length - 1]!;
      deferred.push(last);
      members = members.filter((p) => p !== last);
    }
    waiting = [...deferred, ...rest];
  }
  return bundles;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
