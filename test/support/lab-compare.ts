// Checks a fixture program (built on this machine, in `dir`) against a lab root: pyrelo looks at
// the root with the fixture folder laid over it, the real loader runs inside the root with the same
// folder bound at the same path. Returns both answers and their differences.

import { checkFile } from '../../src/loader/check.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import type { LoadReport } from '../../src/loader/types.js';
import { runInRoot } from '../lab/lab.js';
import { compareWithRealLoader } from './compare.js';
import { traceWithRealLoader, type CommandRunner, type RealLoaderTrace } from './real-loader.js';

export interface LabComparison {
  readonly report: LoadReport;
  readonly trace: RealLoaderTrace;
  readonly differences: string[];
}

export async function compareInRoot(root: string, dir: string, program: string): Promise<LabComparison> {
  const runner: CommandRunner = async (argv, env) => {
    const r = await runInRoot(root, argv, { env, bind: [{ hostPath: dir, rootPath: dir, readOnly: true }] });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
  const config = loaderConfigForRoot(root);
  const view = new OverlayHostView(new RootHostView(root, config), new RootHostView('/', config), [dir]);
  const report = checkFile(view, program, { cwd: '/' });
  const trace = await traceWithRealLoader(program, { bindNow: true, runner });
  return { report, trace, differences: compareWithRealLoader(report, trace) };
}
