// Every ELF under /usr/lib and /usr/bin of this machine: pyrelo's prediction must equal what the
// real loader does with it (objects, paths, order, fatal errors, missing versions, "no version
// information", undefined symbols, the verdict), files without DT_NEEDED included. The same
// predictions are made again through the cache, as `pyrelo check` makes them: filling an empty
// parse cache, reading it, storing whole results and reading them back; all must agree too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFile } from '../../src/loader/check.js';
import { ParseCache } from '../../src/loader/parse-cache.js';
import { checkContext, rememberedCheck } from '../../src/loader/remembered-check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { compareWithRealLoader } from '../support/compare.js';
import { describeGroundTruth, groundTruth } from '../support/ground-truth.js';

test('pyrelo check agrees with ld.so on every ELF under /usr/lib and /usr/bin', { timeout: 15 * 60_000 }, async (t) => {
  const result = await groundTruth('/', ['/usr/lib', '/usr/bin']);
  t.diagnostic(describeGroundTruth(result, 0));
  // A run that compared nothing would prove nothing.
  assert.ok(result.files > 500, `only ${result.files} ELF files found`);
  assert.ok(
    result.traces.filter((tr) => tr.objects.length > 0).length > 300,
    'the real loader listed objects for too few files',
  );
  // Files without DT_NEEDED (ld.so's own loader among them) are compared in full, not skipped.
  assert.ok(result.noNeeded > 0, 'no file without DT_NEEDED was traced');
  assert.equal(result.disagreements.length, 0, describeGroundTruth(result));

  const cacheDir = mkdtempSync(join(tmpdir(), 'pyrelo-ground-truth-cache-'));
  try {
    // cold and warm: the parse cache filled, then read; remembered: whole results stored, then read back.
    for (const run of ['cold', 'warm', 'remembering', 'remembered']) {
      const warnings: string[] = [];
      const cache = ParseCache.open(cacheDir, (message) => warnings.push(message));
      const view = new RootHostView('/', loaderConfigForRoot('/'), cache);
      const options = { cwd: '/' };
      const context = checkContext(view.config, options);
      const reports = result.reports.map((r) =>
        run.startsWith('remember')
          ? rememberedCheck(view, cache, context, r.file, options)
          : checkFile(view, r.file, options),
      );
      cache.close();
      assert.deepEqual(warnings, [], `${run} cache`);
      const disagreements = reports.flatMap((report, i) => {
        const differences = compareWithRealLoader(report, result.traces[i]!);
        return differences.length === 0 ? [] : [`${report.file}: ${differences.join('; ')}`];
      });
      t.diagnostic(
        `through the cache, ${run}: ${reports.length - disagreements.length}/${reports.length} files agree ` +
          'with the real loader',
      );
      assert.deepEqual(disagreements.slice(0, 15), [], `${run} cache`);
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
