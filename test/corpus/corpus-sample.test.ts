// Ground truth on real wheels, the CI sample of `npm run bench:corpus`: numpy, pandas and pillow
// (sample.ts) bundled in both libc modes; in bookworm (where they load) and bullseye (glibc 2.31:
// the host-libc bundle's interpreter cannot start) every ELF library of each bundle is loaded by a
// fresh process of the bundle's own interpreter (ctypes.CDLL(path, RTLD_NOW), /proc mounted) and
// checked by `pyrelo check --root`; the two verdicts must agree for every file (README "Testing").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessLab, type LabRootName } from '../lab/lab.js';
import { buildSkipReason } from '../builder/shared-build.js';
import { ensureCorpusBundle, ensureCorpusWheelhouse } from './corpus-cache.js';
import { readLock } from './corpus-lock.js';
import { compareInRoot } from './corpus-run.js';
import { isAgreement, summarizeComparisons, type Comparison } from './compare.js';
import { SAMPLE_PROJECTS, SAMPLE_SMOKE, sampleRequirements, sampleWheels } from './sample.js';

const ROOTS: LabRootName[] = ['bookworm', 'bullseye'];
const LIBC_MODES = ['host', 'bundle'] as const;

test(
  'corpus sample: every library of numpy, pandas and pillow bundles loads in a lab root exactly when pyrelo ' +
    'check --root says it does',
  { timeout: 30 * 60_000 },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const reason = buildSkipReason();
    if (reason !== undefined) {
      t.skip(reason);
      return;
    }
    const lock = readLock();
    const wheelhouse = await ensureCorpusWheelhouse(sampleWheels(lock));
    const requirements = sampleRequirements(lock);
    for (const project of SAMPLE_PROJECTS)
      assert.ok(
        requirements.some((r) => r.startsWith(`${project}==`)),
        `${project} is in the corpus lock`,
      );
    const all: Comparison[] = [];
    for (const libc of LIBC_MODES) {
      const dir = await ensureCorpusBundle({
        name: 'corpus-sample',
        requirements,
        libc,
        wheelhouse,
        smoke: SAMPLE_SMOKE,
      });
      for (const root of ROOTS) {
        const run = await compareInRoot({ name: 'corpus-sample', libc, dir }, root);
        t.diagnostic(
          `${root} --libc ${libc}: ${run.comparisons.length} libraries (${run.others} programs not loaded), ` +
            `real ${run.realSeconds.toFixed(0)} s, check ${run.checkSeconds.toFixed(0)} s`,
        );
        all.push(...run.comparisons);
      }
    }
    const summary = summarizeComparisons(all);
    for (const line of summary.slice(0, 40)) t.diagnostic(line);
    // The sample must exercise both verdicts: loads (bookworm) and failures (bullseye, host libc).
    assert.ok(
      all.some((c) => c.real.loaded) && all.some((c) => !c.real.loaded),
      'the sample holds both loading and failing files',
    );
    assert.ok(
      all.some((c) => c.file.includes('/pandas/')) && all.some((c) => c.file.includes('/pillow.libs/')),
      'pandas extensions and pillow.libs were loaded',
    );
    const disagreements = all.filter((c) => !isAgreement(c));
    assert.equal(disagreements.length, 0, summary.join('\n'));
  },
);
