// A host seen with some local folders laid over it: the files being checked (a bundle, a build
// output) live on this machine, while everything else comes from the host under test.

import type { HostView, OpenOutcome } from './host-view.js';

export class OverlayHostView implements HostView {
  readonly label: string;
  readonly config;

  constructor(
    private readonly base: HostView,
    private readonly local: HostView,
    private readonly localDirs: readonly string[],
  ) {
    this.config = base.config;
    this.label = base.label;
  }

  private isLocal(path: string): boolean {
    return this.localDirs.some((dir) => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
  }

  open(path: string): OpenOutcome {
    return this.isLocal(path) ? this.local.open(path) : this.base.open(path);
  }
}
