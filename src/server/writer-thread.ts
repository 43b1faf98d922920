// The server's writes that agents cause, on a thread of their own: reports (in groups:
// report-commits.ts), a host's inventory, agent version and last-seen time, and predictions. The
// event loop answers every agent; a synchronous SQLite write there waits for the database's one
// write lock whenever another connection holds it (the inventory intake worker, for up to 200 ms
// per transaction under load), and every agent waits with it: bench:soak measured stalls of 368 ms
// (README "Benchmarks"). Here the loop only posts a command and goes on; the thread waits for the
// lock (its turn first: write-turns.ts), commits on its own connection (synchronous=FULL, as the
// server's: a report is acknowledged after its commit), and posts the outcome back.
//
// Commands run one at a time in the order posted, so the writes of one agent keep their order. If
// the thread is lost (it failed, or its heap limit), the commands in flight fail (their agents
// retry: nothing acknowledged was lost) and later ones run on the server's own connection, as
// before this thread: slower for the loop, never wrong.

import { parentPort, Worker, workerData } from 'node:worker_threads';
import { CompatDatabase, type HostFacts, type HostSource } from './db/database.js';
import { commitReportGroup, type ReportOutcome, type ReportToStore } from './report-commits.js';
import { WriteTurns } from './write-turns.js';
import type { CheckResult } from '../proto/messages.js';

/** What the writer thread does; each command is one transaction. */
export type WriteCommand =
  | { readonly op: 'reports'; readonly group: readonly ReportToStore[] }
  | {
      readonly op: 'setHostInventory';
      readonly host: string;
      readonly facts: HostFacts;
      readonly inventoryId: number;
      readonly source: HostSource;
      readonly seen: boolean;
      /** When the inventory was collected, '' when not known (database.ts setHostInventory). */
      readonly collectedAt?: string;
    }
  | { readonly op: 'addHost'; readonly host: string; readonly source: HostSource }
  /** collectedAt: the time the agent says its current inventory was collected, if it says one. */
  | { readonly op: 'touchHost'; readonly host: string; readonly collectedAt?: string }
  | { readonly op: 'setAgentVersion'; readonly host: string; readonly version: string }
  | {
      readonly op: 'saveChecksIfCurrent';
      readonly bundleId: number;
      readonly inventoryId: number;
      readonly results: readonly { readonly hostId: number; readonly result: CheckResult }[];
    };

/** What each command answers. */
interface WriteAnswers {
  reports: ReportOutcome[];
  setHostInventory: { changed: boolean };
  addHost: null;
  touchHost: null;
  setAgentVersion: null;
  saveChecksIfCurrent: boolean[];
}

export type Answer<C extends WriteCommand> = WriteAnswers[C['op']];

/** Where the server's agent-caused writes go: the writer thread, or (tests) a connection directly. */
export interface DatabaseWrites {
  run<C extends WriteCommand>(command: C): Promise<Answer<C>>;
}

/** The writes run synchronously on `db`'s connection, answered as a promise. */
export function localWrites(db: CompatDatabase): DatabaseWrites {
  return { run: (command) => new Promise((resolve) => resolve(applyWrite(db, command))) };
}

/** Runs one command on `db`'s connection, synchronously (on the writer thread, or the loop without one). */
export function applyWrite<C extends WriteCommand>(db: CompatDatabase, command: C): Answer<C> {
  const c = command as WriteCommand;
  let answer: WriteAnswers[keyof WriteAnswers];
  switch (c.op) {
    case 'reports':
      answer = commitReportGroup(db, c.group);
      break;
    case 'setHostInventory':
      answer = {
        changed: db.setHostInventory(c.host, c.facts, c.inventoryId, c.source, c.seen, c.collectedAt ?? '').changed,
      };
      break;
    case 'addHost':
      db.addHost(c.host, c.source);
      answer = null;
      break;
    case 'touchHost':
      db.touchHost(c.host);
      if (c.collectedAt !== undefined && c.collectedAt !== '') db.setInventoryCollectedAt(c.host, c.collectedAt);
      answer = null;
      break;
    case 'setAgentVersion':
      db.setAgentVersion(c.host, c.version);
      answer = null;
      break;
    case 'saveChecksIfCurrent':
      answer = db.saveChecksIfCurrent(c.bundleId, c.inventoryId, c.results);
      break;
  }
  return answer as Answer<C>;
}

/** A report's error crosses the thread as its message (a class does not). */
type PostedAnswer =
  | { readonly outcomes: ({ readonly stored: boolean } | { readonly error: string })[] }
  | {
      readonly value: unknown;
    };

type Reply =
  | { readonly id: number; readonly ok: true; readonly answer: PostedAnswer }
  | { readonly id: number; readonly ok: false; readonly error: string };

interface WriterData {
  readonly writerThread: {
    readonly databaseFile: string;
    readonly inventoriesPerHost: number;
    readonly turns: SharedArrayBuffer;
  };
}

interface InFlight {
  readonly command: WriteCommand;
  resolve(answer: unknown): void;
  reject(error: Error): void;
}

/** The server's writes that agents cause, run off the event loop (header). */
export class WriterThread implements DatabaseWrites {
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private lost: string | null = null;
  private stopping = false;
  /** Commands run, on the thread and (after it was lost) on the server's connection. */
  readonly counts = { thread: 0, local: 0 };

  /**
   * @param db the server's connection: where commands run if the thread is lost
   * @param turns the write turns shared with the intake worker (write-turns.ts)
   * @param onLost called once if the thread fails or ends on its own
   */
  constructor(
    private readonly db: CompatDatabase,
    private readonly turns: WriteTurns,
    inventoriesPerHost: number,
    onLost: (why: string) => void,
  ) {
    const data: WriterData = { writerThread: { databaseFile: db.file, inventoriesPerHost, turns: turns.buffer } };
    this.worker = new Worker(new URL(import.meta.url), { workerData: data, name: 'pyrelo-writer' });
    const lose = (why: string): void => {
      if (this.lost !== null) return;
      this.lost = why;
      this.turns.release('writer');
      const error = new Error(`the database writer thread was lost: ${why}`);
      for (const pending of this.inFlight.values()) pending.reject(error);
      this.inFlight.clear();
      if (!this.stopping) onLost(why);
    };
    this.worker.on('message', (reply: Reply) => {
      const pending = this.inFlight.get(reply.id);
      if (pending === undefined) return;
      this.inFlight.delete(reply.id);
      this.counts.thread += 1;
      if (!reply.ok) return pending.reject(new Error(reply.error));
      const answer = reply.answer;
      pending.resolve(
        'outcomes' in answer
          ? answer.outcomes.map((o) => ('error' in o ? { error: new Error(o.error) } : o))
          : answer.value,
      );
    });
    // A thread's error arrives cloned: read its message defensively.
    this.worker.on('error', (error: unknown) => {
      const message = (error as { message?: unknown } | null)?.message;
      lose(typeof message === 'string' ? message : String(error));
    });
    this.worker.once('exit', (code) => lose(`the writer thread ended (exit code ${code})`));
    // The server's own handles keep it running; this thread must not.
    this.worker.unref();
  }

  /** Runs `command` on the thread; resolves with its answer once committed. */
  run<C extends WriteCommand>(command: C): Promise<Answer<C>> {
    if (this.lost !== null) {
      return new Promise<Answer<C>>((resolve) => {
        this.counts.local += 1;
        resolve(applyWrite(this.db, command));
      });
    }
    return new Promise<Answer<C>>((resolve, reject) => {
      const id = this.nextId++;
      this.inFlight.set(id, { command, resolve: resolve as (answer: unknown) => void, reject });
      this.worker.postMessage({ id, command });
    });
  }

  /** Ends the thread once the commands posted before are done (their answers are dropped). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.lost === null) {
      const exited = new Promise((resolve) => this.worker.once('exit', resolve));
      // Unref'd, the thread would not keep a stopping process alive until it has closed the database.
      this.worker.ref();
      this.worker.postMessage({ id: 0, command: null });
      await exited;
    }
  }
}

const data = workerData as Partial<WriterData> | null;
if (parentPort !== null && data?.writerThread !== undefined) {
  const port = parentPort;
  const { databaseFile, inventoriesPerHost } = data.writerThread;
  const turns = new WriteTurns(data.writerThread.turns);
  const db = new CompatDatabase(databaseFile, inventoriesPerHost);
  // Checkpoints are the checkpoint thread's (wal-checkpointer.ts). The lock is waited for in a turn
  // first; busy_timeout covers other connections (the CLI's writes on the loop), and waiting longer
  // than the loop could costs no agent but the one whose write it is.
  db.db.pragma('wal_autocheckpoint = 0');
  db.db.pragma('busy_timeout = 30000');
  port.on('message', ({ id, command }: { id: number; command: WriteCommand | null }) => {
    if (command === null) {
      db.close();
      port.close();
      return;
    }
    let reply: Reply;
    try {
      const answer = turns.during('writer', () => applyWrite(db, command));
      reply = {
        id,
        ok: true,
        answer:
          command.op === 'reports'
            ? {
                outcomes: (answer as ReportOutcome[]).map((o) =>
                  'error' in o ? { error: o.error.message } : { stored: o.stored },
                ),
              }
            : { value: answer },
      };
    } catch (error) {
      reply = { id, ok: false, error: (error as Error).message };
    }
    port.postMessage(reply);
  });
}
