// What goes into each lab root. Everything that changes a root's content must be part of
// its key inputs: the key names the cache folder, so a changed recipe gets a new root.
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';

/** Bump when the build steps change in a way the key inputs do not capture. */
export const RECIPE_VERSION = 1;

export const DEBIAN_ROOT_NAMES = ['bullseye', 'bookworm', 'trixie'] as const;
export type DebianRootName = (typeof DEBIAN_ROOT_NAMES)[number];
/** The same suites for arm64, run under qemu-aarch64 (test/lab/binfmt.ts). */
export const ARM64_ROOT_NAMES = ['bookworm-arm64', 'bullseye-arm64', 'trixie-arm64'] as const;
export type Arm64RootName = (typeof ARM64_ROOT_NAMES)[number];
/** This machine's (x86_64) roots: what the tests that run host programs in every root loop over. */
export const LAB_ROOT_NAMES = ['bullseye', 'bookworm', 'trixie', 'busybox', 'musl'] as const;
export type LabRootName = (typeof LAB_ROOT_NAMES)[number];
/** Every root the lab can build: the x86_64 ones and the arm64 ones. */
export const ALL_ROOT_NAMES = [...LAB_ROOT_NAMES, ...ARM64_ROOT_NAMES] as const;
export type AnyRootName = (typeof ALL_ROOT_NAMES)[number];

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
/** Bookworm's debian-archive-keyring already holds the trixie (13) keys. */
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
export const GLIBC_LOADER = '/lib64/ld-linux-x86-64.so.2';
export const AARCH64_GLIBC_LOADER = '/lib/ld-linux-aarch64.so.1';
export const MUSL_LOADER = '/lib/ld-musl-x86_64.so.1';
/** busybox-static's binary: statically linked, so it runs in a root with no libc. */
export const HOST_BUSYBOX = '/bin/busybox';

/** The glibc each suite ships; tests assert it, the build only records what it finds. */
export const EXPECTED_GLIBC: Record<DebianRootName, string> = {
  bullseye: '2.31',
  bookworm: '2.36',
  trixie: '2.41',
};

export interface DebianRecipe {
  kind: 'debian';
  name: DebianRootName | Arm64RootName;
  suite: DebianRootName;
  /** Absent for amd64 (this machine's), so the amd64 roots keep the keys they always had. */
  arch?: 'arm64';
  variant: 'minbase';
  include: string[];
  mirror: string;
  keyring: string;
}

export interface StaticRecipe {
  kind: 'busybox' | 'musl';
  name: 'busybox' | 'musl';
  /** sha256 of the host files copied in: the host's packages are what go into these roots. */
  busyboxSha256: string;
  muslLibcSha256?: string;
}

export type Recipe = DebianRecipe | StaticRecipe;

export function isLabRootName(name: string): name is AnyRootName {
  return (ALL_ROOT_NAMES as readonly string[]).includes(name);
}

export function isDebianRootName(name: string): name is DebianRootName {
  return (DEBIAN_ROOT_NAMES as readonly string[]).includes(name);
}

export function isArm64RootName(name: string): name is Arm64RootName {
  return (ARM64_ROOT_NAMES as readonly string[]).includes(name);
}

/** The suite of an arm64 root: 'bookworm-arm64' -> 'bookworm'. */
export function suiteOf(name: Arm64RootName): DebianRootName {
  return name.replace(/-arm64$/, '') as DebianRootName;
}

/** The glibc loader programs of a Debian recipe use. */
export function glibcLoaderOf(recipe: DebianRecipe): string {
  return recipe.arch === 'arm64' ? AARCH64_GLIBC_LOADER : GLIBC_LOADER;
}

async function sha256OfFile(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

export async function recipeFor(name: AnyRootName): Promise<Recipe> {
  if (isDebianRootName(name) || isArm64RootName(name)) {
    return {
      kind: 'debian',
      name,
      suite: isArm64RootName(name) ? suiteOf(name) : name,
      ...(isArm64RootName(name) ? { arch: 'arm64' as const } : {}),
      variant: 'minbase',
      include: ['openssh-server'],
      mirror: process.env.PYRELO_LAB_MIRROR || DEBIAN_MIRROR,
      keyring: DEBIAN_KEYRING,
    };
  }
  const busyboxSha256 = await sha256OfFile(HOST_BUSYBOX);
  if (name === 'busybox') return { kind: 'busybox', name, busyboxSha256 };
  return { kind: 'musl', name, busyboxSha256, muslLibcSha256: await sha256OfFile(await realpath(MUSL_LOADER)) };
}

/** A short hash of the recipe and RECIPE_VERSION: the cache folder is <name>-<key>. */
export function rootKey(recipe: Recipe): string {
  const inputs = JSON.stringify({ recipeVersion: RECIPE_VERSION, ...recipe });
  return createHash('sha256').update(inputs).digest('hex').slice(0, 12);
}
