// Run the REAL glibc loader (ld.so) the way `ldd` does, and parse what it says.
//
// This is the ground truth pyrelo's loader emulation is compared against, so
// it copies /usr/bin/ldd (Debian GLIBC 2.36) exactly:
//   - a name without `/` is prefixed with `./`;
//   - `test -e` / `test -f` / `test -r` failures are reported by ldd itself;
//   - `LDSO --verify FILE` (with the caller's environment only) decides whether
//     the file is traced: 0 or 2 → trace, 1 → "not a dynamic executable"
//     (static programs, non-ELF files, wrong-class files never reach the trace:
//     running a static non-PIE program through ld.so would crash it);
//   - the trace runs `LD_TRACE_LOADED_OBJECTS=1 LD_WARN=$warn LD_BIND_NOW=$bind_now
//     LD_LIBRARY_VERSION=$verify_out LD_VERBOSE= LDSO FILE`, with warn and
//     bind_now = "yes" for `ldd -r` (option bindNow) and empty otherwise.
// Unlike ldd we keep stdout and stderr apart (ldd merges them with 2>&1):
// the object list goes to stdout, every diagnostic to stderr (see the report
// in parseTrace's comment for the exact formats).
import { constants as osConstants } from 'node:os';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (no shell) with exactly `env` as its environment. */
export interface CommandRunner {
  (argv: string[], env: Record<string, string>): Promise<CommandResult>;
}

export interface HostRunnerOptions {
  /** Working directory of the command (relative DT_NEEDED and `a::b` path elements depend on it). */
  cwd?: string;
}

/**
 * A runner on this host: execa, no shell, the environment REPLACED by exactly
 * `env` plus PATH (taken from `env.PATH`, else from this process), so that the
 * host's LD_* variables never leak in. A process killed by a signal reports
 * 128 + signal number, as a shell would. Failing to start at all throws.
 */
export function createHostRunner(options: HostRunnerOptions = {}): CommandRunner {
  return async (argv, env) => {
    const [command, ...args] = argv;
    if (command === undefined) throw new Error('createHostRunner: empty argv');
    const fullEnv: Record<string, string> = { ...env, PATH: env.PATH ?? process.env.PATH ?? '/usr/bin:/bin' };
    const result = await execa(command, args, {
      env: fullEnv,
      extendEnv: false,
      reject: false,
      shell: false,
      stdin: 'ignore',
      stripFinalNewline: false,
      encoding: 'utf8',
      maxBuffer: 1024 * 1024 * 1024,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    let exitCode = result.exitCode;
    if (exitCode === undefined) {
      const signal = result.signal;
      const signo = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
      if (signo === undefined) {
        throw new Error(`cannot run ${command}: ${result.shortMessage ?? result.message ?? 'unknown error'}`);
      }
      exitCode = 128 + signo;
    }
    return { exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  };
}

export const hostRunner: CommandRunner = createHostRunner();

export interface TracedObject {
  /** The name as requested (DT_NEEDED text), or the path for `\tPATH (0x…)` lines. */
  name: string;
  /** Where it was loaded from as ld.so printed it (not normalised); null = "not found". */
  path: string | null;
}

export interface VersionProblem {
  provider: string;
  version: string;
  requiredBy: string;
  weak: boolean;
}

export interface UndefinedSymbol {
  symbol: string;
  version: string | null;
  object: string;
}

export interface RealLoaderTrace {
  file: string;
  /** ldd's "not a dynamic executable": --verify said 1 and ld.so never traced the file. */
  notDynamic: boolean;
  /**
   * ld.so's "statically linked": the file WAS traced but has no DT_NEEDED (rtld.c prints this line
   * instead of the object list). Versions and symbols are still checked and reported as usual, so
   * such a file is compared like any other: it loads nothing besides itself.
   */
  noNeeded: boolean;
  /** In the order ld.so printed them, the vDSO excluded, the loader itself included as printed. */
  objects: TracedObject[];
  versionErrors: VersionProblem[];
  noVersionInfo: { provider: string; requiredBy: string }[];
  undefinedSymbols: UndefinedSymbol[];
  /**
   * A fatal error, verbatim after the "PROG: " prefix, e.g.
   * "error while loading shared libraries: libx.so.1: file too short";
   * "Inconsistency detected by ld.so: …" (an assertion) is kept whole;
   * ldd's own refusals ("ldd: F: No such file or directory", "ldd: F: not
   * regular file", "ldd: error: you do not have read permission for `F'") too.
   */
  fatal: string | null;
  /** Lines of stdout/stderr that none of the above explains (should stay empty). */
  unrecognized: string[];
  /** Exit status of the traced ld.so run; 1 when ldd would not trace (ldd's status). */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface TraceOptions {
  /** Default: this host's PT_INTERP, /lib64/ld-linux-x86-64.so.2. */
  ldso?: string;
  /** Environment besides PATH, e.g. { LD_LIBRARY_PATH }. */
  env?: Record<string, string>;
  /** `ldd -r` semantics: LD_WARN=yes LD_BIND_NOW=yes. */
  bindNow?: boolean;
  /** Default hostRunner; a chroot runner for lab roots is passed in by other code. */
  runner?: CommandRunner;
}

export const DEFAULT_LDSO = '/lib64/ld-linux-x86-64.so.2';

const VDSO_NAME = /^linux-(?:vdso|gate)(?:32|64)?\.so\.1$/;
const LOADING_ERROR = 'error while loading shared libraries: ';

/** The argument ldd passes to ld.so: a name without a slash gets "./". */
export function lddArgument(file: string): string {
  return file.includes('/') ? file : `./${file}`;
}

function traceEnv(env: Record<string, string>, bindNow: boolean, verifyOut: string): Record<string, string> {
  return {
    ...env,
    LD_TRACE_LOADED_OBJECTS: '1',
    LD_WARN: bindNow ? 'yes' : '',
    LD_BIND_NOW: bindNow ? 'yes' : '',
    LD_LIBRARY_VERSION: verifyOut,
    LD_VERBOSE: '',
  };
}

type FileCheck = 'missing' | 'notreg' | 'unreadable' | 'ok';

/** What ldd itself prints (to stderr) when it refuses a file before tracing. */
function lddRefusal(check: FileCheck, arg: string): string {
  switch (check) {
    case 'missing':
      return `ldd: ${arg}: No such file or directory\n`;
    case 'notreg':
      return `ldd: ${arg}: not regular file\n`;
    case 'unreadable':
      return `ldd: error: you do not have read permission for \`${arg}'\n`;
    case 'ok':
      return '\tnot a dynamic executable\n';
  }
}

const FILE_CHECK_SCRIPT =
  'if test ! -e "$1"; then echo missing; elif test ! -f "$1"; then echo notreg; ' +
  'elif test ! -r "$1"; then echo unreadable; else echo ok; fi';

/**
 * Trace one file with the real loader, as `ldd [-r] FILE` would. Costs two
 * processes (--verify, then the trace); a third, `/bin/sh`, only when --verify
 * refuses the file, to tell ldd's "No such file" / "not regular file" apart.
 */
export async function traceWithRealLoader(file: string, opts: TraceOptions = {}): Promise<RealLoaderTrace> {
  const ldso = opts.ldso ?? DEFAULT_LDSO;
  const runner = opts.runner ?? hostRunner;
  const env = opts.env ?? {};
  const arg = lddArgument(file);
  const verify = await runner([ldso, '--verify', arg], env);
  if (verify.exitCode === 0 || verify.exitCode === 2) {
    const verifyOut = verify.stdout.replace(/\n+$/, '');
    const run = await runner([ldso, arg], traceEnv(env, opts.bindNow ?? false, verifyOut));
    return parseTrace(file, run.exitCode, run.stdout, run.stderr);
  }
  if (verify.exitCode !== 1) {
    return parseTrace(file, 1, '', `ldd: ${ldso} exited with unknown exit code (${verify.exitCode})\n`);
  }
  let check: FileCheck = 'ok';
  try {
    const r = await runner(['/bin/sh', '-c', FILE_CHECK_SCRIPT, 'sh', arg], env);
    const word = r.stdout.trim();
    if (word === 'missing' || word === 'notreg' || word === 'unreadable') check = word;
  } catch {
    // no /bin/sh in the runner's world: --verify's verdict is all we have.
  }
  return parseTrace(file, 1, '', lddRefusal(check, arg));
}

function shellQuote(s: string): string {
  if (s.includes('\0')) throw new Error(`cannot pass a NUL byte through /bin/sh: ${JSON.stringify(s)}`);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The /bin/sh script tracing `files` (ldd's loop, one file after the other), exported for inspection. */
export function batchScript(files: string[], ldso: string, bindNow: boolean, nonce: string): string {
  const warn = bindNow ? 'yes' : '';
  const lines = [
    `L=${shellQuote(ldso)}`,
    `N=${shellQuote(nonce)}`,
    // ldd skips loaders it cannot execute; a missing loader here is a setup error.
    `if test ! -x "$L"; then echo "$N NOLDSO" >&2; exit 97; fi`,
    't() {',
    '  printf \'%s B %s\\n\' "$N" "$1"; printf \'%s B %s\\n\' "$N" "$1" >&2',
    '  f=$2',
    '  if test ! -e "$f"; then echo "ldd: ${f}: No such file or directory" >&2; rc=1',
    '  elif test ! -f "$f"; then echo "ldd: ${f}: not regular file" >&2; rc=1',
    '  elif test -r "$f"; then',
    '    v=$("$L" --verify "$f"); rc=$?',
    '    case $rc in',
    `    0|2) LD_TRACE_LOADED_OBJECTS=1 LD_WARN=${warn} LD_BIND_NOW=${warn} LD_LIBRARY_VERSION="$v" ` +
      'LD_VERBOSE= "$L" "$f"; rc=$? ;;',
    "    1) printf '\\tnot a dynamic executable\\n' >&2 ;;",
    '    *) echo "ldd: $L exited with unknown exit code ($rc)" >&2; rc=1 ;;',
    '    esac',
    '  else echo "ldd: error: you do not have read permission for \\`${f}\'" >&2; rc=1',
    '  fi',
    '  printf \'\\n%s E %s %s\\n\' "$N" "$1" "$rc"; printf \'\\n%s E %s %s\\n\' "$N" "$1" "$rc" >&2',
    '}',
  ];
  files.forEach((file, i) => lines.push(`t ${i} ${shellQuote(lddArgument(file))}`));
  return lines.join('\n') + '\n';
}

interface Segment {
  text: string;
  exitCode: number;
}

/** Split one stream of the batch output into the per-file segments. */
function splitSegments(stream: string, nonce: string, count: number, which: string): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const begin = `${nonce} B ${i}\n`;
    if (!stream.startsWith(begin, pos)) {
      throw new Error(`batch ${which}: begin marker ${i} missing at offset ${pos}`);
    }
    const start = pos + begin.length;
    const endPrefix = `\n${nonce} E ${i} `;
    const end = stream.indexOf(endPrefix, start);
    if (end < 0) throw new Error(`batch ${which}: end marker ${i} missing`);
    const eol = stream.indexOf('\n', end + endPrefix.length);
    if (eol < 0) throw new Error(`batch ${which}: end marker ${i} truncated`);
    const exitCode = Number(stream.slice(end + endPrefix.length, eol));
    out.push({ text: stream.slice(start, end), exitCode });
    pos = eol + 1;
  }
  return out;
}

/**
 * Trace many files with few processes: one `/bin/sh` per batch runs ldd's logic
 * for every file and frames each file's stdout and stderr with random
 * delimiters carrying the exit status. Results are identical to
 * traceWithRealLoader on each file.
 */
export async function traceManyWithRealLoader(
  files: string[],
  opts: TraceOptions & { batchSize?: number } = {},
): Promise<RealLoaderTrace[]> {
  const ldso = opts.ldso ?? DEFAULT_LDSO;
  const runner = opts.runner ?? hostRunner;
  const env = opts.env ?? {};
  const batchSize = Math.max(1, opts.batchSize ?? 256);
  const results: RealLoaderTrace[] = [];
  for (let off = 0; off < files.length; off += batchSize) {
    const batch = files.slice(off, off + batchSize);
    const nonce = `@@pyrelo-${randomBytes(12).toString('hex')}@@`;
    const script = batchScript(batch, ldso, opts.bindNow ?? false, nonce);
    const r = await runner(['/bin/sh', '-c', script], env);
    if (r.exitCode === 97 && r.stderr.includes(`${nonce} NOLDSO`)) {
      throw new Error(`loader ${ldso} is not executable in the runner's world`);
    }
    if (r.exitCode !== 0) {
      throw new Error(`batch shell failed (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
    }
    const outs = splitSegments(r.stdout, nonce, batch.length, 'stdout');
    const errs = splitSegments(r.stderr, nonce, batch.length, 'stderr');
    batch.forEach((file, i) => {
      const o = outs[i];
      const e = errs[i];
      if (o === undefined || e === undefined) throw new Error('batch: segment missing');
      results.push(parseTrace(file, o.exitCode, o.text, e.text));
    });
  }
  return results;
}

const VERSION_RE = /^(.*): (weak )?version `(.*)' not found \(required by (.*)\)$/s;
const NO_VERSION_INFO_RE = /^(.*): no version information available \(required by (.*)\)$/s;
const UNDEFINED_RE = /^undefined symbol: (.*?)(?:, version ([^\t]*))?\t\((.*)\)$/s;
const OBJECT_ADDR_RE = /^(.*) \(0x[0-9a-f]+\)$/s;

/**
 * Parse ld.so's trace output (glibc elf/rtld.c, dl-version.c, dl-lookup.c).
 *
 * stdout (rtld.c, trace mode):
 *   "\tNAME => PATH (0xADDR)"   loaded from PATH
 *   "\tNAME => not found"       missing (trace mode fakes the object and goes on)
 *   "\tNAME (0xADDR)"           name equals path: the vDSO, the loader, a DT_NEEDED with a slash
 *   "\tstatically linked"       the traced object has no DT_NEEDED (printed instead of the list;
 *                               versions and symbols are still checked: noNeeded, not notDynamic)
 * stderr:
 *   "PROG: PROVIDER: version `V' not found (required by X)"  (print_missing_version)
 *   "PROG: PROVIDER: weak version `V' not found (required by X)"
 *   "PROG: PROVIDER: no version information available (required by X)"
 *   "undefined symbol: SYM, version V\t(OBJ)" / "undefined symbol: SYM\t(OBJ)"  (LD_WARN only)
 *   "PROG: error while loading shared libraries: OBJ: MSG[: strerror]"  (fatal, exit 127)
 *   "Inconsistency detected by ld.so: FILE: LINE: FN: Assertion `…' failed!"  (exit 127)
 * PROG is the file as passed to ld.so (ldd's argument, "./" added to bare names).
 * A missing version is NOT fatal in trace mode: exit status stays 0.
 */
export function parseTrace(file: string, exitCode: number, stdout: string, stderr: string): RealLoaderTrace {
  const trace: RealLoaderTrace = {
    file,
    notDynamic: false,
    noNeeded: false,
    objects: [],
    versionErrors: [],
    noVersionInfo: [],
    undefinedSymbols: [],
    fatal: null,
    unrecognized: [],
    exitCode,
    stdout,
    stderr,
  };
  const prog = lddArgument(file);
  const progPrefix = `${prog}: `;

  for (const line of splitLines(stdout)) {
    if (line === '') continue;
    if (!line.startsWith('\t')) {
      trace.unrecognized.push(line);
      continue;
    }
    const body = line.slice(1);
    if (body === 'statically linked') {
      trace.noNeeded = true;
      continue;
    }
    const arrow = body.indexOf(' => ');
    if (arrow >= 0) {
      const name = body.slice(0, arrow);
      const rest = body.slice(arrow + 4);
      if (rest === 'not found') {
        trace.objects.push({ name, path: null });
        continue;
      }
      const m = OBJECT_ADDR_RE.exec(rest);
      if (m && m[1] !== undefined) {
        trace.objects.push({ name, path: m[1] });
        continue;
      }
    } else {
      const m = OBJECT_ADDR_RE.exec(body);
      if (m && m[1] !== undefined) {
        if (!VDSO_NAME.test(m[1])) trace.objects.push({ name: m[1], path: m[1] });
        continue;
      }
    }
    trace.unrecognized.push(line);
  }

  for (const line of splitLines(stderr)) {
    if (line === '') continue;
    if (line === '\tnot a dynamic executable') {
      trace.notDynamic = true;
      continue;
    }
    if (line.startsWith('ldd: ') || line.startsWith('Inconsistency detected by ld.so: ')) {
      trace.fatal ??= line;
      continue;
    }
    const u = UNDEFINED_RE.exec(line);
    if (u && u[1] !== undefined && u[3] !== undefined) {
      trace.undefinedSymbols.push({ symbol: u[1], version: u[2] ?? null, object: u[3] });
      continue;
    }
    let rest: string | null = null;
    if (line.startsWith(progPrefix)) rest = line.slice(progPrefix.length);
    if (rest !== null) {
      if (rest.startsWith(LOADING_ERROR) || /^[a-z ]+ error: /.test(rest)) {
        trace.fatal ??= rest;
        continue;
      }
      const v = VERSION_RE.exec(rest);
      if (v && v[1] !== undefined && v[3] !== undefined && v[4] !== undefined) {
        trace.versionErrors.push({ provider: v[1], version: v[3], requiredBy: v[4], weak: v[2] !== undefined });
        continue;
      }
      const n = NO_VERSION_INFO_RE.exec(rest);
      if (n && n[1] !== undefined && n[2] !== undefined) {
        trace.noVersionInfo.push({ provider: n[1], requiredBy: n[2] });
        continue;
      }
    } else {
      // PROG differs from what we expected (should not happen): fall back on the occasion text.
      const at = line.indexOf(`: ${LOADING_ERROR}`);
      if (at >= 0) {
        trace.fatal ??= line.slice(at + 2);
        continue;
      }
    }
    trace.unrecognized.push(line);
  }
  return trace;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The objects that were found, as name → path (first occurrence wins). */
export function foundObjects(trace: RealLoaderTrace): Map<string, string> {
  const m = new Map<string, string>();
  for (const o of trace.objects) if (o.path !== null && !m.has(o.name)) m.set(o.name, o.path);
  return m;
}

/** Names printed as "=> not found". */
export function missingObjects(trace: RealLoaderTrace): string[] {
  return trace.objects.filter((o) => o.path === null).map((o) => o.name);
}
