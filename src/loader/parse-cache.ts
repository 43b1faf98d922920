// The persistent parse cache: what describeElf found in a file (loadable-codec.ts), kept in one
// SQLite file across runs, so that checking the same libraries again reads a row instead of the
// ELF. A row is found by the file's (st_dev, st_ino, st_size, st_mtime ns, st_ctime ns) and by a
// fingerprint of the reader's own code: a file that changed in any of them, or a pyrelo whose ELF
// reader or loader changed, parses the file again. The same file keeps whole check results
// (remembered-check.ts) with the signatures of every path they opened.
//
// The cache may only ever make a check faster, never change or fail it: a cache that cannot be
// opened, written or read (damaged, unwritable, another schema, locked too long) is left alone
// after one warning, and the check goes on reading the files. Several processes may share it:
// WAL journal, a busy timeout, rows written whole in short transactions.

import Database from 'better-sqlite3';
import { isRacy, type FileKey } from './file-key.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFolder } from '../common/package-files.js';
import type { LoadableHeader } from './loadable.js';
import type { EncodedLoadable } from './loadable-codec.js';

/** The layout of the tables; a file with another one is not used (its name carries it too). */
export const PARSE_CACHE_SCHEMA = 2;
const FILE_NAME = `loader-facts-v${PARSE_CACHE_SCHEMA}.sqlite`;

/** Writes are kept and stored together: one transaction per batch, not per file. */
const BATCH = 256;

const INT64_MAX = (1n << 63n) - 1n;

export { fileKeyOf, sameFileKey, type FileKey } from './file-key.js';

export interface CachedFacts {
  readonly header: LoadableHeader;
  readonly encoded: EncodedLoadable;
}

export interface StoredResult {
  /** JSON: [path, signature][] of every path the check opened (RootHostView.signatureOf). */
  readonly dependencies: string;
  /** JSON: the LoadReport, its parsed objects left out. */
  readonly report: string;
}

/** $PYRELO_CACHE, else $XDG_CACHE_HOME/pyrelo, else ~/.cache/pyrelo. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PYRELO_CACHE !== undefined && env.PYRELO_CACHE !== '') return env.PYRELO_CACHE;
  if (env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '') return join(env.XDG_CACHE_HOME, 'pyrelo');
  return join(homedir(), '.cache', 'pyrelo');
}

/**
 * A digest of the code that produces the cached facts: the ELF reader and the loader folder, as
 * built (`loaderDir` is this module's folder in dist/src/loader). Any change to them (a fix in
 * describeElf, a new field) makes earlier rows unused.
 */
export function readerCodeDigest(loaderDir: string): string {
  return folderDigest([join(loaderDir, '..', 'elf'), loaderDir]);
}

function folderDigest(dirs: readonly string[]): string {
  const hash = createHash('sha256');
  for (const dir of dirs) {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.js') || n.endsWith('.json'))
      .sort()) {
      hash
        .update(name)
        .update('\0')
        .update(readFileSync(join(dir, name)))
        .update('\0');
    }
  }
  return hash.digest('hex');
}

/**
 * The bundled `pyrelo` (scripts/bundle-cli.mjs) is one file, not these folders: it carries the
 * digest of the folders it was built from, so it shares rows with the modules it was built from.
 */
declare const PYRELO_READER_CODE_DIGEST: string | undefined;

/** The reader's code (readerCodeDigest) and data/, which holds facts the check reads (static TLS by glibc release). */
function codeFingerprint(): string {
  const code =
    typeof PYRELO_READER_CODE_DIGEST === 'string'
      ? PYRELO_READER_CODE_DIGEST
      : readerCodeDigest(dirname(fileURLToPath(import.meta.url)));
  return createHash('sha256')
    .update(code)
    .update('\0')
    .update(folderDigest([packageFolder('data')]))
    .digest('hex')
    .slice(0, 32);
}

interface Row {
  header: string;
  facts: string;
  requirements: Buffer;
  definitions: Buffer;
}

export class ParseCache {
  private db: Database.Database | null = null;
  private select: Database.Statement<unknown[], Row> | null = null;
  private insert: Database.Statement | null = null;
  private selectResult: Database.Statement<unknown[], StoredResult> | null = null;
  private insertResult: Database.Statement | null = null;
  private readonly pendingResults: { context: string; file: string; result: StoredResult }[] = [];
  private writable = true;
  private warned = false;
  private readonly pending: { key: FileKey; header: string; encoded: EncodedLoadable }[] = [];
  private readonly code: string;
  readonly file: string;

  private constructor(
    readonly dir: string,
    private readonly warn: (message: string) => void,
  ) {
    this.file = join(dir, FILE_NAME);
    this.code = codeFingerprint();
  }

  /** Never throws: a cache that cannot be used warns once and answers nothing. */
  static open(dir: string, warn: (message: string) => void): ParseCache {
    const cache = new ParseCache(dir, warn);
    try {
      cache.connect();
    } catch (error) {
      cache.disable(error);
    }
    return cache;
  }

  // Rows are large (a library's definitions), so the table keeps its rowid and the key is a
  // separate index: SQLite stores a WITHOUT ROWID table's rows in its key b-tree, slow for big rows.
  private connect(): void {
    mkdirSync(this.dir, { recursive: true });
    const db = new Database(this.file, { timeout: 5000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Rows are read through a memory map rather than one read() per page: a warm check reads
      // every row it has (tens of megabytes for a library folder).
      db.pragma('mmap_size = 1073741824');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version === 0) {
        db.transaction(() => {
          db.exec(`CREATE TABLE IF NOT EXISTS objects (
            dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            ctime_ns INTEGER NOT NULL,
            code TEXT NOT NULL, header TEXT NOT NULL, facts TEXT NOT NULL, requirements BLOB NOT NULL,
            definitions BLOB NOT NULL,
            UNIQUE (dev, ino, size, mtime_ns, ctime_ns, code))`);
          db.exec(`CREATE TABLE IF NOT EXISTS results (
            code TEXT NOT NULL, context TEXT NOT NULL, file TEXT NOT NULL, dependencies TEXT NOT NULL,
            report TEXT NOT NULL,
            UNIQUE (code, context, file))`);
          db.pragma(`user_version = ${PARSE_CACHE_SCHEMA}`);
        }).immediate();
      } else if (version !== PARSE_CACHE_SCHEMA) {
        throw new Error(`schema version ${version}, this pyrelo reads ${PARSE_CACHE_SCHEMA}`);
      }
      this.select = db.prepare<unknown[], Row>(`SELECT header, facts, requirements, definitions FROM objects
        WHERE dev = ? AND ino = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ? AND code = ?`);
      this.insert = db.prepare(`INSERT OR REPLACE INTO objects
        (dev, ino, size, mtime_ns, ctime_ns, code, header, facts, requirements, definitions)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      this.selectResult = db.prepare<unknown[], StoredResult>(
        'SELECT dependencies, report FROM results WHERE code = ? AND context = ? AND file = ?',
      );
      this.insertResult = db.prepare(
        'INSERT OR REPLACE INTO results (code, context, file, dependencies, report) VALUES (?, ?, ?, ?, ?)',
      );
      this.db = db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private disable(error: unknown): void {
    this.once(`not used: ${messageOf(error)}`);
    this.writable = false;
    this.pending.length = 0;
    this.pendingResults.length = 0;
    this.release();
  }

  /** Closes the database, if open, and forgets its statements. A failing close leaves nothing to save. */
  private release(): void {
    try {
      this.db?.close();
    } catch {
      // Already unusable, or damaged: nothing more to release.
    }
    this.db = null;
    this.select = null;
    this.insert = null;
    this.selectResult = null;
    this.insertResult = null;
  }

  private once(what: string): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(`parse cache ${this.file}: ${what}`);
  }

  /** The facts stored for a file with this key, or null. */
  get(key: FileKey): CachedFacts | null {
    if (this.select === null || !storable(key)) return null;
    try {
      const row = this.select.get(key.dev, key.ino, key.size, key.mtimeNs, key.ctimeNs, this.code);
      if (row === undefined) return null;
      return {
        header: JSON.parse(row.header) as LoadableHeader,
        encoded: { facts: row.facts, requirements: row.requirements, definitions: row.definitions },
      };
    } catch (error) {
      this.disable(error);
      return null;
    }
  }

  /**
   * Stores the facts of a file (in a batch, see flush). Files modified in the last seconds are not
   * stored (file-key.ts).
   */
  put(key: FileKey, header: LoadableHeader, encoded: EncodedLoadable): void {
    if (!this.writable || this.db === null || !storable(key)) return;
    if (ParseCache.isRacy(key.mtimeNs)) return;
    this.pending.push({ key, header: JSON.stringify(header), encoded });
    if (this.pending.length >= BATCH) this.flush();
  }

  /** The result stored for `file` checked in `context` (a digest of the host configuration and options), or null. */
  getResult(context: string, file: string): StoredResult | null {
    if (this.selectResult === null) return null;
    try {
      return this.selectResult.get(this.code, context, file) ?? null;
    } catch (error) {
      this.disable(error);
      return null;
    }
  }

  /**
   * Stores a check result (in a batch, see flush). The caller leaves out results that read racy
   * files (file-key.ts).
   */
  putResult(context: string, file: string, result: StoredResult): void {
    if (!this.writable || this.db === null) return;
    this.pendingResults.push({ context, file, result });
    if (this.pendingResults.length >= BATCH) this.flush();
  }

  /** Whether a file with this st_mtime may still change without its key changing (file-key.ts). */
  static isRacy(mtimeNs: bigint): boolean {
    return isRacy(mtimeNs);
  }

  /** Writes the pending rows in one transaction. A cache that refuses them is not written again. */
  flush(): void {
    if (
      (this.pending.length === 0 && this.pendingResults.length === 0) ||
      this.db === null ||
      this.insert === null ||
      this.insertResult === null
    )
      return;
    const rows = this.pending.splice(0);
    const results = this.pendingResults.splice(0);
    const insert = this.insert;
    const insertResult = this.insertResult;
    try {
      this.db
        .transaction(() => {
          for (const { key, header, encoded } of rows) {
            insert.run(
              key.dev,
              key.ino,
              key.size,
              key.mtimeNs,
              key.ctimeNs,
              this.code,
              header,
              encoded.facts,
              encoded.requirements,
              encoded.definitions,
            );
          }
          for (const { context, file, result } of results)
            insertResult.run(this.code, context, file, result.dependencies, result.report);
        })
        .immediate();
    } catch (error) {
      // Reads may still work (a read-only file, a lock held too long): keep them.
      this.once(`not written: ${messageOf(error)}`);
      this.writable = false;
    }
  }

  /** Flushes and closes; the cache answers nothing afterwards. */
  close(): void {
    this.flush();
    this.release();
  }
}

/** SQLite integers are signed 64-bit: a key part beyond that (an exotic st_ino) is not cached. */
function storable(key: FileKey): boolean {
  return (
    key.dev <= INT64_MAX &&
    key.ino <= INT64_MAX &&
    key.size <= INT64_MAX &&
    key.mtimeNs >= 0n &&
    key.mtimeNs <= INT64_MAX &&
    key.ctimeNs >= 0n &&
    key.ctimeNs <= INT64_MAX
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
