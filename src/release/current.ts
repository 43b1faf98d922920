// The `current` link: which release runs. Switched by making the new link under a temporary name
// and renaming it over `current` (rename(2) replaces a link atomically), so at every moment
// `current` is the old link or the new one, never missing or half-made.

import { readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { isReleaseId, ReleaseLayout, temporaryEntry } from './layout.js';

/** The release `current` names; null when there is no link (nothing installed yet). */
export function readCurrent(layout: ReleaseLayout): string | null {
  let text: string;
  try {
    text = readlinkSync(layout.current);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL') return null; // none, or not a link (not ours)
    throw error;
  }
  const id = text.startsWith('releases/') ? text.slice('releases/'.length) : '';
  return isReleaseId(id) ? id : null;
}

export function switchCurrent(layout: ReleaseLayout, id: string): void {
  layout.release(id); // validates the id
  const temporary = temporaryEntry(layout.meta, 'current');
  symlinkSync(ReleaseLayout.linkText(id), temporary);
  try {
    renameSync(temporary, layout.current);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Removes `current` (a failed first install leaves nothing to run rather than a failed release). */
export function clearCurrent(layout: ReleaseLayout): void {
  rmSync(layout.current, { force: true });
}
