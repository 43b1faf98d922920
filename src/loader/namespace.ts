// docs/loader.md section 1.
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
  /** The main program's $ORIGIN has no value: started normally without /proc (main-origin.ts). */
  readonly mainOriginUnknown?: boolean;
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

interface EdgeMap {
  readonly from: LinkMap;
  readonly name: string;
  readonly to: LinkMap;
  readonly foundBy: FoundBy;
}

export interface Namespace {
  readonly objects: LoadedObject[];
  readonly edges: DependencyEdge[];
  /** Missing libraries and fatal errors met while loading. */
  readonly problems: Problem[];
  /** True when a fatal error stopped loading (nothing after it is known). */
  readonly aborted: boolean;
}

/** A library dlopened into a process: its local scope, and which of its objects are new there. */
export interface DlopenedNamespace extends Namespace {
  /** Positions in `objects` of the objects the dlopen mapped anew (the others were loaded already). */
  readonly fresh: ReadonlySet<number>;
}

/** An object opened before the search starts: the checked file, or the dynamic linker. */
export interface OpenedObject {
  readonly path: string;
  readonly identity: string;
  readonly object: LoadableObject;
}

/** dirname() of the absolute paths objects are opened under: the same few hundred paths in every namespace of a run. */
const origins = new Map<string, string>();

function originOf(absolutePath: string): string {
  let origin = origins.get(absolutePath);
  if (origin === undefined) {
    // A long-lived server sees many hosts' paths: keep the memo bounded.
    if (origins.size >= 65536) origins.clear();
    origin = dirname(absolutePath);
    origins.set(absolutePath, origin);
  }
  return origin;
}

class NamespaceBuilder {
  private readonly maps: LinkMap[] = [];
  private readonly edgeMaps: EdgeMap[] = [];
  private readonly problems: Problem[] = [];
  private aborted = false;
  /** The dynamic linker: in the namespace from the start, listed where it is first needed. */
  private readonly rtld: LinkMap | null;
  private rtldListed = false;
  /** The last non-faked object listed before the rtld was first needed: its search-list predecessor. */
  private rtldPredecessor: LinkMap | null = null;

  constructor(
    private readonly host: HostView,
    private readonly options: NamespaceOptions,
    main: OpenedObject,
    interpreter: OpenedObject | null,
  ) {
    const mainMap = this.makeMap({
      name: main.path,
      path: main.path,
      foundBy: 'main',
      loader: null,
      object: main.object,
      identity: main.identity,
      searched: [],
    });
    this.list(options.mainOriginUnknown === true ? { ...mainMap, origin: null } : mainMap);
    this.rtld =
      interpreter === null
        ? null
        : this.makeMap({
            name: interpreter.path,
            path: interpreter.path,
            foundBy: 'interpreter',
            loader: null,
            object: interpreter.object,
            identity: interpreter.identity,
            searched: [],
          });
  }

  private makeMap(init: Omit<LinkMap, 'index' | 'aliases' | 'origin'>): LinkMap {
    const origin = init.path === null ? null : originOf(this.absolute(init.path));
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
    this.problems.push({
      kind: 'unloadable-object',
      severity: 'error',
      message: `${shownAs}: ${message}`,
      object: path,
    });
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
    return this.makeMap({
      name,
      path: null,
      foundBy: 'not-found',
      loader,
      object: null,
      identity: null,
      searched: steps,
    });
  }

  /** Turns a candidate file into a link map, or reuses the object when the file is already loaded. */
  private adopt(
    name: string,
    candidate: Candidate,
    foundBy: FoundBy,
    loader: LinkMap,
    steps: SearchStep[],
  ): LinkMap | null {
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
    return this.makeMap({
      name,
      path: candidate.path,
      foundBy,
      loader,
      object,
      identity: candidate.identity,
      searched: steps,
    });
  }

  /** _dl_map_object() for one DT_NEEDED entry of `loader`. */
  private mapNeeded(rawName: string, loader: LinkMap): LinkMap | null {
    let name = rawName;
    if (containsToken(rawName)) {
      const expanded = expandTokens(rawName, this.tokenValues(loader));
      if (expanded === null) {
        // elf/dl-deps.c expand_dst(..., 0): the entry is skipped, said only under LD_DEBUG=libs.
        this.problems.push({
          kind: 'skipped-needed',
          severity: 'warning',
          object: loader.path ?? loader.name,
          library: rawName,
          message:
            `cannot load auxiliary \`${rawName}' because of empty dynamic string token substitution (ld.so skips ` +
            'this DT_NEEDED entry)',
        });
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
      libraryPath:
        this.options.libraryPath === undefined
          ? null
          : {
              source: 'ld-library-path',
              dirs: splitSearchPath(this.options.libraryPath, /[:;]/, this.tokenValues(this.main)),
            },
      runpath:
        loader.object?.runpath == null
          ? null
          : {
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

  /**
   * _dl_map_object_deps(): every DT_NEEDED of every object of `searchlist`, breadth-first, appended
   * to it (its l_searchlist). Objects new to the process are also listed in the namespace.
   */
  private mapDependencies(searchlist: LinkMap[], edges: EdgeMap[]): void {
    const isProgram = searchlist === this.maps;
    const inList = new Set(searchlist);
    for (let i = 0; i < searchlist.length && !this.aborted; i += 1) {
      const map = searchlist[i]!;
      if (map.object === null) continue;
      for (const needed of map.object.needed) {
        const target = this.mapNeeded(needed, map);
        if (this.aborted) break;
        if (target === null) continue;
        if (isProgram && target === this.rtld && !this.rtldListed) {
          this.rtldListed = true;
          this.rtldPredecessor = [...this.maps].reverse().find((m) => m.object !== null) ?? null;
        }
        const isNew = target.index === -1;
        this.list(target);
        if (!inList.has(target)) {
          inList.add(target);
          if (!isProgram) searchlist.push(target);
        }
        edges.push({ from: map, name: needed, to: target, foundBy: isNew ? target.foundBy : 'already-loaded' });
      }
    }
  }

  /** The namespace as seen from `list`: indexes are positions in it, loaders outside it are null. */
  private snapshot(list: readonly LinkMap[], edges: readonly EdgeMap[]): Namespace {
    const position = new Map(list.map((map, i) => [map, i]));
    return {
      objects: list.map((map, i) => ({
        index: i,
        name: map.name,
        aliases: [...map.aliases],
        path: map.path,
        foundBy: map.foundBy,
        loader: map.loader === null ? null : (position.get(map.loader) ?? null),
        object: map.object,
        searched: map.searched,
      })),
      edges: edges.map((e): DependencyEdge => ({
        from: position.get(e.from)!,
        name: e.name,
        to: position.get(e.to)!,
        foundBy: e.foundBy,
      })),
      problems: [...this.problems],
      aborted: this.aborted,
    };
  }

  /**
   * LD_PRELOAD=`file` (rtld.c's do_preload): mapped by its path right after the main program, with
   * the program as its loader, before any DT_NEEDED. _dl_map_object_deps() then starts its
   * breadth-first walk from [main, preloads…], so the preload is second in the global scope and
   * its own dependencies follow the program's (loader-model.md, "LD_PRELOAD"). Call before build().
   */
  preload(file: OpenedObject): void {
    if (this.findByIdentity(file.identity) !== undefined) return;
    this.list(
      this.makeMap({
        name: file.path,
        path: file.path,
        foundBy: 'path',
        loader: this.main,
        object: file.object,
        identity: file.identity,
        searched: [],
      }),
    );
  }

  build(): Namespace {
    this.mapDependencies(this.maps, this.edgeMaps);
    this.placeRtld();
    return this.snapshot(this.maps, this.edgeMaps);
  }

  /**
   * dlopen(path, RTLD_LOCAL | RTLD_NOW) of `file` into the process built by build(): the file is
   * opened by its path (a name with a slash is never searched), reused when the process already
   * holds it, and its dependencies load with the same reuse rules. Its search list (itself, then
   * its dependencies breadth-first, reused ones included) is its local scope; `fresh` marks the
   * objects this dlopen mapped anew, the only ones it relocates (loader-model.md, "dlopen").
   */
  dlopen(file: OpenedObject): DlopenedNamespace {
    return this.dlopenWith(
      () =>
        this.findByIdentity(file.identity) ??
        this.makeMap({
          name: file.path,
          path: file.path,
          foundBy: 'main',
          loader: null,
          object: file.object,
          identity: file.identity,
          searched: [],
        }),
    );
  }

  /**
   * dlopen(name) called from `caller` (itself dlopened first, as a module is before it calls
   * dlopen): a name without a slash is searched with the caller's RUNPATH, the RPATH chain,
   * LD_LIBRARY_PATH, the cache and the default folders, as for a DT_NEEDED of the caller.
   */
  dlopenByName(name: string, caller: OpenedObject): DlopenedNamespace {
    const opened = this.dlopen(caller);
    if (opened.aborted || opened.problems.length > 0) return opened;
    const callerMap = this.findByIdentity(caller.identity)!;
    return this.dlopenWith(() => this.mapNeeded(name, callerMap));
  }

  private dlopenWith(open: () => LinkMap | null): DlopenedNamespace {
    const problemsBefore = this.problems.length;
    const firstFresh = this.maps.length;
    const root = open();
    if (root === null)
      return {
        objects: [],
        edges: [],
        problems: this.problems.slice(problemsBefore),
        aborted: this.aborted,
        fresh: new Set(),
      };
    this.list(root);
    const searchlist = [root];
    const edges: EdgeMap[] = [];
    this.mapDependencies(searchlist, edges);
    const local = this.snapshot(searchlist, edges);
    const fresh = new Set(searchlist.filter((map) => map.index >= firstFresh).map((map) => searchlist.indexOf(map)));
    return { ...local, problems: this.problems.slice(problemsBefore), fresh };
  }
}

/** Loads `main` (with `preloads`, as LD_PRELOAD names them) and its dependencies as ld.so would on `host`. */
export function buildNamespace(
  host: HostView,
  main: OpenedObject,
  interpreter: OpenedObject | null,
  options: NamespaceOptions,
  preloads: readonly OpenedObject[] = [],
): Namespace {
  const builder = new NamespaceBuilder(host, options, main, interpreter);
  for (const file of preloads) builder.preload(file);
  return builder.build();
}

/**
 * A process of `program` (the global scope: the program and its dependencies) into which `library`
 * is then dlopened with RTLD_LOCAL | RTLD_NOW, as Python loads extension modules and ctypes loads
 * libraries: by its path, or by a name that `caller` (a library of the process) asks dlopen for.
 * Nothing is dlopened when loading the program failed.
 */
export function buildDlopenNamespace(
  host: HostView,
  program: OpenedObject,
  interpreter: OpenedObject | null,
  options: NamespaceOptions,
  library: OpenedObject | { name: string; caller: OpenedObject },
): { program: Namespace; opened: DlopenedNamespace | null } {
  const builder = new NamespaceBuilder(host, options, program, interpreter);
  const process = builder.build();
  if (process.aborted) return { program: process, opened: null };
  return {
    program: process,
    opened: 'caller' in library ? builder.dlopenByName(library.name, library.caller) : builder.dlopen(library),
  };
}
