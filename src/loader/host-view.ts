// What the loader emulation needs to know about a host: how its ld.so was built and configured
// (LoaderConfig) and which files exist at which paths (HostView.open). A live root directory and a
// stored inventory both implement HostView, so one emulation answers for both.

import type { ElfClass } from '../elf/types.js';
import type { LdCache } from './ld-cache.js';
import type { LoadableHeader, LoadableObject } from './loadable.js';

export interface LoaderConfig {
  /** e_machine and class of the host's native objects (EM_X86_64 / 64 on x86_64). */
  readonly machine: number;
  readonly elfClass: ElfClass;
  /** The PT_INTERP path native programs use, e.g. /lib64/ld-linux-x86-64.so.2. */
  readonly interpreter: string;
  /** Built-in system search directories, in order, without trailing slash. */
  readonly systemDirs: readonly string[];
  /** What $LIB expands to. */
  readonly libToken: string;
  /** What $PLATFORM expands to (AT_PLATFORM, or glibc's override such as "haswell"). */
  readonly platform: string;
  /** Active glibc-hwcaps subdirectory names, highest priority first (glibc 2.33+). */
  readonly hwcapsSubdirs: readonly string[];
  /** Legacy hwcaps subdirectories searched before 2.37 (e.g. "tls/x86_64"), highest priority first. */
  readonly legacyHwcapsSubdirs: readonly string[];
  /** The CPU's x86 ISA level, for ld.so.cache hwcaps entries. */
  readonly isaLevel: number;
  /** The host's glibc release, when known. */
  readonly glibcVersion: readonly [number, number] | null;
  /** The running kernel's release, for NT_GNU_ABI_TAG checks. */
  readonly kernelVersion: readonly [number, number, number] | null;
  /** The parsed /etc/ld.so.cache; null when the host has none (then only the default dirs apply). */
  readonly cache: LdCache | null;
  /**
   * Whether processes there see a mounted /proc. ld.so takes the $ORIGIN of a program started
   * normally from /proc/self/exe; without it that $ORIGIN has no value (README "Launchers and /proc").
   */
  readonly procMounted: boolean;
  /**
   * The running kernel's page size (AT_PAGESZ, GLRO(dl_pagesize)): 4 KiB on x86_64; 4, 16 or
   * 64 KiB on aarch64. ld.so checks each PT_LOAD against it before mapping (load-commands.ts).
   */
  readonly pageSize: number;
}

/** Why a path could not be used, in the errno terms open_path() distinguishes. */
export type OpenFailure = 'ENOENT' | 'ENOTDIR' | 'EACCES' | 'EISDIR' | 'ELOOP' | 'EIO';

export type OpenOutcome =
  | {
      readonly kind: 'object';
      /** (st_dev, st_ino) of the file, so two paths to one file map one object. */
      readonly identity: string;
      /** Read eagerly: ld.so decides from the header alone whether to use or skip a file. */
      readonly header: LoadableHeader;
      /** The rest of the object, read only when ld.so would really map it. May throw ElfFormatError. */
      readonly load: () => LoadableObject;
    }
  | { readonly kind: 'absent'; readonly errno: OpenFailure }
  /** The file exists but is no ELF ld.so can read: "file too short", "invalid ELF header", ... */
  | { readonly kind: 'unreadable'; readonly message: string };

export interface HostView {
  /** Names the host in messages, e.g. "root /srv/bullseye" or "inventory site-a.json". */
  readonly label: string;
  readonly config: LoaderConfig;
  /** Opens an absolute path as ld.so's open() would on that host. Results may be cached. */
  open(path: string): OpenOutcome;
}
