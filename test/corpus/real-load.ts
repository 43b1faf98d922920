// The real loader's side of the corpus comparison: in a lab root, with the bundle bound in at the
// same path it has here (so that both sides name files alike), every library is opened by a fresh
// process of the bundle's own interpreter with ctypes.CDLL(path, os.RTLD_NOW), as Python opens an
// extension module (dlopen, RTLD_LOCAL | RTLD_NOW). One `sh` loop per root; one interpreter per file.

import { runInRoot } from '../lab/lab.js';

/** What the real loader said about one file. */
export interface RealVerdict {
  readonly loaded: boolean;
  /** The exit status of the interpreter (0 loaded, 3 dlopen failed, anything else: it did not get that far). */
  readonly exitCode: number;
  /** dlerror()'s text, or whatever the process printed when it did not start; '' when it loaded. */
  readonly message: string;
}

/**
 * Run by the bundle's interpreter with -I -S (no site, no user paths: nothing else is loaded into
 * the process first). Exit 3 with dlerror()'s text when the load fails. A load that succeeded ends
 * with _exit(0): the verdict is the loader's, and an extension module opened without its PyInit
 * may crash in its own destructors at interpreter shutdown (matplotlib's ft2font aborts with
 * "PyThreadState_Get: the function must be called with the GIL held").
 */
const LOAD_ONE = [
  'import ctypes, os, sys',
  'try:',
  '    ctypes.CDLL(sys.argv[1], os.RTLD_NOW)',
  'except OSError as error:',
  '    sys.stdout.write(str(error))',
  '    sys.stdout.flush()',
  '    os._exit(3)',
  'os._exit(0)',
].join('\n');

/**
 * Reads file paths from stdin; prints `path <TAB> exit status <TAB> output on one line` per file.
 * A library whose constructors hang is stopped by timeout(1) (coreutils, or busybox's applet).
 */
const LOOP = `code=$1; python=$2; limit=$3
while IFS= read -r f; do
  out=$(timeout "$limit" "$python" -I -S -c "$code" "$f" 2>&1 </dev/null); rc=$?
  printf '%s\\t%s\\t%s\\n' "$f" "$rc" "$(printf '%s' "$out" | tr '\\n\\t' '  ')"
done`;

/**
 * The same for files only ever preloaded (manifest preloadOnly, docs/loader-model.md "LD_PRELOAD"):
 * the interpreter is started with the file in LD_PRELOAD and does nothing. `env` sets it, so that
 * timeout(1) itself starts without it.
 */
const PRELOAD_LOOP = `python=$1; limit=$2
while IFS= read -r f; do
  out=$(timeout "$limit" env LD_PRELOAD="$f" "$python" -I -S -c 'import os; os._exit(0)' 2>&1 </dev/null); rc=$?
  printf '%s\\t%s\\t%s\\n' "$f" "$rc" "$(printf '%s' "$out" | tr '\\n\\t' '  ')"
done`;

/** Seconds one load may take (the largest libraries load in well under one). */
const PER_FILE_SECONDS = 120;

export interface RealLoadOptions {
  /** The bundle's interpreter, absolute (its launcher: bin/python3 in a --libc bundle bundle). */
  readonly python: string;
  /** Bundle folders to bind in, read-only, each at its own path. */
  readonly binds: readonly string[];
  readonly timeoutMs?: number;
  /** Files started as LD_PRELOAD rather than dlopened (the bundle's --preload-only). */
  readonly preloaded?: ReadonlySet<string>;
}

/** Loads each file in the root, each in its own interpreter; a verdict per file. */
export async function loadEachInRoot(
  root: string,
  files: readonly string[],
  options: RealLoadOptions,
): Promise<Map<string, RealVerdict>> {
  const preloaded = options.preloaded ?? new Set<string>();
  const verdicts = new Map<string, RealVerdict>();
  const runs: [readonly string[], string[]][] = [
    [files.filter((f) => !preloaded.has(f)), [LOOP, 'corpus-load', LOAD_ONE]],
    [files.filter((f) => preloaded.has(f)), [PRELOAD_LOOP, 'corpus-preload']],
  ];
  for (const [some, script] of runs) {
    if (some.length === 0) continue;
    const r = await runInRoot(root, ['/bin/sh', '-c', ...script, options.python, String(PER_FILE_SECONDS)], {
      bind: options.binds.map((dir) => ({ hostPath: dir, rootPath: dir, readOnly: true })),
      input: `${some.join('\n')}\n`,
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      mountProc: true,
      timeoutMs: options.timeoutMs ?? 3_600_000,
    });
    if (r.timedOut) throw new Error(`loading ${some.length} files in ${root} timed out`);
    for (const line of r.stdout.split('\n')) {
      const [file, status, ...rest] = line.split('\t');
      if (file === undefined || status === undefined || file === '') continue;
      const exitCode = Number(status);
      verdicts.set(file, { loaded: exitCode === 0, exitCode, message: rest.join('\t').trim() });
    }
  }
  const missing = files.filter((f) => !verdicts.has(f));
  if (missing.length > 0)
    throw new Error(
      `no verdict for ${missing.length} of ${files.length} files in ${root}: ${missing.slice(0, 5).join(' ')}`,
    );
  return verdicts;
}
