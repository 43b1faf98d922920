// Server settings from, in order of precedence: command-line flags, environment variables
// (PYRELO_*), a JSON config file (--config, $PYRELO_CONFIG, or DATA/server.json), defaults.

import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ServerSettings {
  /** The database, the bundle store, the CA and the control socket live here. */
  readonly dataDir: string;
  /** host:port agents connect to (mutual TLS). */
  readonly listen: string;
  /** host:port agents enroll on (server-only TLS, one-time token). */
  readonly enrollListen: string;
  /** Address of the control service the CLI uses: unix:PATH (permissions decide who administers). */
  readonly control: string;
  readonly logLevel: string;
  /** Agents are told nothing about this; the server drops a silent agent after 3 of these. */
  readonly heartbeatSeconds: number;
  readonly maxMessageBytes: number;
  /** Worker threads that run predictions (the loader check) off the event loop; at most the cores. */
  readonly predictionWorkers: number;
}

export class SettingsError extends Error {
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'SettingsError';
  }
}

/** The user's data folder: systemd's StateDirectory when run as a unit, else XDG's. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0]!;
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'pyrelo', 'server');
}

type Partial_ = { -readonly [K in keyof ServerSettings]?: ServerSettings[K] };

const KEYS: Readonly<Record<keyof ServerSettings, { env: string; kind: 'string' | 'number' }>> = {
  dataDir: { env: 'PYRELO_DATA', kind: 'string' },
  listen: { env: 'PYRELO_LISTEN', kind: 'string' },
  enrollListen: { env: 'PYRELO_ENROLL_LISTEN', kind: 'string' },
  control: { env: 'PYRELO_CONTROL', kind: 'string' },
  logLevel: { env: 'PYRELO_LOG_LEVEL', kind: 'string' },
  heartbeatSeconds: { env: 'PYRELO_HEARTBEAT_SECONDS', kind: 'number' },
  maxMessageBytes: { env: 'PYRELO_MAX_MESSAGE_BYTES', kind: 'number' },
  predictionWorkers: { env: 'PYRELO_PREDICTION_WORKERS', kind: 'number' },
};

function coerce(source: string, key: keyof ServerSettings, value: unknown): string | number {
  if (KEYS[key].kind === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new SettingsError(source, `${key}: expected a positive number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (typeof value !== 'string' || value === '') throw new SettingsError(source, `${key}: expected a non-empty string`);
  return value;
}

function fromEnv(env: NodeJS.ProcessEnv): Partial_ {
  const out: Record<string, unknown> = {};
  for (const [key, { env: name }] of Object.entries(KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = coerce(`environment ${name}`, key as keyof ServerSettings, value);
  }
  return out as Partial_;
}

function fromFile(file: string): Partial_ {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SettingsError(file, (error as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SettingsError(file, 'expected a JSON object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in KEYS)) throw new SettingsError(file, `unknown setting ${JSON.stringify(key)} (known: ${Object.keys(KEYS).join(', ')})`);
    out[key] = coerce(file, key as keyof ServerSettings, value);
  }
  return out as Partial_;
}

export function resolveSettings(flags: Partial_ & { config?: string }, env: NodeJS.ProcessEnv = process.env): ServerSettings {
  const { config, ...flagValues } = flags;
  const defined = Object.fromEntries(Object.entries(flagValues).filter(([, v]) => v !== undefined)) as Partial_;
  const fromEnvironment = fromEnv(env);
  const dataDirEarly = resolve(defined.dataDir ?? fromEnvironment.dataDir ?? defaultDataDir(env));
  const configFile = config ?? env.PYRELO_CONFIG ?? join(dataDirEarly, 'server.json');
  if (config !== undefined && !existsSync(config)) throw new SettingsError(config, 'config file not found');
  const file = existsSync(configFile) ? fromFile(configFile) : {};
  const merged = { ...file, ...fromEnvironment, ...defined };
  const dataDir = resolve(merged.dataDir ?? dataDirEarly);
  return {
    dataDir,
    listen: merged.listen ?? '0.0.0.0:7443',
    enrollListen: merged.enrollListen ?? '0.0.0.0:7444',
    control: merged.control ?? `unix:${join(dataDir, 'control.sock')}`,
    logLevel: merged.logLevel ?? 'info',
    heartbeatSeconds: merged.heartbeatSeconds ?? 15,
    maxMessageBytes: merged.maxMessageBytes ?? 64 * 1024 * 1024,
    // Default 1 on one or two cores (the event loop keeps one), else 2; never more than the cores.
    predictionWorkers: Math.max(1, Math.min(Math.floor(merged.predictionWorkers ?? Math.min(2, availableParallelism() - 1)), availableParallelism())),
  };
}
