// A HostView over a live root directory: `/`, or a chroot such as a debootstrapped Debian. Paths
// are resolved as the loader inside that root would see them: absolute symlinks point into the root.

import { lstatSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { ElfFile } from '../elf/elf-file.js';
import { ElfFormatError } from '../elf/errors.js';
import { describeElf, headerOf, indexedDefinitionsOf, type LoadableHeader, type LoadableObject } from './loadable.js';
import { decodeLoadable, encodeLoadable } from './loadable-codec.js';
import { fileKeyOf, sameFileKey, type FileKey } from './file-key.js';
import type { ParseCache } from './parse-cache.js';
import type { HostView, LoaderConfig, OpenFailure, OpenOutcome } from './host-view.js';

const MAX_SYMLINKS = 40;

type Resolution = { readonly hostPath: string } | { readonly errno: OpenFailure };

function errnoOf(error: unknown): OpenFailure {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EISDIR' || code === 'ELOOP')
    return code;
  return 'EIO';
}

/** Messages ld.so's open_verify() gives for files it cannot read as ELF. */
function unreadableMessage(error: ElfFormatError): string {
  if (error.reason === 'too-short') return 'file too short';
  if (error.reason === 'bad-magic') return 'invalid ELF header';
  if (error.reason === 'bad-data') return 'ELF file data encoding not little-endian';
  return `invalid ELF file (${error.message})`;
}

export class RootHostView implements HostView {
  readonly label: string;
  private readonly resolutions = new Map<string, Resolution>();
  private readonly outcomes = new Map<string, OpenOutcome>();
  private readonly objects = new Map<string, LoadableObject>();
  /** What resolving and stat'ing each path gave, as open() saw it (signatureOf). */
  private readonly seen = new Map<string, ReturnType<RootHostView['statOf']>>();
  /** The paths open() is asked for while a check is recorded (record). */
  private recording: Set<string> | null = null;

  /** `parseCache`: where the facts of the files read are kept across runs (parse-cache.ts); none by default. */
  constructor(
    readonly rootDir: string,
    readonly config: LoaderConfig,
    private readonly parseCache: ParseCache | null = null,
  ) {
    this.rootDir = rootDir.replace(/\/+$/, '') || '/';
    this.label = this.rootDir === '/' ? 'this host' : `root ${this.rootDir}`;
  }

  /** The host filesystem path for a path inside the root, following symlinks inside the root. */
  resolve(path: string): Resolution {
    if (this.rootDir === '/') return { hostPath: path };
    let cached = this.resolutions.get(path);
    if (cached === undefined) {
      cached = this.walk(path, 0);
      this.resolutions.set(path, cached);
    }
    return cached;
  }

  private walk(path: string, links: number): Resolution {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    let current = '';
    for (let i = 0; i < parts.length; i += 1) {
      const part = parts[i]!;
      if (part === '..') {
        current = current.slice(0, Math.max(0, current.lastIndexOf('/')));
        continue;
      }
      const candidate = `${current}/${part}`;
      let stat;
      try {
        stat = lstatSync(this.rootDir + candidate);
      } catch (error) {
        return { errno: errnoOf(error) };
      }
      if (stat.isSymbolicLink()) {
        if (links >= MAX_SYMLINKS) return { errno: 'ELOOP' };
        const target = readlinkSync(this.rootDir + candidate);
        const rest = parts.slice(i + 1).join('/');
        const base = target.startsWith('/') ? target : `${current}/${target}`;
        return this.walk(rest === '' ? base : `${base}/${rest}`, links + 1);
      }
      if (!stat.isDirectory() && i < parts.length - 1) return { errno: 'ENOTDIR' };
      current = candidate;
    }
    return { hostPath: this.rootDir + (current === '' ? '/' : current) };
  }

  open(path: string): OpenOutcome {
    this.recording?.add(path);
    let outcome = this.outcomes.get(path);
    if (outcome === undefined) {
      outcome = this.openUncached(path);
      this.outcomes.set(path, outcome);
    }
    return outcome;
  }

  /**
   * Runs `check` and lists every path it opened on this host: all the filesystem a loader check
   * reads goes through open() (docs/loader.md), so these paths and their signatures decide its answer.
   */
  record<T>(check: () => T): { readonly value: T; readonly paths: readonly string[] } {
    if (this.recording !== null) throw new Error('RootHostView.record: already recording');
    const paths = new Set<string>();
    this.recording = paths;
    try {
      return { value: check(), paths: [...paths] };
    } finally {
      this.recording = null;
    }
  }

  /**
   * What decides open(path)'s answer, as a string that changes whenever the answer may: the errno
   * when the path does not resolve to a file, else the file's (dev, inode, size, mtime, ctime),
   * which identify its content. As open() saw it when it was asked; otherwise found with one
   * stat, reading nothing of the file. `mtimeNs` is the file's, null when there is none.
   */
  signatureOf(path: string): { readonly signature: string; readonly mtimeNs: bigint | null } {
    let seen = this.seen.get(path);
    if (seen === undefined) {
      seen = this.statOf(path);
      this.seen.set(path, seen);
    }
    return 'errno' in seen
      ? { signature: `absent ${seen.errno}`, mtimeNs: null }
      : {
          signature: `file ${seen.key.dev}:${seen.key.ino}:${seen.key.size}:${seen.key.mtimeNs}:${seen.key.ctimeNs}`,
          mtimeNs: seen.key.mtimeNs,
        };
  }

  /** The path resolved and stat'ed, as open() does first. */
  private statOf(
    path: string,
  ):
    { readonly hostPath: string; readonly stat: BigIntStats; readonly key: FileKey } | { readonly errno: OpenFailure } {
    const resolution = this.resolve(path);
    if ('errno' in resolution) return resolution;
    try {
      const stat = statSync(resolution.hostPath, { bigint: true });
      return { hostPath: resolution.hostPath, stat, key: fileKeyOf(stat) };
    } catch (error) {
      return { errno: errnoOf(error) };
    }
  }

  private openUncached(path: string): OpenOutcome {
    const seen = this.statOf(path);
    this.seen.set(path, seen);
    if ('errno' in seen) return { kind: 'absent', errno: seen.errno };
    const { hostPath, stat, key } = seen;
    if (stat.isDirectory()) return { kind: 'unreadable', message: 'cannot read file data: Is a directory' };
    const identity = `${stat.dev}:${stat.ino}`;
    // open_verify() reads a whole ElfW(Ehdr) before any check: anything shorter is "too short".
    const minimum = this.config.elfClass === 64 ? 64 : 52;
    if (stat.size < minimum) return { kind: 'unreadable', message: 'file too short' };
    const cached = this.parseCache?.get(key) ?? null;
    if (cached !== null) {
      return {
        kind: 'object',
        identity,
        header: cached.header,
        load: () => this.loaded(identity, () => decodeLoadable(cached.header, cached.encoded)),
      };
    }
    let header: LoadableHeader;
    try {
      header = withElf(hostPath, headerOf);
    } catch (error) {
      if (error instanceof ElfFormatError) {
        if (error.reason === 'bad-class') return otherClassOutcome(identity, this.config.elfClass === 64 ? 32 : 64);
        return { kind: 'unreadable', message: unreadableMessage(error) };
      }
      if (typeof (error as NodeJS.ErrnoException).code === 'string') return { kind: 'absent', errno: errnoOf(error) };
      throw error;
    }
    return {
      kind: 'object',
      identity,
      header,
      // Reopened on demand, so a skipped candidate holds no file descriptor.
      load: () =>
        this.loaded(identity, () =>
          withElf(hostPath, (elf) => {
            const object = describeElf(elf);
            this.store(hostPath, key, header, () => encodeLoadable(object, indexedDefinitionsOf(elf)));
            return object;
          }),
        ),
    };
  }

  private loaded(identity: string, read: () => LoadableObject): LoadableObject {
    let object = this.objects.get(identity);
    if (object === undefined) {
      object = read();
      this.objects.set(identity, object);
    }
    return object;
  }

  /**
   * Keeps what was read in the parse cache, unless the file changed since it was stat'ed: the
   * facts must be those of the file the key names. Files that fail to parse are not kept (their
   * messages name the path they were reached by).
   */
  private store(
    hostPath: string,
    key: FileKey,
    header: LoadableHeader,
    encode: () => ReturnType<typeof encodeLoadable>,
  ): void {
    if (this.parseCache === null) return;
    let now: FileKey;
    try {
      now = fileKeyOf(statSync(hostPath, { bigint: true }));
    } catch {
      return;
    }
    if (sameFileKey(key, now)) this.parseCache.put(key, header, encode());
  }
}

function withElf<T>(path: string, use: (elf: ElfFile) => T): T {
  const elf = ElfFile.open(path);
  try {
    return use(elf);
  } finally {
    elf.close();
  }
}

/** A file whose EI_CLASS is neither 32 nor 64: ld.so treats it like any file of the other class. */
function otherClassOutcome(identity: string, elfClass: 32 | 64): OpenOutcome {
  const header: LoadableHeader = {
    elfClass,
    data: 'lsb',
    identVersion: 0,
    osabi: 0,
    abiversion: 0,
    paddingNonZero: false,
    e_version: 0,
    e_type: 0,
    e_machine: 0,
    e_phentsize: 0,
    hasDynamic: false,
  };
  return {
    kind: 'object',
    identity,
    header,
    load: () => {
      throw new Error('unreachable: other-class file loaded');
    },
  };
}
