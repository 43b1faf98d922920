// The dashboard's token (README "Dashboard"): made by `pyrelo server dashboard-token`, shown once,
// stored only as its sha256 in DATA/dashboard-token.sha256 (0600, written whole by a rename), and
// compared in constant time. A token is 32 random bytes, so a plain sha256 is as hard to reverse
// as the token is to guess: the file holds nothing that opens the dashboard.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOKEN_FILE = 'dashboard-token.sha256';
/** Longer candidates are refused before hashing: a header or cookie is bounded anyway, this is cheaper. */
const MAX_TOKEN_LENGTH = 256;

export function tokenFile(dataDir: string): string {
  return join(dataDir, TOKEN_FILE);
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Makes a new token, replacing the old one (which stops working at once), and returns it. */
export function createDashboardToken(dataDir: string): string {
  const token = `pyd_${randomBytes(32).toString('base64url')}`;
  const file = tokenFile(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  // Born 0600 (mode applies at creation; the temporary name is new), then renamed over the old file.
  writeFileSync(temporary, `${sha256(token).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
  return token;
}

/**
 * The stored hash, read again when the file changes (a new token, renamed into place, has a new
 * inode, and works without a restart), or null when there is none (nobody logs in with a token then).
 */
export class DashboardTokens {
  private cached: { readonly ino: number; readonly mtimeMs: number; readonly hash: Buffer | null } | null = null;

  constructor(private readonly dataDir: string) {}

  exists(): boolean {
    return this.hash() !== null;
  }

  /** Whether `candidate` is the token: sha256 of both sides compared with timingSafeEqual. */
  matches(candidate: string): boolean {
    const hash = this.hash();
    if (hash === null || candidate.length === 0 || candidate.length > MAX_TOKEN_LENGTH) return false;
    return timingSafeEqual(sha256(candidate), hash);
  }

  private hash(): Buffer | null {
    const file = tokenFile(this.dataDir);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      this.cached = null;
      return null;
    }
    if (this.cached === null || this.cached.ino !== stat.ino || this.cached.mtimeMs !== stat.mtimeMs) {
      const hex = readFileSync(file, 'utf8').trim();
      this.cached = {
        ino: stat.ino,
        mtimeMs: stat.mtimeMs,
        hash: /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : null,
      };
    }
    return this.cached.hash;
  }
}
