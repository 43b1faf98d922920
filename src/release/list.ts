// `release list`: what is under a prefix, read without the lock (a listing during an install may
// show its temporary folder as a leftover). A release folder the state does not know (an install
// killed between the rename and the state write) is listed as installed, named from its manifest.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../bundle/file-list.js';
import { MANIFEST_NAME, readManifest } from '../bundle/manifest.js';
import { readCurrent } from './current.js';
import { releaseNameOf, ReleaseLayout } from './layout.js';
import { findLeftovers, installedIds } from './prune.js';
import { readState, type ReleaseRecord } from './state.js';
import type { ReleaseListEntry, ReleaseListing } from './types.js';

function unrecorded(layout: ReleaseLayout, id: string): Omit<ReleaseRecord, 'check'> {
  const root = layout.release(id);
  let name = releaseNameOf(id);
  let manifestSha256 = '';
  try {
    name = readManifest(root).name;
    manifestSha256 = sha256File(join(root, MANIFEST_NAME));
  } catch {
    // A folder without a readable manifest is still listed: the next install removes it.
  }
  return { id, name, bundleDigest: '', manifestSha256, installedAt: '', status: 'installed' };
}

export function listReleases(prefix: string): ReleaseListing {
  const layout = new ReleaseLayout(prefix);
  if (!existsSync(prefix)) return { prefix, current: null, previous: null, releases: [], leftovers: [] };
  const state = readState(layout);
  const current = readCurrent(layout);
  const ids = installedIds(layout);
  const releases: ReleaseListEntry[] = ids.map((id) => {
    const record = state.releases[id] ?? unrecorded(layout, id);
    return {
      id,
      name: record.name,
      bundleDigest: record.bundleDigest,
      manifestSha256: record.manifestSha256,
      installedAt: record.installedAt,
      status: record.status,
      isCurrent: id === current,
    };
  });
  releases.sort((a, b) =>
    a.installedAt < b.installedAt ? -1 : a.installedAt > b.installedAt ? 1 : a.id < b.id ? -1 : 1,
  );
  const previous =
    state.previous !== null && state.previous !== current && ids.includes(state.previous) ? state.previous : null;
  return { prefix, current, previous, releases, leftovers: findLeftovers(layout) };
}
