// The LoaderConfig of a live root directory (`/` or a chroot): read from the root's own ld.so,
// ld.so.cache and libc, and from this machine's CPU and kernel, which a chroot shares.

import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { resolve } from 'node:path';
import { EM_AARCH64, EM_X86_64 } from '../elf/constants.js';
import { detectCpuHwcaps, legacyHwcapsSubdirs } from './hwcaps.js';
import { parseLdCache, type LdCache } from '../loader/ld-cache.js';
import type { LoaderConfig } from '../loader/host-view.js';
import { chrootCanon, detectLibc, readLoaderDefaults, rootMachines } from './host-facts.js';
import { procSelfExeReadable } from './proc-mount.js';
import { runningPageSize } from './page-size.js';
import { UserInputError } from '../common/user-input-error.js';

/** The machines the loader model knows (data/loader-defaults.json), by uname name. */
export const LOADER_MACHINES: Readonly<Record<string, number>> = { x86_64: EM_X86_64, aarch64: EM_AARCH64 };

export class HostConfigError extends UserInputError {
  constructor(
    readonly rootDir: string,
    detail: string,
  ) {
    super(rootDir, detail);
    this.name = 'HostConfigError';
  }
}

/** "6.1.0-18-amd64" -> [6, 1, 0] */
export function parseKernelRelease(text: string): [number, number, number] | null {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function parseGlibcVersion(text: string | null): [number, number] | null {
  const match = text === null ? null : /^(\d+)\.(\d+)/.exec(text);
  return match === null ? null : [Number(match[1]), Number(match[2])];
}

function atLeast(version: readonly [number, number] | null, major: number, minor: number): boolean {
  return version === null || version[0] > major || (version[0] === major && version[1] >= minor);
}

function readCache(rootDir: string): LdCache | null {
  const path = chrootCanon(rootDir, '/etc/ld.so.cache');
  if (path === null || !existsSync(path)) return null;
  // ld.so ignores a cache it cannot parse; so do we, rather than refusing the whole root.
  try {
    return parseLdCache(readFileSync(path), path);
  } catch {
    return null;
  }
}

export interface RootConfigOptions {
  /**
   * Whether processes of the root see /proc. Default: this process's own /proc when rootDir is
   * `/` (the agent and the CLI on the host itself); for another root, true. A root checked from
   * outside is a filesystem, not a running system: whether /proc is mounted depends on how its
   * processes are started, and a real host has it, so only the caller can say otherwise
   * (`--no-proc`; README "Launchers and /proc").
   */
  readonly procMounted?: boolean;
  /**
   * The page size of the kernel the root runs on. Default: this kernel's (page-size.ts), which a
   * chroot shares; `pyrelo inventory --page-size N` records a root as a host with other pages
   * would run it (an aarch64 root for a 64 KiB kernel).
   */
  readonly pageSize?: number;
}

/**
 * Builds the loader configuration of `rootDir`. A root without a glibc loader (busybox, musl) still
 * gets a configuration, for this machine's architecture, so that checks can say what is missing.
 */
export function loaderConfigForRoot(rootDir: string, options: RootConfigOptions = {}): LoaderConfig {
  const machineName = rootMachines(rootDir)[0] ?? (process.arch === 'arm64' ? 'aarch64' : 'x86_64');
  const machine = LOADER_MACHINES[machineName];
  if (machine === undefined) throw new HostConfigError(rootDir, `unsupported machine ${machineName}`);
  const read = readLoaderDefaults(rootDir, machineName);
  const defaults = read ?? {
    interpreter: machineName === 'aarch64' ? '/lib/ld-linux-aarch64.so.1' : '/lib64/ld-linux-x86-64.so.2',
    systemDirs: machineName === 'aarch64' ? ['/lib64/', '/usr/lib64/'] : ['/lib64/', '/usr/lib64/'],
    libToken: 'lib64',
  };
  const cache = readCache(rootDir);
  const libc = detectLibc(rootDir, { machine: machineName, defaults: read, ldCache: cache });
  const glibcVersion = libc.kind === 'glibc' ? parseGlibcVersion(libc.version) : null;
  const cpu = detectCpuHwcaps(machineName);
  return {
    machine,
    elfClass: 64,
    interpreter: defaults.interpreter,
    systemDirs: defaults.systemDirs.map((dir) => (dir.length > 1 ? dir.replace(/\/+$/, '') : dir)),
    libToken: defaults.libToken,
    platform: cpu.platform,
    // glibc-hwcaps subdirectories exist since 2.33.
    hwcapsSubdirs: atLeast(glibcVersion, 2, 33) ? cpu.glibcHwcapsSubdirs : [],
    // glibc 2.37 removed the legacy hwcaps subdirectories (tls/, x86_64/, ...).
    legacyHwcapsSubdirs: atLeast(glibcVersion, 2, 37) ? [] : legacyHwcapsSubdirs(cpu),
    isaLevel: cpu.isaLevel,
    glibcVersion,
    kernelVersion: parseKernelRelease(release()),
    cache,
    procMounted: options.procMounted ?? (resolve(rootDir) === '/' ? procSelfExeReadable() : true),
    pageSize: options.pageSize ?? runningPageSize(),
  };
}
