// A worker (worker_threads) that predicts one bundle on every reference platform of data/platforms/
// (compat/platform-prediction.ts), or on the one platform the job names (another architecture's,
// for compat --distro NAME/ARCH), off the server's event loop, and posts the verdicts back. It is
// started per bundle and ends when it has answered; reference-predictions.ts keeps the answers.

import { parentPort, workerData } from 'node:worker_threads';
import { choosePlatform, predictOnAllPlatforms, predictOnPlatform } from '../compat/platform-prediction.js';
import type { PlatformVerdict } from '../proto/messages.js';

export interface ReferenceJob {
  readonly bundleDir: string;
  readonly digest: string;
  /** One platform by name ("debian:12/aarch64") instead of every platform on its first architecture. */
  readonly platform?: string;
}

export type ReferenceReply = { readonly platforms: PlatformVerdict[] } | { readonly error: string };

if (parentPort !== null) {
  const job = workerData as ReferenceJob;
  let reply: ReferenceReply;
  try {
    reply = {
      platforms: (job.platform === undefined
        ? predictOnAllPlatforms(job.bundleDir, job.digest)
        : [predictOnPlatform(choosePlatform(job.platform), job.bundleDir, job.digest)]
      ).map((p) => ({
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
