// What `pyrelo server` checks before it listens (issue 13 items 11 and 13): the data folder can be
// written, the database opens, is not damaged (PRAGMA quick_check) and takes a write. A server
// that started on a read-only or damaged database ran, then failed every write or left an agent
// looping between connecting and "database disk image is malformed"; now it exits 2 with one line
// naming the folder or the file (README "Run a server for a team").

import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompatDatabase } from './db/database.js';
import { UserInputError } from '../common/user-input-error.js';

/** The server cannot start on this data folder or database; its message is one line naming it. */
export class ServerStartError extends UserInputError {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(what, detail);
    this.name = 'ServerStartError';
  }
}

/** "EROFS: read-only file system" from Node's "EROFS: read-only file system, open '/x'", or SQLite's text. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0]!;
  return /^E[A-Z]+: /.test(line) ? line.replace(/, \w+ '.*$/, '') : line;
}

/** Makes `mode` the mode of `file` unless it is already (a read-only file system refuses even a no-op chmod). */
function ensureMode(file: string, mode: number): void {
  if ((statSync(file).mode & 0o777) !== mode) chmodSync(file, mode);
}

/**
 * The data folder exists, is 0700 (it holds the CA key and every host's inventory, README "Run a
 * server for a team") and a file can be made in it, as the bundle store and the control socket will.
 */
export function prepareDataFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A folder made beforehand (0755 by a umask) keeps its mode through mkdir.
    ensureMode(dir, 0o700);
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
    rmSync(probe);
  } catch (error) {
    throw new ServerStartError(`data folder ${dir}`, `cannot be written (${reason(error)})`);
  }
}

/**
 * Opens the database at `file`, makes it and its -wal and -shm 0600, and proves it sound and
 * writable: PRAGMA quick_check (every page's structure, without comparing indexes with tables),
 * then a committed write. Closes it and throws ServerStartError when any of that fails.
 */
export function openCheckedDatabase(file: string, inventoriesPerHost?: number): CompatDatabase {
  let db: CompatDatabase;
  try {
    db = new CompatDatabase(file, inventoriesPerHost);
  } catch (error) {
    throw new ServerStartError(`database ${file}`, `cannot be opened (${reason(error)})`);
  }
  try {
    // SQLite makes -wal and -shm with the database file's mode: 0600 for all three.
    for (const path of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        if (existsSync(path)) ensureMode(path, 0o600);
      } catch (error) {
        throw new ServerStartError(`database ${path}`, `cannot be made 0600 (${reason(error)})`);
      }
    }
    let problems: string[];
    try {
      problems = (db.db.pragma('quick_check(3)') as { quick_check: string }[]).map((row) => row.quick_check);
    } catch (error) {
      throw new ServerStartError(`database ${file}`, `is damaged (${reason(error)}); restore it from a backup`);
    }
    if (problems.length !== 1 || problems[0] !== 'ok') {
      throw new ServerStartError(
        `database ${file}`,
        `is damaged (quick_check: ${problems.join('; ').replace(/\s+/g, ' ')}); restore it from a backup`,
      );
    }
    try {
      // Writes the header's user_version as it is, in a committed transaction: a real write to the
      // WAL, refused by a read-only file, folder or file system.
      db.db.transaction(() => {
        db.db.pragma(`user_version = ${db.schemaVersion}`);
      })();
    } catch (error) {
      throw new ServerStartError(`database ${file}`, `cannot be written (${reason(error)})`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
