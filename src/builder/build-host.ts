// The build host as pyrelo's loader emulation sees it: `/`, with its own ld.so.conf, ld.so.cache
// and glibc (docs/loader.md). The graft, libc and verify steps ask it where a library resolves.

import { RootHostView } from '../loader/root-host.js';
import type { HostView, LoaderConfig } from '../loader/host-view.js';
import { loaderConfigForRoot } from '../inventory/root-config.js';

/** The build host's loader configuration, read once per build (the build never changes it). */
export function buildHostConfig(): LoaderConfig {
  return loaderConfigForRoot('/');
}

/**
 * A view of the build host. It remembers what it opened, by path and by inode, so it answers only
 * for the files as they were: a caller that rewrites ELF files (patchelf rewrites them in place)
 * makes a new one (BuildContext.elvesChanged).
 */
export function buildHostView(config: LoaderConfig = buildHostConfig()): HostView {
  return new RootHostView('/', config);
}
