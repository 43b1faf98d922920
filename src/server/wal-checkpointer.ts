// WAL checkpoints off the event loop. SQLite checkpoints on the connection that commits once the
// log passes 1,000 pages; with the intake worker writing an inventory's tens of MB (README "Limits
// on what agents send"), the server's next small commit (a report, a heartbeat) then copied all of
// it into the database file, on the event loop that answers every agent: 105 ms for one 4.5 MB
// inventory's 28 MB of log here, against 44 ms for the same commit without it. So the server's
// connection does not checkpoint (wal_autocheckpoint = 0) and this worker thread does, on its own
// connection, every CHECKPOINT_MS: PASSIVE, so it never waits for or blocks a writer or a reader.

import { parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const CHECKPOINT_MS = 1_000;

interface CheckpointerData {
  readonly walCheckpointer: { readonly databaseFile: string; readonly everyMs: number };
}

/** The checkpointing thread of the server's database; stop() ends it. */
export class WalCheckpointer {
  private readonly worker: Worker;

  private stopping = false;

  /**
   * `lost` is called once if the thread fails or ends on its own (the database unreadable, its heap
   * limit): the server then gives checkpoints back to its own connection, so the log cannot grow
   * without bound, and the server is not brought down by the thread's error.
   */
  constructor(databaseFile: string, lost: (why: string) => void, everyMs = CHECKPOINT_MS) {
    const data: CheckpointerData = { walCheckpointer: { databaseFile, everyMs } };
    this.worker = new Worker(new URL(import.meta.url), {
      workerData: data,
      name: 'pyrelo-checkpoint',
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    let reported = false;
    const report = (why: string): void => {
      if (this.stopping || reported) return;
      reported = true;
      lost(why);
    };
    // A thread's error arrives cloned: read its message defensively.
    this.worker.on('error', (error: unknown) => {
      const message = (error as { message?: unknown } | null)?.message;
      report(typeof message === 'string' ? message : String(error));
    });
    this.worker.once('exit', (code) => report(`the checkpoint thread ended (exit code ${code})`));
    // The server's own handles keep it running; this thread must not.
    this.worker.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }
}

const data = workerData as Partial<CheckpointerData> | null;
if (parentPort !== null && data?.walCheckpointer !== undefined) {
  const { databaseFile, everyMs } = data.walCheckpointer;
  let db: Database.Database;
  try {
    db = new Database(databaseFile, { fileMustExist: true });
  } catch (error) {
    // A plain Error crosses to the main thread with its message (a SqliteError arrives as an empty object).
    throw new Error(`${databaseFile}: ${(error as Error).message}`);
  }
  db.pragma('wal_autocheckpoint = 0');
  setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy (another checkpoint running) or a transient error: the next interval tries again.
    }
  }, everyMs);
}
