// A lab root with a folder of this machine's test fixtures laid over it at the same path, both as
// pyrelo sees it (a view of the root with the folder on top) and as the root's own loader runs it
// (a runner inside the root with the folder bound read-only). The loader tests compare the two.

import type { HostView } from '../../src/loader/host-view.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { runInRoot } from '../lab/lab.js';
import type { CommandRunner } from './real-loader.js';

export interface RootWithFixtures {
  readonly view: HostView;
  readonly runner: CommandRunner;
}

export function rootWithFixtures(root: string, dir: string): RootWithFixtures {
  const config = loaderConfigForRoot(root);
  const view = new OverlayHostView(new RootHostView(root, config), new RootHostView('/', config), [dir]);
  const runner: CommandRunner = async (argv, env) => {
    const r = await runInRoot(root, argv, { env, bind: [{ hostPath: dir, rootPath: dir, readOnly: true }] });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
  return { view, runner };
}
