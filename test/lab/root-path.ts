// Resolving a path as the root itself would see it. Roots are full of absolute symlinks
// (bookworm's /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...): following them
// on the host would silently check the HOST's files instead of the root's.
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_SYMLINK_HOPS = 40;

/** The host path a path inside `root` resolves to, or undefined when it does not exist. */
export async function resolveInRoot(root: string, pathInRoot: string): Promise<string | undefined> {
  let pending = pathInRoot.split('/').filter(Boolean);
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const [part, ...rest] = pending;
    pending = rest;
    if (part === undefined || part === '.') continue;
    if (part === '..') {
      resolved.pop(); // ".." at the root stays at the root, as chroot does
      continue;
    }
    const hostPath = join(root, ...resolved, part);
    const info = await lstat(hostPath).catch(() => undefined);
    if (!info) return undefined;
    if (!info.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) return undefined;
    const target = await readlink(hostPath);
    if (target.startsWith('/')) resolved = [];
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  return join(root, ...resolved);
}
