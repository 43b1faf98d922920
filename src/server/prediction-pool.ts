// A small pool of prediction workers (predict-worker.ts), one job at a time each. Workers start
// on first use and stay; an idle worker does not keep the process alive. A worker that dies (a
// crash, out of memory) fails its job and is replaced on the next one. close() terminates them.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CheckResult } from '../proto/messages.js';
import type { PredictJob, PredictReply, PredictWorkerData } from './predict-worker.js';

/** A requested pool size, never more than the cores. */
export function predictionWorkers(requested: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(Math.floor(requested), cores));
}

interface Slot {
  worker: Worker | null;
  job: { id: number; resolve(result: CheckResult): void; reject(error: Error): void } | null;
}

export class PredictionPool {
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;

  constructor(
    size: number,
    private readonly workerData: PredictWorkerData,
    private readonly log: Logger,
  ) {
    this.slots = Array.from({ length: predictionWorkers(size) }, () => ({ worker: null, job: null }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Workers without a job. */
  get idle(): number {
    return this.slots.filter((s) => s.job === null).length;
  }

  /** Runs a job on an idle worker; call only when idle > 0. */
  run(job: PredictJob): Promise<CheckResult> {
    if (this.closed) return Promise.reject(new Error('prediction workers stopped'));
    const slot = this.slots.find((s) => s.job === null);
    if (slot === undefined) return Promise.reject(new Error('no idle prediction worker'));
    const worker = slot.worker ?? this.spawn(slot);
    const id = this.nextId++;
    return new Promise<CheckResult>((resolve, reject) => {
      slot.job = { id, resolve, reject };
      worker.ref();
      worker.postMessage({ id, job });
    });
  }

  private spawn(slot: Slot): Worker {
    const worker = new Worker(new URL('./predict-worker.js', import.meta.url), {
      workerData: this.workerData,
      name: 'pyrelo-predict',
    });
    slot.worker = worker;
    worker.on('message', (reply: PredictReply) => {
      const job = slot.job;
      if (job === null || job.id !== reply.id) return;
      slot.job = null;
      worker.unref();
      if ('result' in reply) job.resolve(reply.result);
      else job.reject(new Error(reply.error));
    });
    const lost = (why: string): void => {
      if (slot.worker !== worker) return;
      slot.worker = null;
      const job = slot.job;
      slot.job = null;
      if (!this.closed) this.log.error({ why }, 'prediction worker lost; a new one starts with the next prediction');
      job?.reject(new Error(this.closed ? 'prediction workers stopped' : `prediction worker lost: ${why}`));
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => lost(`exited with status ${code}`));
    return worker;
  }

  /** Terminates every worker; jobs in progress fail with "prediction workers stopped". */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        if (worker === null) return;
        slot.worker = null;
        const job = slot.job;
        slot.job = null;
        job?.reject(new Error('prediction workers stopped'));
        await worker.terminate();
        this.log.debug({ busy: job !== null }, 'prediction worker terminated');
      }),
    );
  }
}
