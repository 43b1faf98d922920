// Part of step "host": a few terminal descriptions (data/host-terminfo.json) copied from this build
// host into lib/pyrelo/terminfo/, for targets without any terminfo database (busybox, distroless).
// The bundle's hook (data/python/_pyrelo_host.py) points curses at the host's own folders first and
// at these only after them, and only while curses reads them.

import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataFile } from '../common/package-files.js';

interface HostTerminfo {
  readonly hostDirs: readonly string[];
  readonly sourceDirs: readonly string[];
  readonly entries: readonly string[];
}

export function loadHostTerminfo(path = dataFile('host-terminfo.json')): HostTerminfo {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as HostTerminfo;
  for (const key of ['hostDirs', 'sourceDirs', 'entries'] as const) {
    if (!Array.isArray(parsed[key]) || parsed[key].some((e) => typeof e !== 'string' || e === ''))
      throw new Error(`${path}: ${key}: expected a list of strings`);
  }
  if (parsed.entries.some((e) => e.includes('/'))) throw new Error(`${path}: entries: terminal names, not paths`);
  return parsed;
}

/** Copies the entries found on this host into DIR/terminfo/<first letter>/<name>; copied and missing names. */
export function copyTerminfo(
  dir: string,
  spec = loadHostTerminfo(),
): { copied: string[]; missing: string[]; bytes: number } {
  const copied: string[] = [];
  const missing: string[] = [];
  let bytes = 0;
  for (const name of spec.entries) {
    const relative = join(name[0]!, name);
    const source = spec.sourceDirs.map((d) => join(d, relative)).find((p) => existsSync(p));
    if (source === undefined) {
      missing.push(name);
      continue;
    }
    mkdirSync(join(dir, 'terminfo', name[0]!), { recursive: true });
    copyFileSync(source, join(dir, 'terminfo', relative)); // follows symlinks: the bundle gets the file
    bytes += statSync(source).size;
    copied.push(name);
  }
  return { copied, missing, bytes };
}
