// A verified result for an unpacked bundle on this very host: the loader check on the live host,
// then the smoke command (also when the check says it will not load: what the real loader prints
// is the proof). `runs` is true only when both agree it runs: a verified "runs" is a real run.
// The agent's check orders and the release engine's installs both end here.

import { hostname } from 'node:os';
import type { CheckResult } from '../proto/messages.js';
import { checkBundleHere } from './check-bundle.js';
import { runSmoke } from './smoke.js';

export async function checkAndSmokeHere(
  bundleDir: string,
  digest: string,
  host: string = hostname(),
): Promise<CheckResult> {
  const result = checkBundleHere(bundleDir, { digest, host });
  const smoke = await runSmoke(bundleDir);
  return {
    ...result,
    runs: result.loads && smoke.exitCode === 0,
    smokeRan: true,
    smokeExit: smoke.exitCode,
    smokeOutput: smoke.output.split(`${bundleDir}/`).join(''),
  };
}
