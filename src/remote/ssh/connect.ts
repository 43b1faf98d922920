// Opening an SSH connection the way pyrelo wants it: the host key checked against known_hosts
// with no way to skip it (unknown, changed and revoked keys are refused; `pyrelo hosts trust`
// is the one way to add a key), ssh-agent then key files for authentication, jump hosts
// reached first and tunnelled through, and keepalives so a dead link ends in an error.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import ssh2, {
  type AnyAuthMethod,
  type Client,
  type ConnectConfig,
  type NextAuthHandler,
  type ParsedKey,
  type ServerHostKeyAlgorithm,
} from 'ssh2';
import { RemoteConnectionError } from '../transport.js';
import {
  appendTrusted,
  fingerprintSha256,
  KnownHosts,
  keyTypeOfBlob,
  type KnownHostLookup,
  type KnownStatus,
} from './known-hosts.js';
import { describeTarget, trustFile, type SshTarget } from './ssh-config.js';

// ssh2 is CommonJS; Node's ESM loader only sees its default export.
const { Client: SshClient, utils } = ssh2;

export interface ConnectOptions {
  /** pyrelo's name for the host, used in the `pyrelo hosts trust NAME` hint; default the target spec. */
  readonly hostName?: string;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; '' for none. */
  readonly agentSocket?: string;
  /** Told about things worth a line but not a failure (an encrypted key skipped). */
  readonly onNote?: (message: string) => void;
  /** SSH keepalive period; the link counts as dead after 3 unanswered ones. Default 15 s. */
  readonly keepaliveIntervalMs?: number;
}

/** A host key pyrelo will not accept; nothing was sent to the host. */
export class SshHostKeyError extends RemoteConnectionError {
  constructor(
    target: string,
    readonly status: Exclude<KnownStatus, 'known'>,
    readonly keyType: string,
    readonly fingerprint: string,
    reason: string,
  ) {
    super(target, reason);
    this.name = 'SshHostKeyError';
  }
}

export interface FetchedHostKey {
  readonly keyType: string;
  readonly keyBase64: string;
  readonly fingerprint: string;
  readonly knownStatus: KnownStatus;
  /** The known_hosts line behind a known, changed or revoked status. */
  readonly knownAt?: { readonly file: string; readonly line: number };
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const DEFAULT_KEEPALIVE_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 3;

/** A connected, authenticated client. Closing it also closes the jump hosts it went through. */
export async function connectSsh(target: SshTarget, options: ConnectOptions = {}): Promise<Client> {
  const tunnel = target.via ? await tunnelTo(target, options) : undefined;
  try {
    const knownHosts = await KnownHosts.load(knownHostsFiles(target));
    const auth = await authMethods(target, options);
    let refusal: SshHostKeyError | undefined;
    const client = await handshake(target, tunnel?.stream, knownHosts, options, {
      hostVerifier: (blob) => {
        refusal = refuseUnlessKnown(target, knownHosts, blob, options);
        return refusal === undefined;
      },
      authHandler: authHandler(auth.methods),
      describeFailure: (error) => {
        if (refusal) return refusal;
        if (/authentication methods failed/i.test(error.message)) {
          const tried = auth.tried.length > 0 ? auth.tried.join(', ') : 'nothing (no ssh-agent, no identity file)';
          const notes = auth.notes.length > 0 ? `; ${auth.notes.join('; ')}` : '';
          return new RemoteConnectionError(
            describeTarget(target),
            `authentication as ${target.user} refused; tried ${tried}${notes}`,
          );
        }
        return undefined;
      },
    });
    if (tunnel) client.once('close', () => tunnel.jump.end());
    return client;
  } catch (error) {
    tunnel?.jump.end();
    throw error;
  }
}

/**
 * The key a host presents, for `pyrelo hosts trust`: the handshake stops right after the key
 * arrives (the verifier refuses it), so nothing is authenticated. Jump hosts on the way must be
 * known already.
 */
export async function fetchHostKey(target: SshTarget, options: ConnectOptions = {}): Promise<FetchedHostKey> {
  const tunnel = target.via ? await tunnelTo(target, options) : undefined;
  try {
    const knownHosts = await KnownHosts.load(knownHostsFiles(target));
    let presented: Buffer | undefined;
    const client = await handshake(target, tunnel?.stream, knownHosts, options, {
      hostVerifier: (blob) => {
        presented = blob;
        return false;
      },
      authHandler: authHandler([]),
      describeFailure: () => undefined,
    }).catch((error: unknown) => {
      if (presented) return undefined;
      throw error;
    });
    client?.end(); // cannot happen (the key is always refused), but never leave a connection open
    if (!presented) throw new RemoteConnectionError(describeTarget(target), 'the host presented no host key');
    const keyType = keyTypeOfBlob(presented);
    const keyBase64 = presented.toString('base64');
    const { host, port } = hostKeyName(target);
    const known = knownHosts.lookup(host, port, keyType, keyBase64);
    return {
      keyType,
      keyBase64,
      fingerprint: fingerprintSha256(presented),
      knownStatus: known.status,
      ...(known.file !== undefined && known.line !== undefined
        ? { knownAt: { file: known.file, line: known.line } }
        : {}),
    };
  } finally {
    tunnel?.jump.end();
  }
}

/** Adds a fetched key to the target's first user known_hosts file (PYRELO_KNOWN_HOSTS in tests). */
export async function trustHostKey(
  target: SshTarget,
  key: Pick<FetchedHostKey, 'keyType' | 'keyBase64'>,
): Promise<string> {
  const file = trustFile(target);
  const { host, port } = hostKeyName(target);
  await appendTrusted(file, host, port, key.keyType, key.keyBase64);
  return file;
}

/** Every known_hosts file read for the target: the user's, then the global ones. */
function knownHostsFiles(target: SshTarget): string[] {
  return [...target.userKnownHostsFiles, ...target.globalKnownHostsFiles];
}

/** The name and port a host key is filed under: HostKeyAlias as is, else hostname and port. */
function hostKeyName(target: SshTarget): { host: string; port: number } {
  return target.hostKeyAlias ? { host: target.hostKeyAlias, port: 22 } : { host: target.hostname, port: target.port };
}

interface HandshakeHooks {
  hostVerifier: (blob: Buffer) => boolean;
  authHandler: ConnectConfig['authHandler'];
  /** The error to report instead of ssh2's, when the hooks know better. */
  describeFailure: (error: Error) => Error | undefined;
}

function handshake(
  target: SshTarget,
  sock: Readable | undefined,
  knownHosts: KnownHosts,
  options: ConnectOptions,
  hooks: HandshakeHooks,
): Promise<Client> {
  const description = describeTarget(target);
  const { host, port } = hostKeyName(target);
  return new Promise((resolve, reject) => {
    const client = new SshClient();
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(hooks.describeFailure(error) ?? new RemoteConnectionError(description, error.message));
    };
    client.once('ready', () => {
      settled = true;
      // Later errors are always followed by 'close', which the transport watches; without a
      // listener an 'error' event would crash the process.
      client.on('error', () => undefined);
      resolve(client);
    });
    client.on('error', fail);
    client.once('close', () => fail(new Error('connection closed during the handshake')));
    client.connect({
      ...(sock ? { sock } : { host: target.hostname, port: target.port }),
      username: target.user,
      hostVerifier: (key: Buffer) => {
        try {
          return hooks.hostVerifier(key);
        } catch {
          return false; // a key blob we cannot even read is not one we know
        }
      },
      authHandler: hooks.authHandler,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownHosts.keyTypesFor(host, port)) },
      readyTimeout: target.connectTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    });
  });
}

/** ssh2's default host key algorithms, those of key types known for the host first (as OpenSSH
 * does), so a host known by its RSA key is not asked for its Ed25519 key and reported changed. */
export function hostKeyAlgorithms(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const all: ServerHostKeyAlgorithm[] = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
  ];
  const algorithmsOf = (keyType: string) =>
    keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
  const preferred = knownTypes
    .flatMap(algorithmsOf)
    .filter((a): a is ServerHostKeyAlgorithm => (all as string[]).includes(a));
  return [...new Set([...preferred, ...all])];
}

function refuseUnlessKnown(
  target: SshTarget,
  knownHosts: KnownHosts,
  blob: Buffer,
  options: ConnectOptions,
): SshHostKeyError | undefined {
  const description = describeTarget(target);
  const keyType = keyTypeOfBlob(blob);
  const fingerprint = fingerprintSha256(blob);
  const { host, port } = hostKeyName(target);
  const found: KnownHostLookup = knownHosts.lookup(host, port, keyType, blob.toString('base64'));
  const files = knownHostsFiles(target).join(', ');
  switch (found.status) {
    case 'known':
      return undefined;
    case 'unknown':
      return new SshHostKeyError(
        description,
        'unknown',
        keyType,
        fingerprint,
        `host key not known: the host presents ${keyType} ${fingerprint}, and no known_hosts file (${files}) ` +
          'has a key for it; ' +
          `if that is the host's key, run: pyrelo hosts trust ${options.hostName ?? target.spec}`,
      );
    case 'changed': {
      const knownFingerprint = found.knownKeyBase64 ? fingerprintSha256(found.knownKeyBase64) : 'unknown';
      return new SshHostKeyError(
        description,
        'changed',
        keyType,
        fingerprint,
        `HOST KEY CHANGED: the host presents ${keyType} ${fingerprint}, but ${found.file}:${found.line} holds ` +
          `${found.knownKeyType} ${knownFingerprint} for it; ` +
          ('someone may be intercepting the connection, or the host was reinstalled. Refused; once the new key ' +
            `is confirmed out of band, remove line ${found.line} of ${found.file}`),
      );
    }
    case 'revoked':
      return new SshHostKeyError(
        description,
        'revoked',
        keyType,
        fingerprint,
        `host key ${keyType} ${fingerprint} is marked @revoked in ${found.file}:${found.line}; refused`,
      );
  }
}

interface AuthPlan {
  methods: AnyAuthMethod[];
  /** What will be offered, for the error message: "ssh-agent", key file paths. */
  tried: string[];
  notes: string[];
}

/** ssh-agent first, then each identity file ssh would offer, in order. */
async function authMethods(target: SshTarget, options: ConnectOptions): Promise<AuthPlan> {
  const plan: AuthPlan = { methods: [], tried: [], notes: [] };
  const agent = options.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '';
  if (agent && existsSync(agent)) {
    plan.methods.push({ type: 'agent', username: target.user, agent });
    plan.tried.push(`ssh-agent (${agent})`);
  }
  for (const file of target.identityFiles) {
    const note = (why: string) => {
      const message = `identity file ${file} skipped: ${why}`;
      plan.notes.push(message);
      options.onNote?.(message);
    };
    let parsed: ParsedKey | ParsedKey[] | Error;
    try {
      parsed = utils.parseKey(await readFile(file)) as ParsedKey | ParsedKey[] | Error;
    } catch (error) {
      note((error as Error).message);
      continue;
    }
    if (parsed instanceof Error) {
      // Without a terminal pyrelo cannot ask for a passphrase; ssh-agent is the way to use such a key.
      note(
        /passphrase|encrypted/i.test(parsed.message)
          ? 'it is encrypted and no passphrase can be asked for (add it to ssh-agent)'
          : parsed.message,
      );
      continue;
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key?.isPrivateKey()) {
      note('not a private key');
      continue;
    }
    plan.methods.push({ type: 'publickey', username: target.user, key });
    plan.tried.push(file);
  }
  return plan;
}

/** Offers the planned methods one by one; ssh2 asks again after each refusal. */
function authHandler(methods: readonly AnyAuthMethod[]): ConnectConfig['authHandler'] {
  let next = 0;
  return (_methodsLeft: unknown, _partialSuccess: unknown, callback: NextAuthHandler) => {
    const method = methods[next++];
    // `false` tells ssh2 there is nothing left to try (the type definitions omit it).
    (callback as (method: AnyAuthMethod | false) => void)(method ?? false);
  };
}

/** Connects to the jump host (verified and authenticated like any host) and opens a tunnel. */
async function tunnelTo(target: SshTarget, options: ConnectOptions): Promise<{ jump: Client; stream: Readable }> {
  const via = target.via!;
  const jump = await connectSsh(via, options);
  try {
    const stream = await new Promise<Readable>((resolve, reject) => {
      jump.forwardOut('127.0.0.1', 0, target.hostname, target.port, (error, channel) =>
        error ? reject(error) : resolve(channel),
      );
    });
    return { jump, stream };
  } catch (error) {
    jump.end();
    throw new RemoteConnectionError(
      describeTarget(target),
      `jump host ${describeTarget(via)} could not open a connection to ${target.hostname}:${target.port}: ` +
        `${(error as Error).message}`,
    );
  }
}
