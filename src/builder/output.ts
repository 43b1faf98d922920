// Where the finished bundle goes, by the ending of OUTPUT: an archive (.tar.gz, .tar.xz, .tar.zst),
// a self-extracting installer (.run), or else a folder.

import { compressionFor } from '../bundle/compression.js';

export type OutputKind = 'directory' | 'archive' | 'run';

export function outputKind(output: string): OutputKind {
  if (output.endsWith('.run')) return 'run';
  return compressionFor(output) === null ? 'directory' : 'archive';
}
