// A worker (worker_threads) that predicts one bundle on every reference platform of data/platforms/
// (compat/platform-prediction.ts), off the server's event loop, and posts the verdicts back. It is
// started per bundle and ends when it has answered; reference-predictions.ts keeps the answers.

import { parentPort, workerData } from 'node:worker_threads';
import { predictOnAllPlatforms } from '../compat/platform-prediction.js';
import type { PlatformVerdict } from '../proto/messages.js';

export interface ReferenceJob {
  readonly bundleDir: string;
  readonly digest: string;
}

export type ReferenceReply = { readonly platforms: PlatformVerdict[] } | { readonly error: string };

if (parentPort !== null) {
  const job = workerData as ReferenceJob;
  let reply: ReferenceReply;
  try {
    reply = {
      platforms: predictOnAllPlatforms(job.bundleDir, job.digest).map((p) => ({
        platform: p.platform,
        title: p.title,
        basis: p.basis,
        verdict: p.result.runs ? 'predicted' : 'fails',
        result: p.result,
        uncertain: [...p.uncertain],
      })),
    };
  } catch (error) {
    reply = { error: (error as Error).message };
  }
  parentPort.postMessage(reply);
}
