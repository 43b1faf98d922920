// How pyrelo reaches a host it deploys to: run a command there, look at and move files, and send
// a file that may already have partly arrived. Two kinds implement it: SSH (ssh2, with SFTP for
// files) for customer and staging hosts, and chroot for a root filesystem on this machine (a
// staging root with no sshd, such as a busybox-only one). The deploy steps are written against
// this interface only, so both kinds get the same steps.

import { UserInputError } from '../common/user-input-error.js';

export interface RemoteExecOptions {
  /** Bytes written to the command's standard input, which is then closed. */
  readonly stdin?: Uint8Array;
  /** Called with each chunk of standard error as it arrives (progress of a long remote step). */
  readonly onStderr?: (chunk: string) => void;
}

export interface RemoteExecResult {
  /** The command's exit status; 255 when it was killed by a signal or the connection dropped. */
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface RemoteStat {
  readonly size: number;
  readonly isDirectory: boolean;
  readonly isSymbolicLink: boolean;
}

export interface UploadProgress {
  /** Bytes of the file known to be on the host: the resume offset plus acknowledged writes. */
  readonly acknowledged: number;
  readonly total: number;
}

export interface UploadResult {
  /** Payload bytes this call sent (not counting what was already there). */
  readonly bytesSent: number;
  /** Where the upload started: the size the partial file already had. */
  readonly resumedFrom: number;
}

export interface RemoteTransport {
  /** Who and where, for messages: "root@127.0.0.1:2222" or "chroot /srv/roots/busybox". */
  readonly description: string;
  /**
   * Runs a command through the host's /bin/sh (`sh -c SCRIPT`). Arguments must be quoted with
   * shellQuote by the caller. Never rejects for a non-zero exit; rejects when the host cannot be
   * reached or the connection drops (RemoteConnectionError).
   */
  exec(script: string, options?: RemoteExecOptions): Promise<RemoteExecResult>;
  /** lstat of an absolute path on the host; null when it does not exist. */
  stat(path: string): Promise<RemoteStat | null>;
  /** The whole content of a (small) file on the host. */
  readFile(path: string): Promise<Buffer>;
  /**
   * Sends `localPath` to `remotePath`, keeping whatever prefix of it is already there (the
   * partial file's size is the resume offset) and writing the rest. The caller checks the result
   * (sha256 on the host). A dropped connection rejects with an UploadInterruptedError that says
   * how many bytes the host had acknowledged.
   */
  upload(localPath: string, remotePath: string, onProgress?: (progress: UploadProgress) => void): Promise<UploadResult>;
  close(): Promise<void>;
}

/** Quotes one word for a POSIX shell (busybox ash included). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The host could not be reached, refused us, or the connection dropped mid-way. */
export class RemoteConnectionError extends UserInputError {
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super(target, reason);
    this.name = 'RemoteConnectionError';
  }
}

/** An upload stopped part-way; `acknowledged` bytes are known to be on the host. */
export class UploadInterruptedError extends RemoteConnectionError {
  constructor(
    target: string,
    reason: string,
    readonly remotePath: string,
    readonly acknowledged: number,
    readonly total: number,
  ) {
    super(target, `upload of ${remotePath} interrupted after ${acknowledged} of ${total} bytes: ${reason}`);
    this.name = 'UploadInterruptedError';
  }
}
