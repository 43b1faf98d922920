// Running a command in a root "as that host would".
//
// Every run gets its own private mount namespace and PID namespace (util-linux `unshare`):
// /proc, /dev, /tmp, the overlay and any binds are mounted inside it only, so they are
// never visible on the host and vanish with the run's last process, whatever happens to
// Node (a thrown error, a timeout, SIGINT, or even kill -9). `setpriv --pdeathsig KILL`
// plus `unshare --kill-child` make the run's processes die with the Node process that
// started them, and the PID namespace makes them die together.
//
// By default the cached root is the lower layer of an overlayfs whose upper layer is a
// tmpfs: commands can write anywhere, and the cached root stays pristine.
import { mkdir, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { posix } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { labLayout } from './paths.js';
import { shellQuote } from './shell-quote.js';
import { trackProcess } from './live-processes.js';

export interface BindMount {
  hostPath: string;
  /** Absolute path inside the root; created (in the overlay) when missing. */
  rootPath: string;
  readOnly?: boolean;
}

export interface CopyIn {
  hostPath: string;
  /** Absolute path inside the root; the copy lands in the throwaway overlay. */
  rootPath: string;
}

export interface RunOptions {
  /** Mount a fresh /proc for the run's PID namespace (default true). */
  mountProc?: boolean;
  /** Environment inside the root (never the host's); added to PATH/HOME/LANG defaults. */
  env?: Record<string, string>;
  /** Working directory inside the root (default /). */
  cwd?: string;
  input?: string;
  /** Kill the whole run after this long; the result then has timedOut: true, exitCode 124. */
  timeoutMs?: number;
  bind?: BindMount[];
  copyIn?: CopyIn[];
  /** Own network namespace with only `lo`, brought up. */
  netns?: boolean;
  /**
   * true (default): the root is the read-only lower layer of a tmpfs-backed overlay.
   * false: write straight into the root. Only the lab's own build steps use this.
   */
  overlay?: boolean;
  /**
   * Read-only folders laid over the root, first one on top (overlayfs lower layers): a root
   * derived from a cached one without copying it (test/lab/nss-layers.ts). Needs overlay.
   */
  layers?: string[];
  /** 'inherit' gives the command the terminal (developers' `lab shell`). */
  stdio?: 'pipe' | 'inherit';
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunningInRoot {
  /** The host pid of the outer process; killing it ends every process of the run. */
  pid: number | undefined;
  done: Promise<RunResult>;
  kill(): void;
}

const DEFAULT_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C',
};
const TIMEOUT_EXIT_CODE = 124;
/** Every lab root has it: coreutils in the Debian roots, an applet link in busybox/musl. */
const ROOT_ENV_BINARY = '/usr/bin/env';

function assertAbsoluteRootPath(path: string, what: string): void {
  if (!path.startsWith('/')) throw new Error(`${what} must be an absolute path inside the root: ${path}`);
}

/** overlayfs takes its layers in a comma/colon separated option string. */
function assertOverlaySafe(path: string): void {
  if (/[,:\\]/.test(path)) throw new Error(`cannot use ${path} as an overlay layer: it contains , : or \\`);
}

async function setupScript(root: string, opts: RunOptions): Promise<string> {
  const stage = labLayout().stage;
  const overlay = opts.overlay ?? true;
  const lines = ['set -e'];
  let newRoot = root;
  if (!overlay && (opts.layers ?? []).length > 0) throw new Error('runInRoot: layers need the overlay');
  if (overlay) {
    const lower = [...(opts.layers ?? []), root];
    for (const layer of lower) assertOverlaySafe(layer);
    assertOverlaySafe(stage);
    const s = shellQuote(stage);
    lines.push(
      `mount -t tmpfs -o mode=0755 pyrelo-lab-stage ${s}`,
      `mkdir ${s}/upper ${s}/work ${s}/root`,
      `mount -t overlay pyrelo-lab-overlay -o lowerdir=${shellQuote(lower.join(':'))},upperdir=${s}` +
        `/upper,workdir=${s}/work ${s}/root`,
    );
    newRoot = posix.join(stage, 'root');
  }
  const inRoot = (p: string) => shellQuote(posix.join(newRoot, p));
  if (opts.netns) lines.push('ip link set lo up');
  if (opts.mountProc ?? true) lines.push(`mkdir -p ${inRoot('/proc')}`, `mount -t proc proc ${inRoot('/proc')}`);
  // The host's /dev, recursively (pts included, for `lab shell`); only this namespace sees it.
  lines.push(`mkdir -p ${inRoot('/dev')}`, `mount --rbind /dev ${inRoot('/dev')}`);
  lines.push(`mkdir -p ${inRoot('/tmp')}`, `mount -t tmpfs -o mode=1777 pyrelo-lab-tmp ${inRoot('/tmp')}`);
  // Parents before children, so a bind inside another bind lands on top of it.
  const binds = [...(opts.bind ?? [])].sort((a, b) => a.rootPath.split('/').length - b.rootPath.split('/').length);
  for (const bind of binds) {
    assertAbsoluteRootPath(bind.rootPath, 'bind.rootPath');
    const isDirectory = (await stat(bind.hostPath)).isDirectory();
    const target = inRoot(bind.rootPath);
    lines.push(
      isDirectory ? `mkdir -p ${target}` : `mkdir -p "$(dirname ${target})" && touch ${target}`,
      `mount --bind ${shellQuote(bind.hostPath)} ${target}`,
    );
    if (bind.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  for (const copy of opts.copyIn ?? []) {
    assertAbsoluteRootPath(copy.rootPath, 'copyIn.rootPath');
    const target = inRoot(copy.rootPath);
    lines.push(`mkdir -p "$(dirname ${target})"`, `cp -a ${shellQuote(copy.hostPath)} ${target}`);
  }
  // Not exec: this shell stays PID 1 of the namespace, so the command is an ordinary
  // process (signals, reaping) as it would be on a real host.
  lines.push('set +e', `unshare --root=${shellQuote(newRoot)} --wd=${shellQuote(opts.cwd ?? '/')} -- "$@"`, 'exit $?');
  return lines.join('\n');
}

/** Starts a command in the root and returns at once; `done` settles when it ends. */
export async function spawnInRoot(root: string, argv: string[], opts: RunOptions = {}): Promise<RunningInRoot> {
  if (argv.length === 0) throw new Error('runInRoot: empty argv');
  if (opts.cwd) assertAbsoluteRootPath(opts.cwd, 'cwd');
  await mkdir(labLayout().stage, { recursive: true });
  const script = await setupScript(root, opts);
  const namespaces = ['--mount', '--propagation', 'private', '--pid', '--kill-child', ...(opts.netns ? ['--net'] : [])];
  const interactive = opts.stdio === 'inherit';
  // The command's environment is set by the root's own `env -i` after the chroot, so that
  // e.g. LD_LIBRARY_PATH or LD_PRELOAD meant for the root never reach the host's mount tools.
  const rootEnv = {
    ...DEFAULT_ENV,
    ...(interactive && process.env.TERM ? { TERM: process.env.TERM } : {}),
    ...opts.env,
  };
  const envArgv = [ROOT_ENV_BINARY, '-i', ...Object.entries(rootEnv).map(([k, v]) => `${k}=${v}`)];
  const child: ResultPromise = execa(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      'unshare',
      ...namespaces,
      '--',
      '/bin/sh',
      '-c',
      script,
      'pyrelo-lab-run',
      ...envArgv,
      ...argv,
    ],
    {
      env: DEFAULT_ENV,
      extendEnv: false,
      reject: false,
      stripFinalNewline: false,
      // The outer unshare blocks SIGTERM/SIGINT while waiting for its child, so only
      // SIGKILL ends a run; its death then kills the namespace's PID 1 (--kill-child).
      killSignal: 'SIGKILL',
      ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
      ...(interactive ? { stdio: 'inherit' as const } : { input: opts.input ?? '' }),
    },
  );
  // Ctrl-C in `lab shell` belongs to the shell inside the root, not to Node.
  const ignoreSigint = () => {};
  if (interactive) process.on('SIGINT', ignoreSigint);
  const untrack = interactive ? () => {} : trackProcess(child);
  const done = child.then((result) => {
    untrack();
    if (interactive) process.off('SIGINT', ignoreSigint);
    const signalCode = result.signal ? 128 + (constants.signals[result.signal] ?? 0) : 1;
    return {
      exitCode: result.timedOut ? TIMEOUT_EXIT_CODE : (result.exitCode ?? signalCode),
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      timedOut: result.timedOut,
    };
  });
  return { pid: child.pid, done, kill: () => void child.kill('SIGKILL') };
}

/** Runs a command in the root and waits for it. Never leaves a mount behind on the host. */
export async function runInRoot(root: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const running = await spawnInRoot(root, argv, opts);
  try {
    return await running.done;
  } finally {
    running.kill(); // no-op once it has ended; ends it if awaiting was interrupted
  }
}
