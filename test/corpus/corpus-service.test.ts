// Ground truth through the service, for real wheels (issue 11, "Through the service"): the corpus
// sample (numpy, pandas, pillow; sample.ts) bundled in both libc modes with a smoke command that
// uses each project, added to a real server, and verified by real agents in the bookworm, bullseye
// and busybox roots. For every bundle and host, the server's prediction from the host's stored
// inventory must equal the agent's verified run: the same problems, file by file, and the same
// verdict, which the bundle's smoke command on that host decides (README "Testing").

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labSkipReason, type LabRootName } from '../lab/lab.js';
import { buildSkipReason } from '../builder/shared-build.js';
import { ControlClient } from '../../src/client/control-client.js';
import { bundlesAdd } from '../../src/client/commands/bundles.js';
import { sameVerdict } from '../../src/compat/check-bundle.js';
import { packBundle } from '../../src/bundle/pack.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';
import { startLabAgent, waitForInventories, type LabAgent } from '../support/lab-agent.js';
import { ensureCorpusBundle, ensureCorpusWheelhouse } from './corpus-cache.js';
import { readLock } from './corpus-lock.js';
import { SAMPLE_SMOKE, sampleRequirements, sampleWheels } from './sample.js';
import { quietly } from '../support/quietly.js';

// busybox: no libc at all, so only the bundled-glibc bundle runs there. Its agent unpacks the
// 235 MB bundle; that once held the agent's event loop past the server's keepalive timeout and the
// agent was dropped mid-order (test/agent/order-off-loop.test.ts).
const ROOTS: LabRootName[] = ['bookworm', 'bullseye', 'busybox'];
const LIBC_MODES = ['host', 'bundle'] as const;
const TIMEOUT = 30 * 60_000;
const skip = labSkipReason(['debootstrap']) ?? buildSkipReason();

let work: string;
let ts: TestServer;
let control: ControlClient;
const agents: LabAgent[] = [];
/** The bundles' digests by libc mode. */
const digests = new Map<string, string>();

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-corpus-service-'));
  const lock = readLock();
  const wheelhouse = await ensureCorpusWheelhouse(sampleWheels(lock));
  const requirements = sampleRequirements(lock);
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
  for (const libc of LIBC_MODES) {
    const dir = await ensureCorpusBundle({
      name: 'corpus-sample',
      requirements,
      libc,
      wheelhouse,
      smoke: SAMPLE_SMOKE,
    });
    const archive = join(work, `corpus-sample-${libc}.tar.gz`);
    await packBundle(dir, archive);
    await quietly(() => bundlesAdd(archive, { control: control.address }));
  }
  const { bundles } = await control.call('ListBundles', {});
  for (const b of bundles) digests.set(b.libc, b.digest);
  for (const name of ROOTS) agents.push(await startLabAgent(ts, control, name, work, TIMEOUT));
});

after(async () => {
  if (skip) return;
  for (const agent of agents) agent.run.kill();
  await Promise.allSettled(agents.map((a) => a.run.done));
  control?.close();
  await ts?.server.stop(500);
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  'corpus sample through the service: every prediction from a stored inventory equals the agent verified run',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    await waitForInventories(ts, control, agents);
    assert.deepEqual([...digests.keys()].sort(), ['bundle', 'host'], 'both bundles were stored');
    const verdicts: Record<string, boolean> = {};
    for (const libc of LIBC_MODES) {
      for (const agent of agents) {
        const label = `--libc ${libc} on ${agent.name}`;
        const started = Date.now();
        const answer = await control.call('Check', {
          bundle: digests.get(libc)!,
          host: agent.host,
          verify: true,
          timeoutMs: 600_000,
        });
        assert.equal(answer.note, '', label);
        const { predicted, verified } = answer;
        assert.ok(predicted !== null && verified !== null, `${label}: ${JSON.stringify(answer)}`);
        // The run is the bundle's smoke command on that host: it decides the verdict.
        assert.equal(verified.smokeRan, true, `${label}: no smoke run`);
        assert.equal(verified.runs, verified.smokeExit === 0, `${label}: ${verified.smokeOutput}`);
        if (verified.runs) assert.match(verified.smokeOutput, /corpus-sample 6\.0 \(2, 2\)/, label);
        assert.equal(predicted.runs, verified.runs, `${label}: predicted ${predicted.runs}, ran ${verified.runs}`);
        assert.ok(
          sameVerdict(predicted, verified),
          `${label}: predicted ${JSON.stringify(predicted.problems.slice(0, 5))} but the run gave ` +
            `${JSON.stringify(verified.problems.slice(0, 5))}`,
        );
        verdicts[`${libc}@${agent.name}`] = verified.runs;
        t.diagnostic(
          `${label}: ${verified.filesChecked} files, ${verified.problems.length} problems, ` +
            `${verified.runs ? 'runs' : 'fails'}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
        );
      }
    }
    // Both outcomes occur, so the comparison above covered a refusal as well as a run: the
    // host-libc interpreter needs glibc 2.34+ (bullseye has 2.31) and a PT_INTERP busybox lacks.
    assert.deepEqual(verdicts, {
      'host@bookworm': true,
      'host@bullseye': false,
      'host@busybox': false,
      'bundle@bookworm': true,
      'bundle@bullseye': true,
      'bundle@busybox': true,
    });
  },
);
