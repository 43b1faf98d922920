// docs/loader.md section 1.
// The library search of glibc's _dl_map_object() (elf/dl-load.c): for a DT_NEEDED name without a
// slash, which file ld.so opens, trying RPATH, LD_LIBRARY_PATH, RUNPATH, ld.so.cache and the system
// directories in that order, each directory with its glibc-hwcaps subdirectories first.

import { lookupLdCache, cacheFlagsForMachine, type LdCache } from './ld-cache.js';
import { joinSearchPath } from './dynamic-string-tokens.js';
import { verifyHeader } from './header-checks.js';
import { ElfFormatError } from '../elf/errors.js';
import type { HostView, LoaderConfig } from './host-view.js';
import type { LoadableHeader, LoadableObject } from './loadable.js';
import type { SearchStep } from './types.js';

type SearchSource = SearchStep['source'];

/**
 * ld.so.cache answers per host configuration: a lookup depends only on the cache, the name and the
 * configuration, and one check asks for libc.so.6 once per file, so the answers are remembered.
 */
const cacheAnswers = new WeakMap<LoaderConfig, Map<string, string | null>>();

function cacheLookup(config: LoaderConfig, cache: LdCache, name: string): string | null {
  let answers = cacheAnswers.get(config);
  if (answers === undefined) {
    answers = new Map();
    cacheAnswers.set(config, answers);
  }
  let answer = answers.get(name);
  if (answer === undefined) {
    const expectedFlags = cacheFlagsForMachine(config.machine, config.elfClass);
    answer =
      expectedFlags === null
        ? null
        : lookupLdCache(cache, name, {
            expectedFlags,
            activeHwcapsSubdirs: config.hwcapsSubdirs,
            isaLevel: config.isaLevel,
            glibcVersion: (config.glibcVersion ?? [2, 36]) as [number, number],
          });
    answers.set(name, answer);
  }
  return answer;
}

/** One candidate file that passed the header checks. */
export interface Candidate {
  readonly path: string;
  readonly identity: string;
  readonly header: LoadableHeader;
  readonly load: () => LoadableObject;
}

export type CandidateOutcome =
  | { readonly kind: 'found'; readonly candidate: Candidate }
  | { readonly kind: 'skip' }
  /** ld.so drops the rest of this path list (an errno other than ENOENT/EACCES). */
  | { readonly kind: 'abandon-list' }
  | { readonly kind: 'fatal'; readonly path: string; readonly message: string };

/** A search path list, already split and expanded, with the rule it belongs to. */
export interface SearchPathList {
  readonly source: SearchSource;
  readonly dirs: readonly string[];
}

export interface SearchRequest {
  readonly name: string;
  /** RPATH lists of the loader chain (and the main program), in the order glibc tries them. */
  readonly rpaths: readonly SearchPathList[];
  readonly libraryPath: SearchPathList | null;
  readonly runpath: SearchPathList | null;
  /** DF_1_NODEFLIB on the loader (or the main program when there is no loader). */
  readonly noDefaultLib: boolean;
  readonly inhibitCache: boolean;
  /** Makes relative paths (from an empty or relative search path element) absolute. */
  readonly cwd: string;
}

export type SearchResult =
  | {
      readonly kind: 'found';
      readonly candidate: Candidate;
      readonly source: SearchSource;
      readonly steps: SearchStep[];
    }
  | { readonly kind: 'not-found'; readonly steps: SearchStep[]; readonly sawWrongClass: boolean }
  | { readonly kind: 'fatal'; readonly path: string; readonly message: string; readonly steps: SearchStep[] };

function absolute(path: string, cwd: string): string {
  if (path.startsWith('/')) return path;
  return cwd.endsWith('/') ? cwd + path : `${cwd}/${path}`;
}

/** The emulated open_verify(): opens `path` on the host and applies the header checks. */
export function openCandidate(
  host: HostView,
  path: string,
  cwd: string,
  steps: SearchStep[],
  source: SearchSource,
  wrongClass: { seen: boolean },
): CandidateOutcome {
  const outcome = host.open(absolute(path, cwd));
  if (outcome.kind === 'absent') {
    steps.push({ source, path, outcome: 'absent' });
    return outcome.errno === 'ENOENT' || outcome.errno === 'EACCES' ? { kind: 'skip' } : { kind: 'abandon-list' };
  }
  if (outcome.kind === 'unreadable') return { kind: 'fatal', path, message: outcome.message };
  const verdict = verifyHeader(outcome.header, host.config);
  if (verdict.kind === 'fatal') return { kind: 'fatal', path, message: verdict.message };
  if (verdict.kind === 'wrong-class' || verdict.kind === 'wrong-machine') {
    if (verdict.kind === 'wrong-class') wrongClass.seen = true;
    steps.push({ source, path, outcome: verdict.kind });
    return { kind: 'skip' };
  }
  if (tooNewForKernel(outcome.load, host.config)) {
    steps.push({ source, path, outcome: 'kernel-too-old' });
    return { kind: 'skip' };
  }
  steps.push({ source, path, outcome: 'used' });
  return { kind: 'found', candidate: { path, identity: outcome.identity, header: outcome.header, load: outcome.load } };
}

/**
 * Before glibc 2.36, open_verify() also skipped a candidate whose NT_GNU_ABI_TAG names another OS
 * or a kernel newer than the running one (dl_osversion), and went on searching.
 */
function tooNewForKernel(load: () => LoadableObject, config: HostView['config']): boolean {
  const { glibcVersion, kernelVersion } = config;
  if (glibcVersion === null || kernelVersion === null) return false;
  if (glibcVersion[0] > 2 || (glibcVersion[0] === 2 && glibcVersion[1] >= 36)) return false;
  let tag;
  try {
    tag = load().abiTag;
  } catch (error) {
    if (error instanceof ElfFormatError) return false; // reported when the object is mapped
    throw error;
  }
  if (tag === null) return false;
  if (tag.os !== 0) return true;
  const wanted = [tag.major, tag.minor, tag.patch];
  for (let i = 0; i < 3; i += 1) {
    if (wanted[i]! !== kernelVersion[i]!) return wanted[i]! > kernelVersion[i]!;
  }
  return false;
}

/** open_path(): every directory of the list, each with its hwcaps subdirectories first. */
function searchList(
  host: HostView,
  request: SearchRequest,
  list: SearchPathList,
  steps: SearchStep[],
  wrongClass: { seen: boolean },
): CandidateOutcome {
  const { config } = host;
  const subdirs = [
    ...config.hwcapsSubdirs.map((sub) => `glibc-hwcaps/${sub}/`),
    ...config.legacyHwcapsSubdirs.map((sub) => `${sub}/`),
    '',
  ];
  for (const dir of list.dirs) {
    for (const sub of subdirs) {
      const path = joinSearchPath(dir, sub + request.name);
      const outcome = openCandidate(host, path, request.cwd, steps, list.source, wrongClass);
      if (outcome.kind !== 'skip') return outcome;
    }
  }
  return { kind: 'skip' };
}

function startsWithSystemDir(path: string, systemDirs: readonly string[]): boolean {
  return systemDirs.some((dir) => path.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
}

export function searchLibrary(host: HostView, request: SearchRequest): SearchResult {
  const steps: SearchStep[] = [];
  const wrongClass = { seen: false };
  const conclude = (outcome: CandidateOutcome, source: SearchSource): SearchResult | null => {
    if (outcome.kind === 'found') return { kind: 'found', candidate: outcome.candidate, source, steps };
    if (outcome.kind === 'fatal') return { kind: 'fatal', path: outcome.path, message: outcome.message, steps };
    return null;
  };

  const lists: SearchPathList[] = [...request.rpaths];
  if (request.libraryPath !== null) lists.push(request.libraryPath);
  if (request.runpath !== null) lists.push(request.runpath);
  for (const list of lists) {
    const result = conclude(searchList(host, request, list, steps, wrongClass), list.source);
    if (result !== null) return result;
  }

  const { config } = host;
  if (!request.inhibitCache && config.cache !== null) {
    const cached = cacheLookup(config, config.cache, request.name);
    if (cached !== null) {
      if (request.noDefaultLib && startsWithSystemDir(cached, config.systemDirs)) {
        steps.push({ source: 'ld.so.cache', path: cached, outcome: 'skipped-nodeflib' });
      } else {
        const result = conclude(
          openCandidate(host, cached, request.cwd, steps, 'ld.so.cache', wrongClass),
          'ld.so.cache',
        );
        if (result !== null) return result;
      }
    }
  }

  if (!request.noDefaultLib) {
    const list: SearchPathList = { source: 'default', dirs: config.systemDirs };
    const result = conclude(searchList(host, request, list, steps, wrongClass), 'default');
    if (result !== null) return result;
  }
  return { kind: 'not-found', steps, sawWrongClass: wrongClass.seen };
}
