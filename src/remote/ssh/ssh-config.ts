// How to reach a host the way OpenSSH would: `ssh -G` applies ~/.ssh/config (Host and Match
// blocks, Include, defaults) and prints the result, so pyrelo never reimplements the config
// language. Without an ssh client installed, plain OpenSSH defaults are used instead.
// StrictHostKeyChecking is deliberately not read: pyrelo always refuses unknown and changed keys.
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserInputError } from '../../common/user-input-error.js';

export interface SshTarget {
  /** The spec as given ("root@db1:2222"), for messages. */
  readonly spec: string;
  /** The address to connect to (HostName after the config). */
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  /** Private key files to offer, in order; only files that exist. */
  readonly identityFiles: readonly string[];
  /** Read for host keys; the first one is where `pyrelo hosts trust` writes. */
  readonly userKnownHostsFiles: readonly string[];
  /** Read for host keys, never written. */
  readonly globalKnownHostsFiles: readonly string[];
  /** Name to look the host key up under instead of hostname[:port] (OpenSSH's HostKeyAlias). */
  readonly hostKeyAlias?: string;
  /** ConnectTimeout in milliseconds, when the config sets one. */
  readonly connectTimeoutMs?: number;
  /** The host to go through first (last element of a ProxyJump chain), itself resolved. */
  readonly via?: SshTarget;
}

export interface ResolveOptions {
  /** Private key file (`-i`), tried before the config's. */
  readonly identityFile?: string;
  /** Jump host spec(s): "user@host:port", a comma list is a chain (first is reached first). */
  readonly jump?: string;
  /** Environment to read PYRELO_SSH_CONFIG / PYRELO_KNOWN_HOSTS from; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A target or jump spec that cannot be understood. */
export class SshSpecError extends UserInputError {
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(`ssh target "${spec}"`, reason);
    this.name = 'SshSpecError';
  }
}

export interface ParsedSpec {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

/** Splits "user@host:port", "host", "[v6addr]:port", "user@[v6addr]" (a bare v6 address too). */
export function parseTargetSpec(spec: string): ParsedSpec {
  const trimmed = spec.trim();
  const at = trimmed.lastIndexOf('@');
  const user = at >= 0 ? trimmed.slice(0, at) : undefined;
  const rest = at >= 0 ? trimmed.slice(at + 1) : trimmed;
  if (user === '') throw new SshSpecError(spec, 'empty user before "@"');
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    host = rest; // a bare IPv6 address: no port possible without brackets
  } else {
    const colon = rest.indexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    portText = colon >= 0 ? rest.slice(colon + 1) : undefined;
  }
  if (!host || /\s/.test(host)) throw new SshSpecError(spec, 'no host name');
  if (portText === undefined) return user === undefined ? { host } : { user, host };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    throw new SshSpecError(spec, `port "${portText}" is not a number from 1 to 65535`);
  return user === undefined ? { host, port } : { user, host, port };
}

/** "user@host:port" for messages, with brackets around an IPv6 address. */
export function describeTarget(target: Pick<SshTarget, 'user' | 'hostname' | 'port'>): string {
  const host = target.hostname.includes(':') ? `[${target.hostname}]` : target.hostname;
  return `${target.user}@${host}:${target.port}`;
}

/** Where `pyrelo hosts trust` appends: the first user known_hosts file, as OpenSSH does. */
export function trustFile(target: SshTarget): string {
  const file = target.userKnownHostsFiles[0];
  if (!file) throw new Error(`${describeTarget(target)}: no user known_hosts file configured`);
  return file;
}

/** Jump chains longer than this are surely a ProxyJump loop in the config. */
const MAX_JUMP_DEPTH = 8;

export async function resolveSshTarget(spec: string, options: ResolveOptions = {}): Promise<SshTarget> {
  return resolve(spec, options, 0);
}

async function resolve(spec: string, options: ResolveOptions, depth: number): Promise<SshTarget> {
  if (depth > MAX_JUMP_DEPTH)
    throw new SshSpecError(spec, `more than ${MAX_JUMP_DEPTH} jump hosts (a ProxyJump loop in the ssh config?)`);
  const env = options.env ?? process.env;
  const parsed = parseTargetSpec(spec);
  // ssh -G silently drops an -i file that does not exist; a typo must not go unnoticed.
  if (options.identityFile && !existsSync(options.identityFile))
    throw new SshSpecError(spec, `identity file ${options.identityFile} does not exist`);
  const config = (await sshDashG(parsed, options, env)) ?? defaults(parsed, options);

  const knownHostsOverride = env.PYRELO_KNOWN_HOSTS;
  const userKnownHostsFiles = knownHostsOverride ? [knownHostsOverride] : config.userKnownHostsFiles;
  const globalKnownHostsFiles = knownHostsOverride ? [] : config.globalKnownHostsFiles;

  // `-J a,b` means: reach a, from there b, from there the target. The chain's own hosts are
  // resolved without -J (a's config may still give a its own ProxyJump, as with OpenSSH).
  let via: SshTarget | undefined;
  const chain = config.proxyJump
    ? config.proxyJump
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  for (const [index, hop] of chain.entries()) {
    const hopTarget = await resolve(hop, { env }, depth + 1);
    via = index === 0 ? hopTarget : { ...hopTarget, via };
  }

  const identityFiles = config.identityFiles
    .map((f) => expandPath(f, parsed.host, config.user))
    .filter((f, i, all) => all.indexOf(f) === i && existsSync(f));
  return {
    spec,
    hostname: config.hostname,
    port: config.port,
    user: config.user,
    identityFiles,
    userKnownHostsFiles: userKnownHostsFiles.map((f) => expandPath(f, parsed.host, config.user)),
    globalKnownHostsFiles: globalKnownHostsFiles.map((f) => expandPath(f, parsed.host, config.user)),
    ...(config.hostKeyAlias ? { hostKeyAlias: config.hostKeyAlias } : {}),
    ...(config.connectTimeoutMs ? { connectTimeoutMs: config.connectTimeoutMs } : {}),
    ...(via ? { via } : {}),
  };
}

interface EffectiveConfig {
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  proxyJump?: string;
  hostKeyAlias?: string;
  connectTimeoutMs?: number;
}

/** The config `ssh -G` prints; undefined when no ssh client is installed. */
async function sshDashG(
  parsed: ParsedSpec,
  options: ResolveOptions,
  env: NodeJS.ProcessEnv,
): Promise<EffectiveConfig | undefined> {
  const args = ['-G'];
  if (env.PYRELO_SSH_CONFIG) args.push('-F', env.PYRELO_SSH_CONFIG);
  if (parsed.port !== undefined) args.push('-p', String(parsed.port));
  if (parsed.user !== undefined) args.push('-l', parsed.user);
  if (options.identityFile) args.push('-i', options.identityFile);
  if (options.jump) args.push('-J', options.jump);
  args.push('--', parsed.host);
  const result = await execa('ssh', args, { reject: false, stdin: 'ignore', timeout: 15_000, env });
  if (result.exitCode === undefined) return undefined; // not started: no ssh client (ENOENT)
  if (result.exitCode !== 0)
    throw new SshSpecError(
      parsed.host,
      `ssh -G ${args.join(' ')} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    );
  try {
    return parseSshDashG(result.stdout);
  } catch (error) {
    throw new SshSpecError(parsed.host, (error as Error).message);
  }
}

/** Parses `ssh -G` output (lower-case keyword, space, value; list keywords repeat or are space-separated). */
export function parseSshDashG(output: string): EffectiveConfig {
  const single = new Map<string, string>();
  const identityFiles: string[] = [];
  let userKnownHostsFiles: string[] = [];
  let globalKnownHostsFiles: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    const key = match[1]!.toLowerCase();
    const value = match[2]!;
    if (key === 'identityfile') identityFiles.push(value);
    else if (key === 'userknownhostsfile') userKnownHostsFiles = value.split(/\s+/);
    else if (key === 'globalknownhostsfile') globalKnownHostsFiles = value.split(/\s+/);
    else single.set(key, value);
  }
  // ssh2 has no ProxyCommand; connecting directly instead could bypass a bastion the config
  // insists on, so it is refused rather than ignored.
  const proxyCommand = single.get('proxycommand');
  if (proxyCommand && proxyCommand !== 'none')
    throw new Error(`the ssh config sets ProxyCommand ${proxyCommand}, which pyrelo does not support (ProxyJump is)`);
  const hostname = single.get('hostname');
  const port = Number(single.get('port') ?? '22');
  if (!hostname) throw new Error(`ssh -G printed no hostname:\n${output}`);
  const proxyJump = single.get('proxyjump');
  const hostKeyAlias = single.get('hostkeyalias');
  const timeout = single.get('connecttimeout');
  return {
    hostname,
    port,
    user: single.get('user') ?? userInfo().username,
    identityFiles,
    userKnownHostsFiles,
    globalKnownHostsFiles,
    ...(proxyJump && proxyJump !== 'none' ? { proxyJump } : {}),
    ...(hostKeyAlias && hostKeyAlias !== 'none' ? { hostKeyAlias } : {}),
    ...(timeout && /^\d+$/.test(timeout) ? { connectTimeoutMs: Number(timeout) * 1000 } : {}),
  };
}

/** OpenSSH's defaults, for a machine without the ssh client. */
function defaults(parsed: ParsedSpec, options: ResolveOptions): EffectiveConfig {
  return {
    hostname: parsed.host,
    port: parsed.port ?? 22,
    user: parsed.user ?? userInfo().username,
    identityFiles: [
      ...(options.identityFile ? [options.identityFile] : []),
      '~/.ssh/id_ed25519',
      '~/.ssh/id_ecdsa',
      '~/.ssh/id_rsa',
    ],
    userKnownHostsFiles: ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'],
    globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    ...(options.jump ? { proxyJump: options.jump } : {}),
  };
}

/** Expands ~ and the % tokens OpenSSH allows in IdentityFile and known_hosts paths. */
function expandPath(path: string, host: string, remoteUser: string): string {
  const home = homedir();
  const tokens: Record<string, string> = { '%': '%', d: home, u: userInfo().username, h: host, r: remoteUser };
  const expanded = path.replace(/%([%duhr])/g, (_, token: string) => tokens[token] ?? `%${token}`);
  if (expanded === '~') return home;
  return expanded.startsWith('~/') ? join(home, expanded.slice(2)) : expanded;
}
