// The content-addressed bundle store: each packed bundle is kept once, under the sha256 of its
// bytes, next to an unpacked copy the server predicts with. An upload is written to a temporary
// file and renamed into place only after its digest and manifest check out, so a crash leaves
// either nothing or a whole bundle.

import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { extractArchive } from '../bundle/extract.js';
import { readManifest, type Manifest } from '../bundle/manifest.js';
import { BundleError } from '../bundle/errors.js';
import { bundleNameProblem, quoteName } from '../bundle/bundle-name.js';

const DIGEST = /^[0-9a-f]{64}$/;

export interface StoredArchive {
  readonly digest: string;
  readonly size: number;
  readonly manifest: Manifest;
  /** The raw pyrelo.json text (kept verbatim in the database). */
  readonly manifestText: string;
  readonly tree: string;
}

export class BundleStore {
  constructor(readonly dir: string) {
    for (const sub of ['archives', 'trees', 'incoming']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o750 });
  }

  archivePath(digest: string): string {
    if (!DIGEST.test(digest)) throw new BundleError(digest, 'not a sha256 digest');
    return join(this.dir, 'archives', digest);
  }

  treePath(digest: string): string {
    if (!DIGEST.test(digest)) throw new BundleError(digest, 'not a sha256 digest');
    return join(this.dir, 'trees', digest);
  }

  has(digest: string): boolean {
    return DIGEST.test(digest) && existsSync(this.archivePath(digest));
  }

  size(digest: string): number {
    return statSync(this.archivePath(digest)).size;
  }

  /** A writer for an upload in progress: bytes in order, then commit() or abort(). */
  incoming(): IncomingArchive {
    return new IncomingArchive(this, join(this.dir, 'incoming', `${process.pid}-${randomBytes(8).toString('hex')}`));
  }

  /** Moves a complete upload into place and unpacks it (checking every file against its manifest). */
  async adopt(temporary: string, digest: string, source: string): Promise<StoredArchive> {
    const archive = this.archivePath(digest);
    const tree = this.treePath(digest);
    if (!existsSync(tree)) await extractArchive(temporary, tree, { force: true });
    if (!existsSync(tree)) throw new BundleError(source, 'archive did not unpack');
    if (!existsSync(join(tree, 'pyrelo.json'))) {
      rmSync(tree, { recursive: true, force: true });
      throw new BundleError(source, 'not a pyrelo bundle: the archive has no pyrelo.json at its top');
    }
    // The name becomes the release folder `<name>-<digest>` and is printed in every listing: a
    // bundle that could never be installed (`/`, `..`, control characters, over 128 characters)
    // is refused here, by the rule builds follow, and nothing of it is kept (issue 13 item 14).
    const name = readManifest(tree).name;
    const problem = bundleNameProblem(name);
    if (problem !== null) {
      if (!existsSync(archive)) rmSync(tree, { recursive: true, force: true });
      throw new BundleError(source, `bundle name ${quoteName(name)}: ${problem}`);
    }
    if (existsSync(archive)) rmSync(temporary, { force: true });
    else renameSync(temporary, archive);
    return this.open(digest);
  }

  open(digest: string): StoredArchive {
    const tree = this.treePath(digest);
    const manifest = readManifest(tree);
    return {
      digest,
      size: this.size(digest),
      manifest,
      manifestText: readFileSync(join(tree, 'pyrelo.json'), 'utf8'),
      tree,
    };
  }

  /** Reads `length` bytes of an archive from `offset` (for chunked transfers). */
  read(digest: string, offset: number, length: number): Buffer {
    const fd = openSync(this.archivePath(digest), 'r');
    try {
      const buffer = Buffer.alloc(length);
      const n = readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }
}

export class IncomingArchive {
  private readonly hash = createHash('sha256');
  private fd: number | null;
  size = 0;

  constructor(
    private readonly store: BundleStore,
    readonly path: string,
  ) {
    this.fd = openSync(path, 'wx', 0o640);
  }

  write(offset: number, data: Buffer): void {
    if (this.fd === null) throw new Error('upload already finished');
    if (offset !== this.size) throw new BundleError('upload', `chunk at offset ${offset}, expected ${this.size}`);
    writeSync(this.fd, data);
    this.hash.update(data);
    this.size += data.length;
  }

  /** Checks the digest the sender announced (when it did) and stores the bundle. */
  async commit(expectedDigest: string, source: string): Promise<StoredArchive> {
    if (this.fd === null) throw new Error('upload already finished');
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    const digest = this.hash.digest('hex');
    try {
      if (expectedDigest !== '' && expectedDigest !== digest)
        throw new BundleError(source, `sha256 mismatch: sent ${expectedDigest}, received ${digest}`);
      return await this.store.adopt(this.path, digest, source);
    } finally {
      rmSync(this.path, { force: true });
    }
  }

  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.path, { force: true });
  }
}
