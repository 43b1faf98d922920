// The loader-resolution check of one ELF file on one host: what `ld.so --list` and `ldd -r` would
// say there, plus what ld.so checks before it gets that far (the interpreter, the architecture).

import { ElfFormatError } from '../elf/errors.js';
import { verifyHeader } from './header-checks.js';
import { buildDlopenNamespace, buildNamespace, type Namespace, type OpenedObject } from './namespace.js';
import { checkSymbols, SatisfierMemo, type DlopenScope } from './symbol-binding.js';
import { checkVersions } from './version-check.js';
import type { HostView, LoaderConfig } from './host-view.js';
import type { LoadableObject } from './loadable.js';
import type { FileKind, LoadReport, LoadedObject, Problem } from './types.js';
import { compareVersionParts, glibcFloorOf, maxVersion } from './floors.js';
import { kernelUnmappableSegment, loadCommandError, loadCommandRulesFor } from './load-commands.js';
import { isaLevelProblems } from './isa-level.js';
import { ET_DYN } from '../elf/constants.js';
import { mainOriginUnknown } from './main-origin.js';
import { staticTlsProblems } from './static-tls.js';
import { foreignFileWords } from './foreign-file.js';

export interface CheckOptions {
  /** LD_LIBRARY_PATH of the emulated process. */
  readonly libraryPath?: string;
  readonly inhibitCache?: boolean;
  /** The current directory of the emulated process (for relative search path elements). */
  readonly cwd?: string;
  /**
   * Emulate `LOADER PROGRAM` (docs/loader.md section 9): the program's PT_INTERP is ignored and LOADER
   * is the interpreter, as when a bundle starts its programs through the glibc it ships.
   */
  readonly loader?: string;
  /**
   * A library is checked as dlopened (RTLD_LOCAL | RTLD_NOW) into a process of this program, as a
   * Python interpreter loads extension modules and ctypes loads libraries: the program and its
   * dependencies form the global scope, searched before the library's own (loader-model.md,
   * "dlopen"). `loader`, `libraryPath` and `inhibitCache` then describe how the program starts.
   * A file that turns out to be a program is checked as usual.
   */
  readonly dlopenInto?: string;
  /**
   * With dlopenInto: the file is a library of that process even though it has a PT_INTERP (ld.so
   * reads PT_INTERP for the main program only; libc.so.6 and Qt's libraries carry one). The caller
   * decides what is a library (compat/bundle-file-role.ts).
   */
  readonly asLibrary?: boolean;
  /**
   * With dlopenInto: the library is not dlopened but preloaded into that program, as
   * `LD_PRELOAD=FILE PROGRAM` starts it. It is mapped at start-up right after the program, so it
   * is in the global scope and its TLS is part of the initial static TLS block, which always has
   * room for the start-up objects (loader-model.md, "LD_PRELOAD"). A bundle marks such files with
   * --preload-only (compat/bundle-rules.ts).
   */
  readonly preloaded?: boolean;
  /**
   * With preloaded: the program is started by a launcher script whose shebang names this shell (a
   * host path, `/bin/sh`), as a --libc bundle bundle's bin/python3 is. The kernel starts that shell
   * first, under the host's own loader and libraries, with the same LD_PRELOAD, so the library is
   * preloaded into it too; when that stops the shell, the program never starts (loader-model.md,
   * "LD_PRELOAD", "The launcher's shell").
   */
  readonly launcherShell?: string;
}

function kernelFloorOf(objects: readonly LoadedObject[]): string | null {
  return maxVersion(
    objects.map((o) => {
      const tag = o.object?.abiTag;
      return tag ? `${tag.major}.${tag.minor}.${tag.patch}` : null;
    }),
  );
}

/**
 * Objects built for a newer kernel than the host runs. Before glibc 2.36 the search skips such
 * libraries (see search.ts), and glibc's own startup refuses a kernel older than the one it was
 * built for ("FATAL: kernel too old"): an error when it is the C library or the loader itself.
 * Elsewhere, and from 2.36 on, ld.so checks nothing, but the system calls the object was built
 * for may be missing: a warning.
 */
function kernelProblems(objects: readonly LoadedObject[], config: LoaderConfig, only?: ReadonlySet<number>): Problem[] {
  const running = config.kernelVersion;
  if (running === null) return [];
  const enforced = config.glibcVersion !== null && compareVersionParts(config.glibcVersion, [2, 36]) < 0;
  const problems: Problem[] = [];
  for (const loaded of objects) {
    if (only !== undefined && !only.has(loaded.index)) continue;
    const tag = loaded.object?.abiTag;
    if (!tag || tag.os !== 0) continue;
    if (compareVersionParts([tag.major, tag.minor, tag.patch], running) <= 0) continue;
    const isGlibc = loaded.foundBy === 'interpreter' || loaded.object?.soname === 'libc.so.6';
    const fatal = enforced && isGlibc;
    const path = loaded.path ?? loaded.name;
    problems.push({
      kind: 'kernel-too-old',
      severity: fatal ? 'error' : 'warning',
      object: path,
      message:
        `${path}: built for kernel ${tag.major}.${tag.minor}.${tag.patch} or newer, host runs ` +
        `${running.join('.')}${fatal ? ' (FATAL: kernel too old)' : ''}`,
    });
  }
  return problems;
}

function report(
  file: string,
  kind: FileKind,
  objects: readonly LoadedObject[],
  edges: LoadReport['edges'],
  problems: readonly Problem[],
  glibcFloor: string | null,
): LoadReport {
  return {
    file,
    kind,
    objects,
    edges,
    problems,
    glibcFloor,
    loads: problems.every((p) => p.severity !== 'error'),
    kernelFloor: kernelFloorOf(objects),
  };
}

function lone(file: string, kind: FileKind, problem: Problem): LoadReport {
  return report(file, kind, [], [], [problem], null);
}

/** The loader the program asks for (PT_INTERP), or the host's own for libraries. */
function findInterpreter(
  host: HostView,
  object: LoadableObject,
  loader?: string,
): { interpreter: OpenedObject | null; problem: Problem | null } {
  const wanted = loader ?? object.interpreter ?? host.config.interpreter;
  const tryOpen = (path: string): OpenedObject | null => {
    const outcome = host.open(path);
    if (outcome.kind !== 'object' || verifyHeader(outcome.header, host.config).kind !== 'usable') return null;
    try {
      return { path, identity: outcome.identity, object: outcome.load() };
    } catch (error) {
      if (error instanceof ElfFormatError) return null;
      throw error;
    }
  };
  if (loader === undefined && object.interpreterRefusal !== undefined) {
    // The kernel refuses the program before any loader runs (docs/loader.md section 9).
    const problem: Problem = {
      kind: 'missing-interpreter',
      severity: 'error',
      object: wanted,
      message: `Exec format error (the kernel will not execute the program: ${object.interpreterRefusal})`,
    };
    return { interpreter: tryOpen(host.config.interpreter), problem };
  }
  const interpreter = tryOpen(wanted);
  if (interpreter !== null) return { interpreter, problem: null };
  const problem: Problem | null =
    object.interpreter === null && loader === undefined
      ? null
      : {
          kind: 'missing-interpreter',
          severity: 'error',
          object: wanted,
          message:
            loader === undefined
              ? `${wanted}: No such file or directory (the program's interpreter, PT_INTERP, is not on this host)`
              : `${wanted}: cannot run the loader (No such file or directory)`,
        };
  const fallback = wanted === host.config.interpreter ? null : tryOpen(host.config.interpreter);
  return { interpreter: fallback, problem };
}

/**
 * Whether the checked file itself can be mapped (load-commands.ts). ld.so maps it when it is run
 * as `ld.so FILE` (a library is only ever run that way, as ldd does); the kernel maps a program
 * started normally, and kills it with SIGSEGV when it cannot.
 */
function mainObjectMapping(
  path: string,
  object: LoadableObject,
  config: LoaderConfig,
  throughLoader: boolean,
): Problem | null {
  const segments = object.loadSegments;
  if (segments === undefined) return null;
  if (throughLoader || object.interpreter === null) {
    const rules = loadCommandRulesFor(config.glibcVersion);
    const error = loadCommandError(segments, rules, config.elfClass, config.pageSize);
    return error === null
      ? null
      : { kind: 'unloadable-object', severity: 'error', object: path, message: `${path}: ${error}` };
  }
  const bad = kernelUnmappableSegment(segments, config.elfClass, config.pageSize);
  return bad === null
    ? null
    : {
        kind: 'unloadable-object',
        severity: 'error',
        object: path,
        message:
          `${path}: the kernel cannot map the LOAD segment at offset 0x${bad.offset.toString(16)}, address ` +
          `0x${bad.vaddr.toString(16)} (offset and address differ modulo the page size): execve kills it with SIGSEGV`,
      };
}

/**
 * Whether a file of another machine has a PT_INTERP; null when it cannot be read that far. Any
 * failure counts as "cannot be read": the file is refused for its machine whatever its inside
 * holds, and a reader of this machine's layouts may stumble on another's (a malformed dynamic
 * section, a file changed since it was stat'ed) where ld.so never looks.
 */
function hasInterpreter(load: () => LoadableObject): boolean | null {
  try {
    return load().interpreter !== null;
  } catch {
    return null;
  }
}

const satisfierMemos = new WeakMap<HostView, SatisfierMemo>();

function satisfierMemoFor(host: HostView): SatisfierMemo {
  let index = satisfierMemos.get(host);
  if (index === undefined) {
    index = new SatisfierMemo();
    satisfierMemos.set(host, index);
  }
  return index;
}

/** Checks one ELF file at `path` (a path on the host) as the main object of a process. */
export function checkFile(host: HostView, path: string, options: CheckOptions = {}): LoadReport {
  const opened = host.open(path);
  if (opened.kind === 'absent') {
    return lone(path, 'unreadable', {
      kind: 'unloadable-object',
      severity: 'error',
      object: path,
      message: `${path}: cannot open file (${opened.errno})`,
    });
  }
  if (opened.kind === 'unreadable') {
    return lone(path, 'unreadable', {
      kind: 'unloadable-object',
      severity: 'error',
      object: path,
      message: `${path}: ${opened.message}`,
    });
  }
  const verdict = verifyHeader(opened.header, host.config);
  if (verdict.kind === 'wrong-class' || verdict.kind === 'wrong-machine') {
    // The kernel's words for a program, ld.so's for a library (foreign-file.ts).
    const words = foreignFileWords(
      {
        e_machine: opened.header.e_machine,
        e_type: opened.header.e_type,
        elfClass: opened.header.elfClass,
        hasInterpreter: hasInterpreter(opened.load),
      },
      host.config,
    );
    return lone(path, 'foreign', {
      kind: 'wrong-architecture',
      severity: 'error',
      object: path,
      message: `${path}: ${words}`,
    });
  }
  if (verdict.kind === 'fatal') {
    return lone(path, 'foreign', {
      kind: 'unloadable-object',
      severity: 'error',
      object: path,
      message: `${path}: ${verdict.message}`,
    });
  }
  let object: LoadableObject;
  try {
    object = opened.load();
  } catch (error) {
    if (!(error instanceof ElfFormatError)) throw error;
    return lone(path, 'unreadable', {
      kind: 'unloadable-object',
      severity: 'error',
      object: path,
      message: error.message,
    });
  }
  if (!object.header.hasDynamic && object.header.e_type === ET_DYN) {
    // ld.so maps an ET_DYN file whatever it is, then finds no dynamic section to relocate it by.
    return lone(path, 'library', {
      kind: 'unloadable-object',
      severity: 'error',
      object: path,
      message: `${path}: object file has no dynamic section`,
    });
  }
  if (!object.header.hasDynamic) {
    const only: LoadedObject = {
      index: 0,
      name: path,
      aliases: [path],
      path,
      foundBy: 'main',
      loader: null,
      object,
      searched: [],
    };
    return report(path, 'static', [only], [], [], null);
  }

  const kind: FileKind = object.interpreter === null ? 'library' : 'program';
  if ((kind === 'library' || options.asLibrary === true) && options.dlopenInto !== undefined) {
    if (options.preloaded === true)
      return checkPreloaded(host, { path, identity: opened.identity, object }, options.dlopenInto, options);
    return checkDlopened(host, { path, identity: opened.identity, object }, options.dlopenInto, options);
  }
  const unmappable = mainObjectMapping(path, object, host.config, options.loader !== undefined);
  if (unmappable !== null) return lone(path, kind, unmappable);
  const { interpreter, problem: interpreterProblem } = findInterpreter(host, object, options.loader);
  const namespace = buildNamespace(host, { path, identity: opened.identity, object }, interpreter, {
    ...namespaceOptions(options),
    mainOriginUnknown: mainOriginUnknown(host.config, object, options.loader !== undefined),
  });
  const problems: Problem[] = [];
  if (interpreterProblem !== null) problems.push(interpreterProblem);
  problems.push(...namespaceProblems(host, namespace));
  return report(path, kind, namespace.objects, namespace.edges, problems, glibcFloorOf(object));
}

/**
 * What ld.so finds wrong with a built namespace: its own problems (a library not found, a bad
 * file), then, unless loading stopped there, versions, ISA levels, symbols and the kernel.
 */
function namespaceProblems(host: HostView, namespace: Namespace): Problem[] {
  if (namespace.aborted) return [...namespace.problems];
  return [
    ...namespace.problems,
    ...checkVersions(namespace.objects),
    ...isaLevelProblems(namespace.objects, host.config),
    ...checkSymbols(namespace.objects, satisfierMemoFor(host)),
    ...kernelProblems(namespace.objects, host.config),
  ];
}

function namespaceOptions(options: CheckOptions): { libraryPath?: string; inhibitCache: boolean; cwd: string } {
  return {
    ...(options.libraryPath === undefined ? {} : { libraryPath: options.libraryPath }),
    inhibitCache: options.inhibitCache ?? false,
    cwd: options.cwd ?? '/',
  };
}

/** The program's own report, once per host and start options: every library of a bundle asks for it. */
const programReports = new WeakMap<HostView, Map<string, LoadReport>>();

function programReport(host: HostView, program: string, options: CheckOptions): LoadReport {
  let perHost = programReports.get(host);
  if (perHost === undefined) {
    perHost = new Map();
    programReports.set(host, perHost);
  }
  const { dlopenInto: _into, asLibrary: _library, preloaded: _preloaded, ...start } = options;
  const key = JSON.stringify([program, start.loader, start.libraryPath, start.inhibitCache, start.cwd]);
  let found = perHost.get(key);
  if (found === undefined) {
    found = checkFile(host, program, start);
    perHost.set(key, found);
  }
  return found;
}

/** The first error that stops `program` from starting on its own; null when it starts. */
function programFailure(host: HostView, program: string, options: CheckOptions): string | null {
  return programReport(host, program, options).problems.find((p) => p.severity === 'error')?.message ?? null;
}

/** A library's verdict when the program that loads it does not start: the program's, named as such. */
function programFailsReport(file: string, program: string, why: string, floor: string | null): LoadReport {
  const problem: Problem = {
    kind: 'program-fails',
    severity: 'error',
    object: program,
    message: `${file}: not loaded: ${program}, which loads it, does not start (${why})`,
  };
  return { ...report(file, 'library', [], [], [problem], floor), loadedInto: program };
}

/**
 * A library preloaded into a process of `program` (CheckOptions.preloaded): the whole start-up is
 * checked with it in place, as ld.so does it before the program's first instruction. When the
 * program does not start on its own, the library's verdict is the program's, named as such, as
 * for a dlopened library.
 */
function checkPreloaded(host: HostView, library: OpenedObject, program: string, options: CheckOptions): LoadReport {
  const floor = glibcFloorOf(library.object);
  if (options.launcherShell !== undefined) {
    const stop = launcherShellFailure(host, library, options.launcherShell);
    if (stop !== null) {
      const problem: Problem = {
        kind: 'program-fails',
        severity: 'error',
        object: options.launcherShell,
        message:
          `${library.path}: not loaded: ${options.launcherShell}, which runs the launcher of ${program} with ` +
          `the same LD_PRELOAD, does not start (${stop})`,
      };
      return { ...report(library.path, 'library', [], [], [problem], floor), loadedInto: program };
    }
  }
  const failure = programFailure(host, program, options);
  const opened = host.open(program);
  if (failure !== null || opened.kind !== 'object')
    return programFailsReport(library.path, program, failure ?? `${program}: cannot open file`, floor);
  const programObject = opened.load();
  const { interpreter } = findInterpreter(host, programObject, options.loader);
  const namespace = buildNamespace(
    host,
    { path: program, identity: opened.identity, object: programObject },
    interpreter,
    {
      ...namespaceOptions(options),
      mainOriginUnknown: mainOriginUnknown(host.config, programObject, options.loader !== undefined),
    },
    [library],
  );
  const problems = namespaceProblems(host, namespace);
  return {
    ...report(library.path, 'library', namespace.objects, namespace.edges, problems, floor),
    loadedInto: program,
  };
}

/** The loader's problems for `main` started with `preloads` (LD_PRELOAD), as ld.so checks them at start-up. */
function startUpProblems(host: HostView, main: OpenedObject, preloads: readonly OpenedObject[]): Problem[] {
  const { interpreter, problem } = findInterpreter(host, main.object);
  const namespace = buildNamespace(
    host,
    main,
    interpreter,
    { ...namespaceOptions({}), mainOriginUnknown: mainOriginUnknown(host.config, main.object, false) },
    preloads,
  );
  return [...(problem === null ? [] : [problem]), ...namespaceProblems(host, namespace)];
}

/**
 * ld.so's words for why the host's `shell`, started by the kernel for a launcher script with
 * `library` in LD_PRELOAD, stops; null when it starts. The shell runs under the host's own loader
 * and libraries (its PT_INTERP, the host's cache and folders), while the library's $ORIGIN RUNPATH
 * still points into the bundle. A static shell (busybox) reads no LD_PRELOAD; a shell that does not
 * start even on its own, or is not there, is not the library's doing, so it is not blamed on it.
 */
function launcherShellFailure(host: HostView, library: OpenedObject, shell: string): string | null {
  const opened = host.open(shell);
  if (opened.kind !== 'object') return null;
  let object: LoadableObject;
  try {
    object = opened.load();
  } catch (error) {
    if (error instanceof ElfFormatError) return null;
    throw error;
  }
  if (!object.header.hasDynamic || object.interpreter === null) return null;
  const main: OpenedObject = { path: shell, identity: opened.identity, object };
  if (startUpProblems(host, main, []).some((p) => p.severity === 'error')) return null;
  return startUpProblems(host, main, [library]).find((p) => p.severity === 'error')?.message ?? null;
}

/**
 * A library dlopened into a process of `program`. When the program itself does not start, nothing
 * is dlopened: the library's verdict is the program's, named as such.
 */
function checkDlopened(host: HostView, library: OpenedObject, program: string, options: CheckOptions): LoadReport {
  return dlopenReport(host, library.path, library, glibcFloorOf(library.object), program, options);
}

/**
 * A run-time need: `dlopen(name)` called by `caller` (a library of the process, such as a module
 * using ctypes) in a process of `options.dlopenInto`. `name` is searched from the caller as ld.so
 * searches a DT_NEEDED of it (loader-model.md, "dlopen").
 */
export function checkDlopenByName(
  host: HostView,
  name: string,
  caller: string,
  options: CheckOptions & { readonly dlopenInto: string },
): LoadReport {
  const opened = host.open(caller);
  if (opened.kind !== 'object') {
    return lone(name, 'unreadable', {
      kind: 'unloadable-object',
      severity: 'error',
      object: caller,
      message: `${caller}: cannot open file (the caller of dlopen("${name}"))`,
    });
  }
  let object: LoadableObject;
  try {
    object = opened.load();
  } catch (error) {
    if (!(error instanceof ElfFormatError)) throw error;
    return lone(name, 'unreadable', {
      kind: 'unloadable-object',
      severity: 'error',
      object: caller,
      message: error.message,
    });
  }
  return dlopenReport(
    host,
    name,
    { name, caller: { path: caller, identity: opened.identity, object } },
    null,
    options.dlopenInto,
    options,
  );
}

function dlopenReport(
  host: HostView,
  file: string,
  what: OpenedObject | { name: string; caller: OpenedObject },
  floor: string | null,
  program: string,
  options: CheckOptions,
): LoadReport {
  const failure = programFailure(host, program, options);
  const opened = host.open(program);
  if (failure !== null || opened.kind !== 'object')
    return programFailsReport(file, program, failure ?? `${program}: cannot open file`, floor);
  const programObject = opened.load();
  const { interpreter } = findInterpreter(host, programObject, options.loader);
  const { program: global, opened: local } = buildDlopenNamespace(
    host,
    { path: program, identity: opened.identity, object: programObject },
    interpreter,
    {
      ...namespaceOptions(options),
      mainOriginUnknown: mainOriginUnknown(host.config, programObject, options.loader !== undefined),
    },
    what,
  );
  const scope: Namespace = local ?? global;
  const problems: Problem[] = [...scope.problems];
  if (local !== null && !local.aborted) {
    const dlopen: DlopenScope = { globalScope: global.objects, fresh: local.fresh };
    problems.push(...checkVersions(local.objects, local.fresh));
    problems.push(...isaLevelProblems(local.objects, host.config, local.fresh));
    problems.push(...checkSymbols(local.objects, satisfierMemoFor(host), dlopen));
    problems.push(...kernelProblems(local.objects, host.config, local.fresh));
    problems.push(...staticTlsProblems(global.objects, local.objects, local.fresh, host.config));
  }
  return { ...report(file, 'library', local?.objects ?? [], local?.edges ?? [], problems, floor), loadedInto: program };
}
