// A delta archive, made on the build machine when the host already has an earlier release of the
// same application: pyrelo.json, every folder, and only the files and symlinks whose type, mode,
// sha256 or target differ from that release's manifest. The host's `release install --base`
// takes the rest from the base release (src/release/base-files.ts) and verifies the whole tree
// against pyrelo.json, so the delta cannot make a release that differs from the full archive's.

import { mkdirSync, rmSync, statSync } from 'node:fs';
import { manifestFromEntries, readArchiveEntries } from '../bundle/archive-manifest.js';
import { temporarySibling } from '../bundle/atomic-write.js';
import { extractEntries } from '../bundle/extract.js';
import { MANIFEST_NAME, type BundleFile } from '../bundle/manifest.js';
import { packBundle } from '../bundle/pack.js';

export interface DeltaStats {
  /** Files and symlinks in the delta (pyrelo.json not counted). */
  readonly changedFiles: number;
  /** Files and symlinks of the bundle's manifest. */
  readonly totalFiles: number;
  /** Size of the delta archive. */
  readonly bytes: number;
}

function sameFile(a: BundleFile, b: BundleFile): boolean {
  return a.type === b.type && a.mode === b.mode && a.sha256 === b.sha256 && a.target === b.target;
}

/** The manifest paths of `files` that `baseFiles` does not have exactly. */
export function changedPaths(files: readonly BundleFile[], baseFiles: readonly BundleFile[]): Set<string> {
  const base = new Map(baseFiles.map((f) => [f.path, f]));
  return new Set(
    files
      .filter((f) => {
        const b = base.get(f.path);
        return b === undefined || !sameFile(f, b);
      })
      .map((f) => f.path),
  );
}

/**
 * Writes the delta of `bundleArchive` against `baseFiles` to `output` (.tar.gz, .tar.xz or
 * .tar.zst; reproducible; under a temporary name, then renamed). The bundle is unpacked with the
 * same safety rules as on a host, only the chosen entries, into a folder next to `output`.
 */
export async function makeDeltaArchive(
  bundleArchive: string,
  baseFiles: readonly BundleFile[],
  output: string,
): Promise<DeltaStats> {
  const entries = await readArchiveEntries(bundleArchive);
  const { manifest } = manifestFromEntries(entries, bundleArchive);
  const changed = changedPaths(manifest.files, baseFiles);
  const staging = temporarySibling(output);
  mkdirSync(staging, { mode: 0o755 });
  try {
    extractEntries(entries, staging, bundleArchive, (name) => name === MANIFEST_NAME || changed.has(name));
    await packBundle(staging, output);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { changedFiles: changed.size, totalFiles: manifest.files.length, bytes: statSync(output).size };
}
