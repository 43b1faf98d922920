// RemoteTransport over SSH: commands through the host's /bin/sh on an exec channel, files over
// SFTP. One connection per transport; when it drops, every pending call rejects with a
// RemoteConnectionError and the caller reconnects with a new transport (upload resumes).
import { open, stat as localStat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel, SFTPWrapper, Stats } from 'ssh2';
import {
  RemoteConnectionError,
  shellQuote,
  UploadInterruptedError,
  type RemoteExecOptions,
  type RemoteExecResult,
  type RemoteStat,
  type RemoteTransport,
  type UploadProgress,
  type UploadResult,
} from '../transport.js';
import { connectSsh, type ConnectOptions } from './connect.js';
import { describeTarget, type SshTarget } from './ssh-config.js';

/**
 * Size of one SFTP write. OpenSSH's sftp-server takes writes up to 256 KiB (limits@openssh.com,
 * which ssh2 asks for; larger ones ssh2 splits). 128 KiB writes need a quarter of the requests of
 * sftp's 32 KiB, and per-request work in JavaScript is what limits throughput here: bench/deploy
 * measured 1.04-1.16x scp's speed with 32 KiB writes, 1.29-1.30x with 128 KiB (loopback, 30 MB).
 */
const UPLOAD_CHUNK = 128 * 1024;
/** Writes in flight at once: 16 × 128 KiB = 2 MiB, enough to fill a long fat link. */
const UPLOAD_WINDOW = 16;
/** Payload bytes an upload has sent but not seen acknowledged, at most: what a cut can waste. */
export const UPLOAD_BYTES_IN_FLIGHT = UPLOAD_CHUNK * UPLOAD_WINDOW;
/** SFTP status code for a missing file (draft-ietf-secsh-filexfer SSH_FX_NO_SUCH_FILE). */
const SFTP_NO_SUCH_FILE = 2;

export class SshTransport implements RemoteTransport {
  readonly description: string;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  /** Set once the connection is gone: why, for the errors of later calls. */
  private closedReason: string | undefined;
  private readonly closeWatchers = new Set<(reason: string) => void>();

  constructor(
    private readonly client: Client,
    target: SshTarget,
  ) {
    this.description = describeTarget(target);
    client.on('error', (error: Error) => (this.closedReason ??= error.message));
    client.once('close', () => {
      this.closedReason ??= 'connection closed';
      for (const watcher of this.closeWatchers) watcher(this.closedReason);
      this.closeWatchers.clear();
    });
  }

  /** Connects (see connectSsh: host key checked, agent then key files, jump hosts). */
  static async connect(target: SshTarget, options: ConnectOptions = {}): Promise<SshTransport> {
    return new SshTransport(await connectSsh(target, options), target);
  }

  // The command string is parsed by the user's login shell first, which is assumed to be
  // POSIX-like (sh, bash, dash, ash, ksh, zsh all treat single quotes the same); the script
  // itself then runs under /bin/sh whatever that login shell is. csh and fish are not supported.
  exec(script: string, options: RemoteExecOptions = {}): Promise<RemoteExecResult> {
    return this.whileConnected('exec', (settle) => {
      this.client.exec(`exec /bin/sh -c ${shellQuote(script)}`, (error, channel) => {
        if (error) return settle.reject(this.connectionError(`could not start a command: ${error.message}`));
        collect(channel, options, settle.resolve);
      });
    });
  }

  async stat(path: string): Promise<RemoteStat | null> {
    const sftp = await this.sftp();
    return this.whileConnected('stat', (settle) => {
      sftp.lstat(path, (error, stats) => {
        if (isNoSuchFile(error)) return settle.resolve(null);
        if (error) return settle.reject(this.sftpError(`lstat ${path}`, error));
        settle.resolve({ size: stats.size, isDirectory: stats.isDirectory(), isSymbolicLink: stats.isSymbolicLink() });
      });
    });
  }

  async readFile(path: string): Promise<Buffer> {
    const sftp = await this.sftp();
    return this.whileConnected('readFile', (settle) => {
      sftp.readFile(path, (error, data) =>
        error ? settle.reject(this.sftpError(`read ${path}`, error)) : settle.resolve(data),
      );
    });
  }

  /**
   * Resumes at the remote file's size: those bytes are trusted to be the local file's first
   * bytes (the caller checks the sha256 afterwards). A remote file larger than the local one
   * cannot be a prefix of it, so it is truncated and the upload starts from 0.
   *
   * Writes are pipelined (UPLOAD_WINDOW requests in flight), which ssh2's fastPut also does
   * but without a start offset. `acknowledged` only ever counts the contiguous prefix of
   * written chunks the server confirmed, so it never claims bytes that may be missing. The
   * first progress report, before any write, is the resume offset.
   *
   * A dropped connection at any step rejects with UploadInterruptedError; so does a write the
   * server refuses (disk full), since what was acknowledged is still worth keeping. A file the
   * server will not open (permission, missing folder) rejects with a plain Error.
   */
  async upload(
    localPath: string,
    remotePath: string,
    onProgress?: (progress: UploadProgress) => void,
  ): Promise<UploadResult> {
    const total = (await localStat(localPath)).size;
    let onHost = 0; // surely on the host so far, for the error when the connection drops
    const interrupted = (reason: string) =>
      new UploadInterruptedError(this.description, reason, remotePath, onHost, total);
    try {
      const sftp = await this.sftp();
      const handle = await this.openForUpload(sftp, remotePath, total);
      const resumedFrom = handle.resumedFrom;
      onHost = resumedFrom;
      const local = await open(localPath, 'r');
      try {
        const progress = (p: UploadProgress) => {
          onHost = p.acknowledged;
          onProgress?.(p);
        };
        await this.pipelinedWrite(sftp, handle.handle, local, { localPath, remotePath, resumedFrom, total }, progress);
        await this.finish(sftp, handle.handle, remotePath);
      } catch (error) {
        if (!this.closedReason) sftp.close(handle.handle, () => undefined); // e.g. disk full: release the handle
        throw error;
      } finally {
        await local.close();
      }
      return { bytesSent: total - resumedFrom, resumedFrom };
    } catch (error) {
      if (error instanceof RemoteConnectionError && !(error instanceof UploadInterruptedError))
        throw interrupted(error.reason);
      throw error;
    }
  }

  /**
   * Opens the remote file without ever writing through a symlink (README "Deploy over SSH"): SFTP
   * has no O_NOFOLLOW, so a symlink found by lstat is refused; a fresh file is created with
   * O_CREAT|O_EXCL (which no symlink passes, not even one planted after the lstat); and a partial
   * file is resumed only when the opened handle's fstat matches the lstat of the path (owner,
   * mode, size, mtime), so a link swapped in between is noticed before a byte is written.
   */
  private async openForUpload(
    sftp: SFTPWrapper,
    remotePath: string,
    total: number,
  ): Promise<{ handle: Buffer; resumedFrom: number }> {
    const lstat = (): Promise<Stats | null> =>
      this.whileConnected<Stats | null>('upload', (settle) => {
        sftp.lstat(remotePath, (error, stats) => {
          if (isNoSuchFile(error)) return settle.resolve(null);
          if (error) return settle.reject(this.sftpError(`lstat ${remotePath}`, error));
          settle.resolve(stats);
        });
      });
    const refuse = (why: string): Error =>
      new Error(`${this.description}: ${remotePath} ${why}; refusing to write through it`);
    const existing = await lstat();
    if (existing?.isSymbolicLink()) throw refuse('is a symlink');
    if (existing !== null && !existing.isFile()) throw refuse('is not a regular file');
    const openWith = (flags: 'r+' | 'wx'): Promise<Buffer> =>
      this.whileConnected<Buffer>('upload', (settle) => {
        sftp.open(remotePath, flags, (error, h) => {
          if (error && flags === 'wx' && (error as { code?: unknown }).code === 4)
            return settle.reject(refuse('appeared while it was being created (a planted symlink?)'));
          return error ? settle.reject(this.sftpError(`open ${remotePath} for writing`, error)) : settle.resolve(h);
        });
      });
    if (existing !== null && existing.size > 0 && existing.size <= total) {
      // 'r+' keeps the bytes already there; the handle must be the file just looked at.
      const handle = await openWith('r+');
      const opened = await this.whileConnected<Stats>('upload', (settle) => {
        sftp.fstat(handle, (error, stats) =>
          error ? settle.reject(this.sftpError(`fstat ${remotePath}`, error)) : settle.resolve(stats),
        );
      });
      const same =
        opened.isFile() &&
        (['uid', 'gid', 'mode', 'size', 'mtime'] as const).every((key) => opened[key] === existing[key]);
      if (!same) {
        sftp.close(handle, () => undefined);
        throw refuse('changed between lstat and open (a swapped symlink?)');
      }
      return { handle, resumedFrom: existing.size };
    }
    if (existing !== null) {
      // Empty, or larger than the local file (not a prefix of it): removed, then created anew.
      await this.whileConnected<void>('upload', (settle) => {
        sftp.unlink(remotePath, (error) =>
          error && !isNoSuchFile(error)
            ? settle.reject(this.sftpError(`remove ${remotePath}`, error))
            : settle.resolve(),
        );
      });
    }
    return { handle: await openWith('wx'), resumedFrom: 0 };
  }

  async close(): Promise<void> {
    if (this.closedReason) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
    });
  }

  private pipelinedWrite(
    sftp: SFTPWrapper,
    handle: Buffer,
    local: FileHandle,
    file: { localPath: string; remotePath: string; resumedFrom: number; total: number },
    onProgress: (progress: UploadProgress) => void,
  ): Promise<void> {
    const { localPath, remotePath, resumedFrom, total } = file;
    let acknowledged = resumedFrom;
    let nextOffset = resumedFrom;
    /** Chunks sent and not yet part of the acknowledged prefix, in file order. */
    const inFlight: { end: number; done: boolean }[] = [];
    let failed = false;
    const interruption = (reason: string) => {
      failed = true;
      return new UploadInterruptedError(this.description, reason, remotePath, acknowledged, total);
    };
    return this.whileConnected<void>(
      'upload',
      (settle) => {
        const fail = (error: Error) => {
          failed = true;
          settle.reject(error);
        };
        // One pump at a time, so writes leave in file order: the server applies them in order,
        // and the remote file then never has a hole before its end (its size is the next resume
        // offset). Each acknowledgement restarts the pump if it had stopped at a full window.
        let pumping = false;
        const pump = async () => {
          if (pumping) return;
          pumping = true;
          try {
            while (!failed && inFlight.length < UPLOAD_WINDOW && nextOffset < total) {
              const position = nextOffset;
              const length = Math.min(UPLOAD_CHUNK, total - position);
              const chunk = { end: position + length, done: false };
              nextOffset += length;
              inFlight.push(chunk);
              const buffer = Buffer.allocUnsafe(length);
              const { bytesRead } = await local.read(buffer, 0, length, position);
              if (bytesRead !== length)
                throw new Error(
                  `${localPath}: the local file shrank during the upload (read ${bytesRead} of ${length} bytes ` +
                    `at ${position})`,
                );
              if (failed) return;
              sftp.write(handle, buffer, 0, length, position, (error) => {
                if (failed) return;
                if (error) return fail(interruption(`write at ${position}: ${error.message}`));
                chunk.done = true;
                while (inFlight[0]?.done) acknowledged = inFlight.shift()!.end;
                onProgress({ acknowledged, total });
                if (acknowledged === total) settle.resolve();
                else void pump().catch(fail);
              });
            }
          } finally {
            pumping = false;
          }
        };
        onProgress({ acknowledged, total }); // where it starts: the resume offset
        if (resumedFrom === total) return settle.resolve();
        void pump().catch(fail);
      },
      interruption,
    );
  }

  /** fsync (when the server offers fsync@openssh.com) and close: the bytes are on disk. */
  private async finish(sftp: SFTPWrapper, handle: Buffer, remotePath: string): Promise<void> {
    await this.whileConnected<void>('upload', (settle) => {
      try {
        sftp.ext_openssh_fsync(handle, (error) =>
          error ? settle.reject(this.connectionError(`fsync ${remotePath}: ${error.message}`)) : settle.resolve(),
        );
      } catch {
        settle.resolve(); // the server has no fsync extension: close is the best there is
      }
    });
    await this.whileConnected<void>('upload', (settle) => {
      sftp.close(handle, (error) =>
        error ? settle.reject(this.connectionError(`close ${remotePath}: ${error.message}`)) : settle.resolve(),
      );
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.whileConnected<SFTPWrapper>('sftp', (settle) => {
      this.client.sftp((error, sftp) => {
        if (error) return settle.reject(this.connectionError(`SFTP unavailable: ${error.message}`));
        // Its errors end in 'close' too (pending requests get theirs); a closed SFTP session on a
        // live connection (sftp-server killed) is opened anew by the next call.
        sftp.on('error', () => undefined);
        sftp.once('close', () => (this.sftpSession = undefined));
        settle.resolve(sftp);
      });
    });
    // A failed attempt is not cached: the next call asks again.
    this.sftpSession.catch(() => (this.sftpSession = undefined));
    return this.sftpSession;
  }

  /**
   * Runs one request and settles its promise exactly once, rejecting with a
   * RemoteConnectionError when the connection is (or goes) away first.
   */
  private whileConnected<T>(
    what: string,
    start: (settle: { resolve: (value: T) => void; reject: (error: Error) => void }) => void,
    lost: (reason: string) => Error = (reason) => this.connectionError(`${what}: ${reason}`),
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedReason) return reject(lost(this.closedReason));
      let done = false;
      const onClose = (reason: string) => finish(() => reject(lost(reason)));
      const finish = (action: () => void) => {
        if (done) return;
        done = true;
        this.closeWatchers.delete(onClose);
        action();
      };
      this.closeWatchers.add(onClose);
      start({ resolve: (value) => finish(() => resolve(value)), reject: (error) => finish(() => reject(error)) });
    });
  }

  private connectionError(reason: string): RemoteConnectionError {
    return new RemoteConnectionError(this.description, reason);
  }

  /** An SFTP status (no such file, permission denied) is the file's problem, not the link's. */
  private sftpError(what: string, error: Error): Error {
    const status = (error as { code?: unknown }).code;
    if (typeof status !== 'number' || this.closedReason)
      return this.connectionError(`${what}: ${this.closedReason ?? error.message}`);
    return new Error(`${this.description}: ${what}: ${error.message}`);
  }
}

function isNoSuchFile(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === SFTP_NO_SUCH_FILE;
}

/** Gathers a command's output; exit status 255 when it died of a signal or reported none. */
function collect(
  channel: ClientChannel,
  options: RemoteExecOptions,
  resolve: (result: RemoteExecResult) => void,
): void {
  const stdout: Buffer[] = [];
  const decoder = new StringDecoder('utf8');
  let stderr = '';
  let exitCode: number | undefined;
  channel.on('error', () => undefined); // always followed by 'close', handled below
  channel.on('data', (chunk: Buffer) => stdout.push(chunk));
  channel.stderr.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    stderr += text;
    if (text) options.onStderr?.(text);
  });
  channel.on('exit', (code: number | null) => {
    exitCode = typeof code === 'number' ? code : 255; // null: killed by a signal
  });
  channel.once('close', () => {
    const rest = decoder.end();
    stderr += rest;
    if (rest) options.onStderr?.(rest);
    const result = { exitCode: exitCode ?? 255, stdout: Buffer.concat(stdout), stderr };
    // No exit status usually means the connection dropped: give the transport's close handler
    // a turn to reject the call with a RemoteConnectionError first.
    if (exitCode === undefined) setImmediate(() => resolve(result));
    else resolve(result);
  });
  channel.end(options.stdin ? Buffer.from(options.stdin) : undefined);
}
