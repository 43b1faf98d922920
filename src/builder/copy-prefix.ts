// Step "copy": the base interpreter's prefix into the bundle, without what belongs to the build
// host rather than to Python: the packages installed into the base (the bundle gets exactly what
// the application needs), the scripts in bin/ (their shebangs name the build host; pip writes
// fresh ones), and stale bytecode (recompiled at the end).

import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { BasePython } from './base-python.js';

export interface CopyResult {
  readonly summary: string;
  readonly files: number;
  readonly bytes: number;
}

/**
 * A prefix Python shares with the rest of the system (Debian's python3.11 lives in /usr): only
 * Python's own parts are copied from it, never the whole of /usr.
 */
export function isSharedSystemPrefix(prefix: string): boolean {
  return prefix === '/usr' || prefix === '/usr/local' || prefix === '/';
}

/** An absolute link to a regular file outside the prefix. */
function isForeignFileLink(prefix: string, path: string): boolean {
  const target = readlinkSync(path);
  if (!target.startsWith('/') || resolve(target).startsWith(`${prefix}/`)) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `leaveOut`: paths relative to the prefix that are not copied at all (slim's copy-time removals). */
export function copyPrefix(base: BasePython, bundle: string, leaveOut: readonly string[] = []): CopyResult {
  let files = 0;
  let bytes = 0;
  // Debian keeps its own packages beside the stdlib (dist-packages): the application's go elsewhere.
  // EXTERNALLY-MANAGED (PEP 668) is the distribution's claim on its own Python, not the bundle's.
  const skip = new Set([
    base.purelib,
    'bin',
    `${base.stdlib}/dist-packages`,
    `${base.stdlib}/site-packages`,
    `${base.stdlib}/EXTERNALLY-MANAGED`,
    ...leaveOut,
  ]);
  const copy = (rel: string): void => {
    const from = join(base.prefix, rel);
    const to = join(bundle, rel);
    const stat = lstatSync(from);
    if (stat.isDirectory()) {
      mkdirSync(to, { recursive: true, mode: 0o755 });
      for (const name of readdirSync(from).sort()) {
        const child = rel === '' ? name : `${rel}/${name}`;
        if (skip.has(child) || name === '__pycache__') continue;
        copy(child);
      }
    } else if (stat.isSymbolicLink() && isForeignFileLink(base.prefix, from)) {
      // Debian's lib/python3.11/sitecustomize.py -> /etc/python3.11/sitecustomize.py: the target
      // host need not have the file, so the bundle holds its content.
      copyFileSync(from, to);
      chmodSync(to, statSync(from).mode & 0o755);
      files += 1;
      bytes += statSync(to).size;
    } else if (stat.isSymbolicLink()) {
      let target = readlinkSync(from);
      // An absolute link into the prefix becomes relative, so it survives the move.
      if (target.startsWith('/') && resolve(target).startsWith(`${base.prefix}/`))
        target = relative(dirname(from), resolve(target));
      symlinkSync(target, to);
    } else if (stat.isFile()) {
      copyFileSync(from, to);
      chmodSync(to, stat.mode & 0o755); // no setuid/setgid, no group/other write
      files += 1;
      bytes += stat.size;
    }
  };
  if (isSharedSystemPrefix(base.prefix)) {
    mkdirSync(join(bundle, dirname(base.stdlib)), { recursive: true });
    copy(base.stdlib);
    if (base.sharedLibrary !== null && base.sharedLibraryPath !== null) copy(base.sharedLibraryPath);
  } else {
    copy('');
  }
  // site-packages starts empty except for its README; bin/ holds the interpreter and its names.
  mkdirSync(join(bundle, base.purelib), { recursive: true });
  mkdirSync(join(bundle, 'bin'), { recursive: true });
  const interpreter = base.executable.replace(/^bin\//, '');
  copyFileSync(join(base.prefix, base.executable), join(bundle, base.executable));
  chmodSync(join(bundle, base.executable), 0o755);
  files += 1;
  bytes += lstatSync(join(bundle, base.executable)).size;
  for (const alias of [`python${base.short.split('.')[0]}`, 'python']) {
    if (alias !== interpreter) symlinkSync(interpreter, join(bundle, 'bin', alias));
  }
  return {
    summary:
      `copied ${files} files (${(bytes / 1e6).toFixed(1)} MB) from the base prefix, without its site-packages ` +
      'and bin/ scripts',
    files,
    bytes,
  };
}
