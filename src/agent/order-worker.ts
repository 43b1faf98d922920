// The heavy part of an order (unpacking a bundle, hashing every file against its manifest, the
// loader check, the smoke run, a release install) runs in a worker thread, never on the daemon's
// event loop. That loop answers the server's keepalive pings, which the server waits 10 s for
// (server.ts `grpc.keepalive_timeout_ms`): unpacking the corpus sample's 235 MB bundle alone held
// it for 12 s on a busy machine, the server then dropped the agent, and the order failed with
// "agent … disconnected before answering order" (README "Orders run off the event loop").
//
// The worker runs this very module: in the packed agent everything is one file (agent.mjs), whose
// entry only starts the CLI on the main thread (main.ts), so `import.meta.url` is right in both.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { CheckResult } from '../proto/messages.js';
import { unpackBundle } from './run-order.js';
import { checkAndSmokeHere } from '../compat/check-and-smoke.js';
import { installRelease } from '../release/install.js';
import type { ReleaseInstallOptions } from '../release/install.js';

export type OrderJob =
  | {
      readonly action: 'check';
      readonly archive: string;
      readonly bundlesDir: string;
      readonly digest: string;
      readonly host: string;
    }
  | { readonly action: 'install'; readonly install: ReleaseInstallOptions };

export interface OrderOutcome {
  readonly check: CheckResult;
  /** Set for installs: what the daemon logs. */
  readonly installed?: { readonly release: string; readonly status: string; readonly current: string | null };
}

type WorkerReply =
  { readonly ok: true; readonly outcome: OrderOutcome } | { readonly ok: false; readonly message: string };

/** What the worker does: the same steps the daemon once took on its own thread. */
export async function carryOutHere(job: OrderJob): Promise<OrderOutcome> {
  if (job.action === 'install') {
    const installed = await installRelease(job.install);
    return {
      check: installed.check,
      installed: { release: installed.release, status: installed.status, current: installed.current },
    };
  }
  const dir = await unpackBundle(job.archive, job.bundlesDir, job.digest);
  return { check: await checkAndSmokeHere(dir, job.digest, job.host) };
}

/** Runs the job in a fresh worker thread; rejects with the job's own error message. */
export function carryOutInWorker(job: OrderJob): Promise<OrderOutcome> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { agentOrder: job }, name: 'pyrelo-order' });
  return new Promise<OrderOutcome>((resolve, reject) => {
    let settled = false;
    worker.once('message', (reply: WorkerReply) => {
      settled = true;
      if (reply.ok) resolve(reply.outcome);
      else reject(new Error(reply.message));
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the order's worker thread ended (exit code ${code}) without an answer`));
    });
  });
}

const job = isMainThread ? undefined : (workerData as { agentOrder?: OrderJob } | null)?.agentOrder;
if (job !== undefined && parentPort !== null) {
  const port = parentPort;
  carryOutHere(job).then(
    (outcome) => port.postMessage({ ok: true, outcome } satisfies WorkerReply),
    (error: Error) => port.postMessage({ ok: false, message: error.message } satisfies WorkerReply),
  );
}
