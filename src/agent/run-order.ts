// What an agent does with a bundle on its own host: unpack it (every file checked against its
// manifest), run the loader check on the live host, then the smoke
// command (also when the check says it will not load: what the real loader prints is the proof).
// `runs` is true only when both agree it runs: a verified "runs" is a real run.

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { extractArchive } from '../bundle/extract.js';
import { checkBundleHere } from '../compat/check-bundle.js';
import type { CheckResult } from '../proto/types.js';
import { runSmoke } from './smoke.js';

export async function unpackBundle(archive: string, bundlesDir: string, digest: string): Promise<string> {
  const dir = join(bundlesDir, digest);
  if (!existsSync(join(dir, 'pyrelo.json'))) await extractArchive(archive, dir, { force: true });
  return dir;
}

export async function verifyBundle(bundleDir: string, digest: string, host: string = hostname()): Promise<CheckResult> {
  const result = checkBundleHere(bundleDir, { digest, host });
  // Run it even when the check says it will not load: the real loader's own message is the proof.
  const smoke = await runSmoke(bundleDir);
  return { ...result, runs: result.loads && smoke.exitCode === 0, smokeRan: true, smokeExit: smoke.exitCode, smokeOutput: smoke.output.split(`${bundleDir}/`).join('') };
}
