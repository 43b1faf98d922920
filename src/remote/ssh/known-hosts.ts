// OpenSSH known_hosts files, read the way ssh reads them (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
// one key per line, `[marker] hostpatterns keytype base64 [comment]`. Host patterns are a comma
// list of names, `[host]:port` for a port other than 22, `*`/`?` wildcards and `!` negations, or
// one hashed name `|1|salt|hmac` (HMAC-SHA1 of the name keyed with the salt, `ssh-keygen -H`).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type KnownStatus = 'known' | 'unknown' | 'changed' | 'revoked';

export interface KnownHostLookup {
  readonly status: KnownStatus;
  /** For known, changed and revoked: the line that decided it. */
  readonly file?: string;
  readonly line?: number;
  /** For changed: the key type and base64 key the line holds (to show its fingerprint). */
  readonly knownKeyType?: string;
  readonly knownKeyBase64?: string;
}

export interface KnownHostEntry {
  readonly file: string;
  readonly line: number;
  readonly marker?: 'revoked' | 'cert-authority';
  /** The host field as written: a comma pattern list or one `|1|salt|hash`. */
  readonly hosts: string;
  readonly keyType: string;
  readonly keyBase64: string;
}

/** The name a host key is filed under: `host` on port 22, `[host]:port` otherwise (as ssh writes it). */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>` of a public key blob, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(keyBlob: Buffer | string): string {
  const blob = typeof keyBlob === 'string' ? Buffer.from(keyBlob, 'base64') : keyBlob;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob ("ssh-ed25519", "ssh-rsa", …). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) throw new Error('public key blob shorter than its type field');
  const length = blob.readUInt32BE(0);
  if (length > blob.length - 4 || length > 64) throw new Error('public key blob with a malformed type field');
  return blob.subarray(4, 4 + length).toString('latin1');
}

export class KnownHosts {
  constructor(readonly entries: readonly KnownHostEntry[]) {}

  /** Reads every file that exists (a missing file is no entries, as with ssh). */
  static async load(files: readonly string[]): Promise<KnownHosts> {
    const entries: KnownHostEntry[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new Error(`known_hosts file ${file}: ${(error as Error).message}`);
      }
      entries.push(...parseKnownHosts(text, file));
    }
    return new KnownHosts(entries);
  }

  /** How the key a host presents compares with what the files say about that host. */
  lookup(host: string, port: number, keyType: string, keyBase64: string): KnownHostLookup {
    const name = knownHostsName(host, port);
    const presented = Buffer.from(keyBase64, 'base64');
    const forHost = this.entries.filter((entry) => hostFieldMatches(entry.hosts, name));
    const sameKey = (entry: KnownHostEntry) =>
      entry.keyType === keyType && Buffer.from(entry.keyBase64, 'base64').equals(presented);

    const revoked = forHost.find((entry) => entry.marker === 'revoked' && sameKey(entry));
    if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
    // @cert-authority lines name a CA that signs host certificates; pyrelo (ssh2) checks plain
    // host keys only, so they neither vouch for a key nor make a plain key look changed.
    const plain = forHost.filter((entry) => entry.marker === undefined);
    const known = plain.find(sameKey);
    if (known) return { status: 'known', file: known.file, line: known.line };
    // Another key of the same type is the classic changed key; a key of another type only is
    // treated the same (pyrelo asks the server for the known types first, see connect.ts).
    const other = plain.find((entry) => entry.keyType === keyType) ?? plain[0];
    if (other)
      return {
        status: 'changed',
        file: other.file,
        line: other.line,
        knownKeyType: other.keyType,
        knownKeyBase64: other.keyBase64,
      };
    return { status: 'unknown' };
  }

  /** Key types with a plain entry for the host, in file order (to prefer them in the handshake). */
  keyTypesFor(host: string, port: number): string[] {
    const name = knownHostsName(host, port);
    const types = this.entries
      .filter((entry) => entry.marker === undefined && hostFieldMatches(entry.hosts, name))
      .map((entry) => entry.keyType);
    return [...new Set(types)];
  }
}

/** Parses one known_hosts file's text; lines ssh would skip (comments, malformed) are skipped. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    } else if (fields[0].startsWith('@')) {
      return; // an unknown marker: ssh skips the line
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64 || !/^[A-Za-z0-9+/]+=*$/.test(keyBase64)) return;
    entries.push({ file, line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, keyBase64 });
  });
  return entries;
}

/** Whether a host field (pattern list or hashed name) covers `name` (already `[host]:port` when port ≠ 22). */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (!pattern) continue;
    const negated = pattern.startsWith('!');
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false; // a negated match rules the line out whatever else matches
      matched = true;
    }
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const hash = Buffer.from(parts[3]!, 'base64');
  return createHmac('sha1', salt).update(name.toLowerCase()).digest().equals(hash);
}

/** OpenSSH's match_pattern for host names: `*` any run, `?` one character, case-insensitive. */
function globMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(name.toLowerCase());
}

/**
 * Appends `host key` to a known_hosts file, atomically (a temporary file in the same folder,
 * then rename), so a crash never leaves a half-written file that ssh would reject. The folder
 * is created with mode 0700 when missing (it is usually ~/.ssh). The name is written plainly
 * (not hashed), `[host]:port` when the port is not 22. Two concurrent appends may lose one.
 */
export async function appendTrusted(
  file: string,
  host: string,
  port: number,
  keyType: string,
  keyBase64: string,
): Promise<void> {
  let target = file;
  let existing = '';
  let mode = 0o644;
  try {
    target = await realpath(file); // keep a symlinked known_hosts a symlink
    existing = await readFile(target, 'utf8');
    mode = (await stat(target)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`known_hosts file ${file}: ${(error as Error).message}`);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  }
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  const line = `${knownHostsName(host, port)} ${keyType} ${keyBase64}\n`;
  const temporary = `${target}.pyrelo-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, existing + separator + line, { mode, flush: true });
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new Error(`could not write known_hosts file ${file}: ${(error as Error).message}`);
  }
}
