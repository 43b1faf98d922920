// What the loader emulation answers: the objects ld.so would load, where each was found and by
// which rule, and what would make ld.so refuse, in ld.so's own words.

import type { LoadableObject } from './loadable.js';

/** How a library was found: the search step of _dl_map_object() that produced it. */
export type FoundBy =
  | 'main'
  | 'interpreter'
  | 'path'
  | 'rpath'
  | 'ld-library-path'
  | 'runpath'
  | 'ld.so.cache'
  | 'default'
  | 'already-loaded'
  /** Not found: trace mode's "faked" map. */
  | 'not-found';

/** One place the search looked at and why it went on. */
export interface SearchStep {
  readonly source: Exclude<FoundBy, 'main' | 'interpreter' | 'already-loaded' | 'not-found'>;
  readonly path: string;
  readonly outcome: 'absent' | 'wrong-class' | 'wrong-machine' | 'kernel-too-old' | 'skipped-nodeflib' | 'used';
}

/** A struct link_map of the emulated namespace. */
export interface LoadedObject {
  /** Position in the namespace list (0 = the checked file). */
  readonly index: number;
  /** The name it was first requested under (the first l_libname). */
  readonly name: string;
  /** Every name it was requested under or matched by (l_libname), the DT_SONAME included once matched. */
  readonly aliases: readonly string[];
  /** The path it was opened under (l_name); null when not found (a "faked" map in trace mode). */
  readonly path: string | null;
  readonly foundBy: FoundBy;
  /** Index of the object whose DT_NEEDED loaded it first (l_loader); null for the checked file. */
  readonly loader: number | null;
  readonly object: LoadableObject | null;
  /** Where the search looked, in order, when it had to search. */
  readonly searched: readonly SearchStep[];
}

/** One DT_NEEDED edge, resolved: what libtree draws. */
export interface DependencyEdge {
  readonly from: number;
  readonly name: string;
  readonly to: number;
  readonly foundBy: FoundBy;
}

export type ProblemKind =
  | 'missing-library'
  | 'missing-version'
  | 'weak-version'
  | 'no-version-information'
  | 'undefined-symbol'
  | 'unloadable-object'
  | 'missing-interpreter'
  | 'wrong-architecture'
  | 'kernel-too-old'
  /** A library checked as dlopened into a program that does not start itself. */
  | 'program-fails'
  /** An object needs an x86 ISA level the CPU lacks (glibc 2.33+, isa-level.ts). */
  | 'isa-level'
  /** A dlopened object's initial-exec TLS does not fit in the static TLS surplus (static-tls.ts). */
  | 'static-tls'
  /** A DT_NEEDED entry ld.so skips: a token in it has no value ($ORIGIN of a program without /proc). */
  | 'skipped-needed'
  /** Not ld.so's: a file of a pyrelo bundle whose RUNPATH names a folder of the build host. */
  | 'absolute-runpath'
  /**
   * Not ld.so's: a script, .pth or sysconfig file of a pyrelo bundle naming a build-host path
   * (compat/leftovers.ts).
   */
  | 'build-host-path';

export interface Problem {
  readonly kind: ProblemKind;
  /** 'error' stops the program from starting; 'warning' is printed but harmless. */
  readonly severity: 'error' | 'warning';
  /** ld.so's own words (without the "PROG: " prefix). */
  readonly message: string;
  /** The object the problem is about: the provider for versions, the requiring object for symbols. */
  readonly object: string;
  readonly requiredBy?: string;
  readonly library?: string;
  readonly version?: string;
  readonly symbol?: string;
  /**
   * Not ld.so's: in a bundle, the soname `pyrelo build --allow-missing` let it ship without, which
   * this problem follows from. It is then a warning, though the file does not load
   * (compat/allowed-missing.ts).
   */
  readonly allowedMissing?: string;
}

/**
 * program: has PT_INTERP; library: dynamic without one; static: no PT_DYNAMIC; foreign: an ELF
 * this host's loader refuses (other class or machine, relocatable object, ...); unreadable: not
 * a well-formed ELF file at all (the reader refused it).
 */
export type FileKind = 'program' | 'library' | 'static' | 'foreign' | 'unreadable';

export interface LoadReport {
  readonly file: string;
  readonly kind: FileKind;
  /** The namespace in load order; objects[0] is the checked file itself. */
  readonly objects: readonly LoadedObject[];
  readonly edges: readonly DependencyEdge[];
  readonly problems: readonly Problem[];
  /**
   * True when ld.so would start it: no problem of severity 'error', and none excused by a library
   * its bundle was allowed to ship without (Problem.allowedMissing).
   */
  readonly loads: boolean;
  /** Highest GLIBC_x.y version the file and the objects it loads require, e.g. "2.34". */
  readonly glibcFloor: string | null;
  /** Highest NT_GNU_ABI_TAG kernel among the loaded objects, e.g. "3.2.0". */
  readonly kernelFloor: string | null;
  /**
   * The program a library was checked as dlopened into (CheckOptions.dlopenInto); `objects` is then
   * the library's own search list, and the program's objects are its global scope.
   */
  readonly loadedInto?: string;
}
