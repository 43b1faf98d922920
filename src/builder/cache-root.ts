// Where the builder keeps what it makes once and reuses: compiled CPython prefixes (cpython/),
// prepared base stages (stage/) and the unpacked pip it installs with (pip/).

import { homedir } from 'node:os';
import { join } from 'node:path';

/** PYRELO_CACHE, else /var/cache/pyrelo as root, else $XDG_CACHE_HOME/pyrelo or ~/.cache/pyrelo. */
export function builderCacheRoot(): string {
  return (
    process.env.PYRELO_CACHE ??
    (process.getuid?.() === 0
      ? '/var/cache/pyrelo'
      : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pyrelo'))
  );
}
