// The gcc-built fixture scenarios (version scripts, RPATH vs RUNPATH chains, $ORIGIN, a missing
// library, a weak version, a library without version information, a wrong-class library first on
// the path, a dropped symbol, NODEFLIB, ...)
// checked by pyrelo and traced by the real loader with the same environment: the answers must match.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFile } from '../../src/loader/check.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { compareWithRealLoader } from '../support/compare.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { scenarioBuilders, traceScenario, type Scenario } from '../support/scenarios.js';

let baseDir = '';
const view = new RootHostView('/', loaderConfigForRoot('/'));

before(async () => {
  baseDir = await makeTempDir('pyrelo-scenarios-');
});
after(async () => {
  await removeDir(baseDir);
});

async function predictAndTrace(scenario: Scenario): Promise<void> {
  const traces = await traceScenario(scenario, { bindNow: true });
  scenario.files.forEach((file, i) => {
    const report = checkFile(view, file, {
      cwd: scenario.cwd ?? '/',
      ...(scenario.env.LD_LIBRARY_PATH === undefined ? {} : { libraryPath: scenario.env.LD_LIBRARY_PATH }),
    });
    const differences = compareWithRealLoader(report, traces[i]!);
    assert.deepEqual(differences, [], `${scenario.name}: ${file}\n${differences.join('\n')}`);
  });
}

for (const [name, build] of Object.entries(scenarioBuilders)) {
  test(`scenario ${name}: pyrelo agrees with the real loader`, async () => {
    await predictAndTrace(await build(baseDir));
  });
}

test('scenario missing-library: the report names the library and says it will not load', async () => {
  const scenario = await scenarioBuilders['missing-library']!(baseDir);
  const report = checkFile(view, scenario.files[0]!, { cwd: '/' });
  assert.equal(report.loads, false);
  const missing = report.problems.find((p) => p.kind === 'missing-library');
  assert.ok(missing, 'no missing-library problem');
  assert.match(missing.message, /cannot open shared object file: No such file or directory/);
});
