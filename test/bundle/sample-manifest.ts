// A valid manifest for tests to start from.

import { MANIFEST_FORMAT, type Manifest } from '../../src/bundle/manifest.js';

export function sampleManifest(): Manifest {
  return {
    format: MANIFEST_FORMAT,
    name: 'app',
    python: { version: '3.11.7', executable: 'bin/python3.11', packages: [{ name: 'cffi', version: '2.0.0' }] },
    libc: 'host',
    glibcFloor: '2.34',
    kernelFloor: '3.2.0',
    entryPoints: { app: 'app.main:run' },
    steps: [{ name: 'copy', summary: 'copied 1 file' }],
    slimmed: [{ category: 'tests', files: 3, bytes: 1200 }],
    grafted: [
      {
        path: 'lib/pyrelo-grafted/libyaml-0.so.2',
        soname: 'libyaml-0.so.2',
        origin: '/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9',
        debianPackage: 'libyaml-0-2:amd64',
        neededBy: ['bin/python3.11'],
      },
    ],
    elf: [
      {
        path: 'bin/python3.11',
        needed: ['libpython3.11.so.1.0', 'libc.so.6'],
        versions: { 'libc.so.6': ['GLIBC_2.34'] },
        runpath: '$ORIGIN/../lib',
      },
    ],
    files: [
      { path: 'bin/python3', type: 'symlink', mode: 0o777, target: 'python3.11' },
      { path: 'bin/python3.11', type: 'file', mode: 0o755, size: 10, sha256: 'a'.repeat(64) },
      { path: 'lib/pyrelo-grafted/libyaml-0.so.2', type: 'file', mode: 0o644, size: 5, sha256: 'b'.repeat(64) },
    ],
  };
}
