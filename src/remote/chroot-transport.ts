// A root filesystem on this machine reached by chroot(8): a staging root with no sshd (the lab's
// busybox-only root, say). Files are read and written through ROOT + path, never following a
// symlink out of the root (paths are resolved inside it, the way the chrooted commands see them).
//
// Commands get what a real host has (README "Deploy over SSH", chroot hosts): each runs as
// `chroot ROOT /bin/sh -c SCRIPT` with a small clean environment, inside its own mount and PID
// namespace (util-linux unshare) where ROOT/proc and ROOT/dev are mounted first. Without /proc,
// ld.so cannot give a program its own $ORIGIN (README "Launchers and /proc"), so a host-libc
// bundle would fail there although it runs on any real host. The mounts exist only in that
// namespace and vanish with its last process; `setpriv --pdeathsig KILL` and `unshare
// --kill-child` end every process of the command when the process that started it dies, even by
// kill -9, so nothing is ever mounted on this machine itself.

import { createReadStream, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import {
  RemoteConnectionError,
  UploadInterruptedError,
  type RemoteExecOptions,
  type RemoteExecResult,
  type RemoteStat,
  type RemoteTransport,
  type UploadProgress,
  type UploadResult,
} from './transport.js';

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };

/** Exit status and stderr marker of a failed namespace set-up (not the command's own failure). */
const SETUP_FAILED = 125;
const SETUP_MARKER = 'pyrelo-chroot-setup:';

/**
 * Run by this machine's /bin/sh inside the new namespaces, with $1 = ROOT and $2 = SCRIPT. Not
 * exec: this shell stays PID 1 of the namespace, so the command is an ordinary process (signals,
 * reaping) as on a real host. A root without /proc or /dev folders gets them, as a real host has.
 */
const NAMESPACE_SCRIPT = [
  `fail() { echo "${SETUP_MARKER} $*" >&2; exit ${SETUP_FAILED}; }`,
  'mkdir -p "$1/proc" "$1/dev" || fail "cannot create /proc and /dev in $1"',
  'mount -t proc proc "$1/proc" || fail "cannot mount /proc in $1"',
  'mount --rbind /dev "$1/dev" || fail "cannot mount /dev in $1"',
  'chroot "$1" /bin/sh -c "$2"',
  'exit $?',
].join('\n');

export class ChrootTransport implements RemoteTransport {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    if (!statSync(root, { throwIfNoEntry: false })?.isDirectory())
      throw new RemoteConnectionError(`chroot ${root}`, 'not a folder');
    if (!statSync(join(root, 'bin', 'sh'), { throwIfNoEntry: false }))
      throw new RemoteConnectionError(`chroot ${root}`, 'has no /bin/sh');
    this.root = realpathSync(root);
    this.description = `chroot ${this.root}`;
  }

  /** ROOT + path, refusing a path whose existing part resolves outside the root. */
  private hostPath(path: string): string {
    if (!path.startsWith('/'))
      throw new RemoteConnectionError(this.description, `expected an absolute path, got ${path}`);
    const full = join(this.root, path);
    let existing = full;
    while (!statSync(existing, { throwIfNoEntry: false }) && existing !== this.root) existing = resolve(existing, '..');
    const real = realpathSync(existing);
    if (real !== this.root && relative(this.root, real).startsWith('..'))
      throw new RemoteConnectionError(this.description, `${path} resolves outside the root`);
    return full;
  }

  async exec(script: string, options: RemoteExecOptions = {}): Promise<RemoteExecResult> {
    const child = execa(
      'setpriv',
      [
        '--pdeathsig',
        'KILL',
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--pid',
        '--kill-child',
        '--',
        '/bin/sh',
        '-c',
        NAMESPACE_SCRIPT,
        'pyrelo-chroot',
        this.root,
        script,
      ],
      {
        reject: false,
        encoding: 'buffer',
        extendEnv: false,
        env: ENV,
        cwd: '/',
        maxBuffer: 1024 ** 3,
        input: options.stdin === undefined ? '' : Buffer.from(options.stdin),
        // The outer unshare blocks SIGTERM while it waits; only SIGKILL ends it (and, through
        // --kill-child, the namespace).
        killSignal: 'SIGKILL',
      },
    );
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      options.onStderr?.(chunk.toString());
    });
    const result = await child;
    if (result.failed && result.exitCode === undefined)
      throw new RemoteConnectionError(this.description, result.shortMessage ?? 'chroot failed');
    const errors = Buffer.concat(stderr).toString();
    if (result.exitCode === SETUP_FAILED && errors.includes(SETUP_MARKER)) {
      throw new RemoteConnectionError(
        this.description,
        errors.slice(errors.indexOf(SETUP_MARKER) + SETUP_MARKER.length).trim(),
      );
    }
    return { exitCode: result.exitCode ?? 255, stdout: Buffer.from(result.stdout ?? []), stderr: errors };
  }

  async stat(path: string): Promise<RemoteStat | null> {
    const stat = lstatSync(this.hostPath(path), { throwIfNoEntry: false });
    return stat === undefined
      ? null
      : { size: stat.size, isDirectory: stat.isDirectory(), isSymbolicLink: stat.isSymbolicLink() };
  }

  async readFile(path: string): Promise<Buffer> {
    return readFileSync(this.hostPath(path));
  }

  async upload(
    localPath: string,
    remotePath: string,
    onProgress?: (progress: UploadProgress) => void,
  ): Promise<UploadResult> {
    const target = this.hostPath(remotePath);
    const total = statSync(localPath).size;
    const existing = lstatSync(target, { throwIfNoEntry: false });
    if (existing?.isSymbolicLink())
      throw new RemoteConnectionError(this.description, `${remotePath} is a symlink; refusing to write through it`);
    // A partial file longer than the source is not a prefix of it: start again.
    const resumedFrom = existing !== undefined && existing.size <= total ? existing.size : 0;
    // As the SSH transport does: the first report is the resume offset, and a byte counts as
    // acknowledged once it is written to the file, so an interruption names what is really there.
    let acknowledged = resumedFrom;
    onProgress?.({ acknowledged, total });
    const input = createReadStream(localPath, { start: resumedFrom });
    const output = await open(target, resumedFrom > 0 ? 'r+' : 'w', 0o600);
    try {
      for await (const chunk of input) {
        await output.write(chunk as Buffer, 0, (chunk as Buffer).length, acknowledged);
        acknowledged += (chunk as Buffer).length;
        onProgress?.({ acknowledged, total });
      }
    } catch (error) {
      throw new UploadInterruptedError(this.description, (error as Error).message, remotePath, acknowledged, total);
    } finally {
      await output.close();
    }
    return { bytesSent: total - resumedFrom, resumedFrom };
  }

  async close(): Promise<void> {}
}
