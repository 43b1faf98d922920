// Where things live under a release prefix P on a host (`pyrelo deploy`):
//
//   P/releases/<id>        one installed bundle each, immutable once renamed into place
//   P/releases/.tmp-…      an install or removal in progress (or interrupted: removed by the next install)
//   P/current              symlink `releases/<id>` (relative), switched by rename
//   P/.pyrelo/incoming/    archives the client uploads (`<sha256>.tar.gz`, …)
//   P/.pyrelo/state.json   what was installed and activated (temp + rename)
//   P/.pyrelo/lock         the pid of the install or rollback running now

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BundleError } from '../bundle/errors.js';
import { isReleaseName, MAX_RELEASE_NAME } from '../bundle/bundle-name.js';

const DIGEST = /^[0-9a-f]{64}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._+-]*-[0-9a-f]{12}$/;

/** Prefix of every temporary entry in releases/ and .pyrelo/ (hidden, so never taken for a release). */
const TEMPORARY_MARK = '.tmp-';

/** Why a bundle name cannot name a release folder, with the name shown short enough for one line. */
export function releaseNameProblem(name: string): string {
  const shown =
    name.length > 60 ? `${JSON.stringify(name.slice(0, 60))}… (${name.length} characters)` : JSON.stringify(name);
  const why =
    name.length > MAX_RELEASE_NAME
      ? `longer than ${MAX_RELEASE_NAME} characters`
      : 'letters, digits, ".", "_", "+" and "-" only, starting with a letter or digit';
  return `bundle name ${shown} cannot name a release folder (${why})`;
}

export function releaseIdFor(name: string, bundleDigest: string): string {
  if (!isReleaseName(name)) throw new BundleError('pyrelo.json', releaseNameProblem(name));
  if (!DIGEST.test(bundleDigest))
    throw new BundleError('--bundle-digest', `expected 64 lowercase hex digits, got ${JSON.stringify(bundleDigest)}`);
  return `${name}-${bundleDigest.slice(0, 12)}`;
}

export function isReleaseId(id: string): boolean {
  return ID.test(id);
}

/** The bundle name a release id starts with (the id without `-<12 hex digits>`). */
export function releaseNameOf(id: string): string {
  return id.slice(0, -13);
}

export function isSha256(value: string): boolean {
  return DIGEST.test(value);
}

export class ReleaseLayout {
  constructor(readonly prefix: string) {}

  get releases(): string {
    return join(this.prefix, 'releases');
  }
  get current(): string {
    return join(this.prefix, 'current');
  }
  get meta(): string {
    return join(this.prefix, '.pyrelo');
  }
  get incoming(): string {
    return join(this.meta, 'incoming');
  }
  get state(): string {
    return join(this.meta, 'state.json');
  }
  get lock(): string {
    return join(this.meta, 'lock');
  }

  release(id: string): string {
    if (!isReleaseId(id)) throw new BundleError(id, 'not a release id (NAME-<12 hex digits>)');
    return join(this.releases, id);
  }

  /** The text of the `current` link for a release: relative, so the prefix can move. */
  static linkText(id: string): string {
    return `releases/${id}`;
  }
}

/** A temporary name in `dir` that says which process made it (so a live one is never removed). */
export function temporaryEntry(dir: string, what: string): string {
  return join(dir, `${TEMPORARY_MARK}${process.pid}-${randomBytes(4).toString('hex')}-${what}`);
}

/** The pid a temporary name carries (ours or writeFileAtomic's `NAME.tmp-PID-HEX`); null if none. */
export function temporaryOwner(name: string): number | null {
  const match = /\.tmp-(\d+)-[0-9a-f]+/.exec(name);
  return match === null ? null : Number(match[1]);
}
