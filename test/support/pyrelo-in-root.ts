// Runs this checkout's pyrelo inside a lab root that has no Node: this machine's node and its
// libraries are bound in and started through the bound glibc loader, so the root's own libc (which
// may be older than node needs) is never involved.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { BindMount } from '../lab/lab.js';

/** The compiled tree (dist/ or another outDir) and the project whose node_modules it runs with. */
const DIST = fileURLToPath(new URL('../../', import.meta.url));
const PROJECT = projectRoot();

function projectRoot(): string {
  for (let dir = DIST; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'node_modules', '@grpc', 'grpc-js'))) return dir;
  throw new Error('node_modules not found above the compiled tests');
}

/** The command line that runs `pyrelo ARGS…` inside the root, and the binds it needs. */
export function pyreloInRoot(args: readonly string[]): { argv: string[]; bind: BindMount[] } {
  return {
    argv: [
      '/opt/node/lib64/ld-linux-x86-64.so.2',
      '--library-path',
      '/opt/node/lib',
      '/opt/node/node',
      '/opt/pyrelo/dist/src/client/main.js',
      ...args,
    ],
    bind: [
      { hostPath: process.execPath, rootPath: '/opt/node/node', readOnly: true },
      { hostPath: '/lib/x86_64-linux-gnu', rootPath: '/opt/node/lib', readOnly: true },
      { hostPath: '/lib/x86_64-linux-gnu', rootPath: '/opt/node/lib64', readOnly: true },
      { hostPath: DIST, rootPath: '/opt/pyrelo/dist', readOnly: true },
      { hostPath: join(PROJECT, 'node_modules'), rootPath: '/opt/pyrelo/node_modules', readOnly: true },
      { hostPath: join(PROJECT, 'proto'), rootPath: '/opt/pyrelo/proto', readOnly: true },
      { hostPath: join(PROJECT, 'data'), rootPath: '/opt/pyrelo/data', readOnly: true },
      { hostPath: join(PROJECT, 'package.json'), rootPath: '/opt/pyrelo/package.json', readOnly: true },
    ],
  };
}
