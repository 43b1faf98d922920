// Turns at SQLite's one write lock between the two threads that write the server's database: the
// writer thread (writer-thread.ts: agents' reports and host updates, which agents wait for) and the
// inventory intake worker (inventory-worker.ts: megabytes in short transactions, which nobody waits
// for by the millisecond). Each takes its turn before it begins a write transaction and gives it
// back after the commit. The writer goes first: while it waits, the intake starts no new
// transaction, so a report waits for at most the one intake transaction in progress.
//
// Without turns both waited in SQLite's busy handler, which sleeps in growing steps (up to 100 ms)
// and does not queue: the intake's back-to-back transactions took the lock again in the gaps, and a
// waiting writer could miss several (README "Benchmarks", bench:soak). Turns wait with
// Atomics.wait, woken the moment the other thread gives its turn back. The event loop never takes a
// turn: it must never wait (it only hands writes to the writer thread).

/** Who holds the turn: slot HOLDER. */
const FREE = 0;
const WRITER = 1;
const INTAKE = 2;
/** Slots of the shared Int32Array. */
const HOLDER = 0;
const WRITER_WAITING = 1;
/** A thread that died holding its turn must not stop the other for good: waits wake to look again. */
const RECHECK_MS = 1_000;

export type WriteTurnTaker = 'writer' | 'intake';

export class WriteTurns {
  private readonly slots: Int32Array;

  /** One SharedArrayBuffer per database, given to both threads (new WriteTurns(buffer) in each). */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.slots = new Int32Array(buffer);
  }

  /** Takes the turn, waiting (blocking this thread) while the other thread holds it. */
  take(who: WriteTurnTaker): void {
    const me = who === 'writer' ? WRITER : INTAKE;
    if (me === WRITER) Atomics.add(this.slots, WRITER_WAITING, 1);
    try {
      for (;;) {
        if (me === INTAKE) {
          // The writer goes first: wait until no writer waits.
          const waiting = Atomics.load(this.slots, WRITER_WAITING);
          if (waiting > 0) {
            Atomics.wait(this.slots, WRITER_WAITING, waiting, RECHECK_MS);
            continue;
          }
        }
        const holder = Atomics.compareExchange(this.slots, HOLDER, FREE, me);
        if (holder === FREE) return;
        Atomics.wait(this.slots, HOLDER, holder, RECHECK_MS);
      }
    } finally {
      if (me === WRITER && Atomics.sub(this.slots, WRITER_WAITING, 1) === 1) Atomics.notify(this.slots, WRITER_WAITING);
    }
  }

  /** Gives the turn back; the other thread, if it waits, takes it now. */
  give(): void {
    Atomics.store(this.slots, HOLDER, FREE);
    Atomics.notify(this.slots, HOLDER);
  }

  /** `fn` (one write transaction) in a turn of `who`'s. */
  during<T>(who: WriteTurnTaker, fn: () => T): T {
    this.take(who);
    try {
      return fn();
    } finally {
      this.give();
    }
  }

  /**
   * `who`'s thread was ended, perhaps holding or waiting for a turn (its transaction rolled back
   * with it): what it held is freed, so the other thread does not wait for it.
   */
  release(who: WriteTurnTaker): void {
    if (who === 'writer') Atomics.store(this.slots, WRITER_WAITING, 0);
    Atomics.compareExchange(this.slots, HOLDER, who === 'writer' ? WRITER : INTAKE, FREE);
    Atomics.notify(this.slots, HOLDER);
    Atomics.notify(this.slots, WRITER_WAITING);
  }

  /** How many writers wait for a turn (tests). */
  get writersWaiting(): number {
    return Atomics.load(this.slots, WRITER_WAITING);
  }

  /** Who holds the turn now (tests). */
  get holder(): WriteTurnTaker | null {
    const holder = Atomics.load(this.slots, HOLDER);
    return holder === WRITER ? 'writer' : holder === INTAKE ? 'intake' : null;
  }
}

/** Runs one write transaction; the intake's store takes a turn around each of its transactions. */
export type InTurn = <T>(fn: () => T) => T;

export const withoutTurns: InTurn = (fn) => fn();
