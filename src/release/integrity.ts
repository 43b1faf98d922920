// Whether an installed release is exactly what its manifest lists: every file with its sha256 and
// mode, every symlink with its target, nothing else but folders, and (when the state knows it)
// pyrelo.json itself unchanged. Used before a release is reused, switched to or rolled back to.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError } from '../bundle/errors.js';
import { sha256File, verifyFiles, type VerifyProblem } from '../bundle/file-list.js';
import { MANIFEST_NAME, readManifest, type Manifest } from '../bundle/manifest.js';
import type { ReleaseLayout } from './layout.js';
import type { ReleaseVerification } from './types.js';

/** Problems of the tree at `root` against `manifest`; a tree that cannot even be listed is one problem. */
export function treeProblems(root: string, manifest: Manifest): VerifyProblem[] {
  try {
    return verifyFiles(root, manifest.files);
  } catch (error) {
    if (error instanceof BundleError)
      return [{ path: error.entry ?? '.', problem: error.message.slice(error.message.lastIndexOf(': ') + 2) }];
    throw error;
  }
}

export function checkReleaseIntegrity(layout: ReleaseLayout, id: string, manifestSha256?: string): ReleaseVerification {
  const root = layout.release(id);
  if (!existsSync(root))
    return { release: id, ok: false, problems: [{ path: '.', problem: 'release folder missing' }] };
  let manifest: Manifest;
  try {
    manifest = readManifest(root);
  } catch (error) {
    if (error instanceof BundleError)
      return { release: id, ok: false, problems: [{ path: MANIFEST_NAME, problem: error.message }] };
    throw error;
  }
  const problems: VerifyProblem[] = [];
  if (manifestSha256 !== undefined && sha256File(join(root, MANIFEST_NAME)) !== manifestSha256) {
    problems.push({ path: MANIFEST_NAME, problem: 'checksum mismatch' });
  }
  problems.push(...treeProblems(root, manifest));
  return { release: id, ok: problems.length === 0, problems };
}
