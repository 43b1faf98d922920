// The emulated link-map namespace: glibc's _dl_map_object_deps() loading a program's dependencies
// breadth-first, with _dl_map_object()'s reuse of objects already loaded (by name, by alias, by
// DT_SONAME, by file identity) and trace mode's "faked" maps for libraries that were not found.

import { dirname } from 'node:path';
import { DF_1_NODEFLIB } from '../elf/constants.js';
import { ElfFormatError } from '../elf/errors.js';
import { containsToken, expandTokens, splitSearchPath, type TokenValues } from './dynamic-string-tokens.js';
import { openCandidate, searchLibrary, type Candidate, type SearchPathList } from './search.js';
import { verifyDependency } from './header-checks.js';
import type { HostView } from './host-view.js';
import type { LoadableObject } from './loadable.js';
import type { DependencyEdge, FoundBy, LoadedObject, Problem, SearchStep } from './types.js';

export interface NamespaceOptions {
  /** LD_LIBRARY_PATH of the emulated process; undefined when unset. */
  readonly libraryPath?: string;
  /** ld.so --inhibit-cache. */
  readonly inhibitCache?: boolean;
  /** The current directory, for relative paths. */
  readonly cwd: string;
}

/** A struct link_map while the namespace is being built. */
interface LinkMap {
  index: number;
  readonly name: string;
  readonly path: string | null;
  readonly foundBy: FoundBy;
  readonly loader: LinkMap | null;
  readonly object: LoadableObject | null;
  readonly identity: string | null;
  readonly searched: readonly SearchStep[];
  /** l_libname: every name this object was requested under. */
  readonly aliases: Set<string>;
  /** $ORIGIN: the directory of the path it was opened under, made absolute. */
  readonly origin: string | null;
}

export interface Namespace {
  readonly objects: LoadedObject[];
  readonly edges: DependencyEdge[];
  /** Missing libraries and fatal errors met while loading. */
  readonly problems: Problem[];
  /** True when a fatal error stopped loading (nothing after it is known). */
  readonly aborted: boolean;
}

/** An object opened before the search starts: the checked file, or the dynamic linker. */
export interface OpenedObject {
  readonly path: string;
  readonly identity: string;
  readonly object: LoadableObject;
}

class NamespaceBuilder {
  private readonly maps: LinkMap[] = [];
  private readonly edgeMaps: { from: LinkMap; name: string; to: LinkMap; foundBy: FoundBy }[] = [];
  private readonly problems: Problem[] = [];
  private aborted = false;
  /** The dynamic linker: in the namespace from the start, listed where it is first needed. */
  private readonly rtld: LinkMap | null;
  private rtldListed = false;
  /** The last non-faked object listed before the rtld was first needed: its search-list predecessor. */
  private rtldPredecessor: LinkMap | null = null;

  constructor(private readonly host: HostView, private readonly options: NamespaceOptions,
    main: OpenedObject, interpreter: OpenedObject | null) {
    this.list(this.makeMap({
      name: main.path, path: main.path, foundBy: 'main', loader: null, object: main.object,
      identity: main.identity, searched: [],
    }));
    this.rtld = interpreter === null ? null : this.makeMap({
      name: interpreter.path, path: interpreter.path, foundBy: 'interpreter', loader: null,
      object: interpreter.object, identity: interpreter.identity, searched: [],
    });
  }

  private makeMap(init: Omit<LinkMap, 'index' | 'aliases' | 'origin'>): LinkMap {
    const origin = init.path === null ? null : dirname(this.absolute(init.path));
    return { ...init, index: -1, aliases: new Set([init.name]), origin };
  }

  private absolute(path: string): string {
    return path.startsWith('/') ? path : `${this.options.cwd.replace(/\/$/, '')}/${path}`;
  }

  private get main(): LinkMap {
    return this.maps[0]!;
  }

  private list(map: LinkMap): LinkMap {
    if (map.index === -1) {
      map.index = this.maps.length;
      this.maps.push(map);
    }
    return map;
  }

  /** Every object currently in the namespace, the unlisted rtld included (it is loaded from the start). */
  private *loaded(): Iterable<LinkMap> {
    yield* this.maps;
    if (this.rtld !== null && !this.rtldListed) yield this.rtld;
  }

  private tokenValues(map: LinkMap): TokenValues {
    return { origin: map.origin, lib: this.host.config.libToken, platform: this.host.config.platform };
  }

  /** The name-matching loop of _dl_map_object(): l_name, l_libname, then DT_SONAME. Faked maps never match. */
  private findByName(name: string): LinkMap | undefined {
    for (const map of this.loaded()) {
      if (map.object === null) continue;
      if (map.path === name || map.aliases.has(name)) return map;
      if (map.object.soname === name) {
        map.aliases.add(name);
        return map;
      }
    }
    return undefined;
  }

  private findByIdentity(identity: string): LinkMap | undefined {
    for (const map of this.loaded()) if (map.identity === identity) return map;
    return undefined;
  }

  private rpathLists(loader: LinkMap): SearchPathList[] {
    const lists: SearchPathList[] = [];
    if (loader.object?.runpath !== null && loader.object?.runpath !== undefined) return lists;
    let didMain = false;
    for (let map: LinkMap | null = loader; map !== null; map = map.loader) {
      const rpath = map.object?.rpath;
      if (rpath === null || rpath === undefined) continue;
      lists.push({ source: 'rpath', dirs: splitSearchPath(rpath, /:/, this.tokenValues(map)) });
      if (map === this.main) didMain = true;
    }
    const mainRpath = this.main.object?.rpath;
    if (!didMain && mainRpath !== null && mainRpath !== undefined) {
      lists.push({ source: 'rpath', dirs: splitSearchPath(mainRpath, /:/, this.tokenValues(this.main)) });
    }
    return lists;
  }

  /** A fatal error about the object at `path`, which ld.so's message names `shownAs`. */
  private fail(path: string, message: string, shownAs = path): void {
    this.problems.push({ kind: 'unloadable-object', severity: 'error', message: `${shownAs}: ${message}`, object: path });
    this.aborted = true;
  }

  private missing(name: string, loader: LinkMap, steps: SearchStep[], wrongClass: boolean): LinkMap {
    // open_path() remembers a candidate of the other class and names it in the final message.
    const otherClass = this.host.config.elfClass === 64 ? 'ELFCLASS32' : 'ELFCLASS64';
    const reason = wrongClass ? `wrong ELF class: ${otherClass}` : 'No such file or directory';
    this.problems.push({
      kind: 'missing-library',
      severity: 'error',
      message: `${name}: cannot open shared object file: ${reason}`,
      object: loader.path ?? loader.name,
      library: name,
      requiredBy: loader.path ?? loader.name,
    });
    return this.makeMap({ name, path: null, foundBy: 'not-found', loader, object: null, identity: null, searched: steps });
  }

  /** Turns a candidate file into a link map, or reuses the object when the file is already loaded. */
  private adopt(name: string, candidate: Candidate, foundBy: FoundBy, loader: LinkMap, steps: SearchStep[]): LinkMap | null {
    const existing = this.findByIdentity(candidate.identity);
    if (existing !== undefined) {
      existing.aliases.add(name);
      return existing;
    }
    let object: LoadableObject;
    try {
      object = candidate.load();
    } catch (error) {
      if (error instanceof ElfFormatError) {
        this.fail(candidate.path, `invalid ELF file (${error.message})`);
        return null;
      }
      throw error;
    }
    const refusal = verifyDependency(candidate.header, object, this.host.config);
    if (refusal !== null) {
      // _dl_map_object_from_fd reports these under the name asked for (the expanded DT_NEEDED).
      this.fail(candidate.path, refusal, name);
      return null;
    }
    return this.makeMap({ name, path: candidate.path, foundBy, loader, object, identity: candidate.identity, searched: steps });
  }

  /** _dl_map_object() for one DT_NEEDED entry of `loader`. */
  private mapNeeded(rawName: string, loader: LinkMap): LinkMap | null {
    let name = rawName;
    if (containsToken(rawName)) {
      const expanded = expandTokens(rawName, this.tokenValues(loader));
      if (expanded === null) {
        this.fail(loader.path ?? loader.name, `cannot load auxiliary \`${rawName}' because of empty dynamic string token substitution`);
        return null;
      }
      name = expanded;
    }
    const known = this.findByName(name);
    if (known !== undefined) return known;

    const steps: SearchStep[] = [];
    if (name.includes('/')) {
      const wrongClass = { seen: false };
      const outcome = openCandidate(this.host, name, this.options.cwd, steps, 'path' as const, wrongClass);
      if (outcome.kind === 'fatal') {
        this.fail(outcome.path, outcome.message);
        return null;
      }
      if (outcome.kind === 'found') return this.adopt(name, outcome.candidate, 'path', loader, steps);
      return this.missing(name, loader, steps, wrongClass.seen);
    }

    const flagsOwner = loader.object ?? this.main.object;
    const result = searchLibrary(this.host, {
      name,
      rpaths: this.rpathLists(loader),
      libraryPath: this.options.libraryPath === undefined ? null : {
        source: 'ld-library-path',
        dirs: splitSearchPath(this.options.libraryPath, /[:;]/, this.tokenValues(this.main)),
      },
      runpath: loader.object?.runpath == null ? null : {
        source: 'runpath',
        dirs: splitSearchPath(loader.object.runpath, /:/, this.tokenValues(loader)),
      },
      noDefaultLib: ((flagsOwner?.flags1 ?? 0) & DF_1_NODEFLIB) !== 0,
      inhibitCache: this.options.inhibitCache ?? false,
      cwd: this.options.cwd,
    });
    if (result.kind === 'fatal') {
      this.fail(result.path, result.message);
      return null;
    }
    if (result.kind === 'not-found') return this.missing(name, loader, result.steps, result.sawWrongClass);
    return this.adopt(name, result.candidate, result.source, loader, result.steps);
  }

  /**
   * rtld.c keeps the dynamic linker out of the chain while loading, then links it in right after
   * its predecessor in the search list, which holds no faked maps. So "not found" entries created
   * between that predecessor and the need for ld.so come after it in ld.so's list.
   */
  private placeRtld(): void {
    if (this.rtld === null || !this.rtldListed) return;
    this.maps.splice(this.maps.indexOf(this.rtld), 1);
    const after = this.rtldPredecessor === null ? 0 : this.maps.indexOf(this.rtldPredecessor) + 1;
    this.maps.splice(after, 0, this.rtld);
    this.maps.forEach((map, i) => {
      map.index = i;
    });
  }

  build(): Namespace {
    // Breadth-first over the search list, as _dl_map_object_deps() does.
    for (let i = 0; i < this.maps.length && !this.aborted; i += 1) {
      const map = this.maps[i]!;
      if (map.object === null) continue;
      for (const needed of map.object.needed) {
        const target = this.mapNeeded(needed, map);
        if (this.aborted) break;
        if (target === null) continue;
        if (target === this.rtld && !this.rtldListed) {
          this.rtldListed = true;
          this.rtldPredecessor = [...this.maps].reverse().find((m) => m.object !== null) ?? null;
        }
        const isNew = target.index === -1;
        this.list(target);
        const foundBy = isNew ? target.foundBy : 'already-loaded';
        this.edgeMaps.push({ from: map, name: needed, to: target, foundBy });
      }
    }
    this.placeRtld();
    return {
      objects: this.maps.map((map) => ({
        index: map.index,
        name: map.name,
        aliases: [...map.aliases],
        path: map.path,
        foundBy: map.foundBy,
        loader: map.loader?.index ?? null,
        object: map.object,
        searched: map.searched,
      })),
      edges: this.edgeMaps.map((e): DependencyEdge => ({ from: e.from.index, name: e.name, to: e.to.index, foundBy: e.foundBy })),
      problems: this.problems,
      aborted: this.aborted,
    };
  }
}

/** Loads `main` and its dependencies as ld.so would on `host`. */
export function buildNamespace(host: HostView, main: OpenedObject, interpreter: OpenedObject | null,
  options: NamespaceOptions): Namespace {
  return new NamespaceBuilder(host, options, main, interpreter).build();
}
