// The version pyrelo reports (`pyrelo --version`, the agent's hello, the server's log): the
// package's own version from package.json, and the commit when run from a git checkout. The packed
// agent is one esbuild file with no package.json beside it: `pyrelo agent pack` defines
// PYRELO_PACKED_VERSION at pack time (builder/agent-pack.ts).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

declare const PYRELO_PACKED_VERSION: string | undefined;

/** The folder holding pyrelo's package.json, above this module; null in the packed agent. */
function packageRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'pyrelo') return dir;
  }
  return null;
}

function commitOf(root: string): string | null {
  if (!existsSync(join(root, '.git'))) return null;
  try {
    return (
      execFileSync('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim() || null
    );
  } catch {
    return null; // no git on the machine: the package version alone
  }
}

let cached: string | undefined;

/** "0.1.0", or "0.1.0+d448614abcde" from a git checkout; the packed agent's is fixed at pack time. */
export function pyreloVersion(): string {
  if (cached !== undefined) return cached;
  if (typeof PYRELO_PACKED_VERSION === 'string') return (cached = PYRELO_PACKED_VERSION);
  const root = packageRoot();
  if (root === null) return (cached = 'unknown');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = commitOf(root);
  return (cached = commit === null ? version : `${version}+${commit}`);
}
