// Server settings from, in order of precedence: command-line flags, environment variables
// (PYRELO_*), a JSON config file (--config, $PYRELO_CONFIG, or DATA/server.json), defaults.

import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserInputError } from '../common/user-input-error.js';

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
  /**
   * Largest message the control listener takes; the agents' listener takes inventory.maxBytes +
   * AGENT_MESSAGE_MARGIN.
   */
  readonly maxMessageBytes: number;
  /** Worker threads that run predictions (the loader check) off the event loop; at most the cores. */
  readonly predictionWorkers: number;
  /** Limits on an inventory an agent sends or `hosts import` brings (README "Limits on what agents send"). */
  readonly inventory: InventoryLimits;
  /** Inventory versions kept per host; older ones, and bodies nothing names any more, are deleted. */
  readonly inventoriesPerHost: number;
  /**
   * Limits on the agents' calls: streams per certificate, hello and message deadlines (README
   * "Limits on agents' streams").
   */
  readonly streams: StreamLimits;
  /**
   * host:port of the read-only web dashboard (README "Dashboard"), or "off". It listens only once a
   * token exists (pyrelo server dashboard-token) or dashboardClientCa is set, and off loopback only
   * over TLS.
   */
  readonly dashboardListen: string;
  /** PEM certificate chain and key of the dashboard's HTTPS; both or neither. */
  readonly dashboardCert: string | null;
  readonly dashboardKey: string | null;
  /** PEM CA: a client certificate it issued opens the dashboard without the token (HTTPS only). */
  readonly dashboardClientCa: string | null;
}

/** The dashboard's address unless the setting dashboardListen says otherwise. */
export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:7480';

/**
 * The agents' listener takes messages of at most inventory.maxBytes plus this: a hello is its
 * inventory and a few short fields, and the other messages (reports, heartbeats) are far smaller.
 * grpc-js refuses a larger declared length (RESOURCE_EXHAUSTED) before reading any of it.
 */
export const AGENT_MESSAGE_MARGIN = 1024 * 1024;

/** The enrollment listener's messages: a token and a public key. */
export const ENROLL_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * What an inventory may cost before it is refused. It is gunzipped and parsed in a worker thread
 * whose heap is capped, so a hostile one can neither block the event loop nor exhaust memory.
 * Defaults are about ten times a full Debian host's inventory (4.5 MB gzipped, 22 MB of JSON,
 * 1.7 million values, depth 7).
 */
export interface InventoryLimits {
  /** Bytes as received (gzipped or not). */
  readonly maxBytes: number;
  /** Bytes of JSON once gunzipped; decompression stops there. */
  readonly maxJsonBytes: number;
  /** Nesting of arrays and objects. */
  readonly maxDepth: number;
  /** JSON values (every array, object and item in them), counted before parsing. */
  readonly maxElements: number;
  /** Heap of the worker that parses one inventory, in MiB. */
  readonly parseMemoryMb: number;
  /** A parse that takes longer is stopped and the inventory refused. */
  readonly parseSeconds: number;
}

export const DEFAULT_INVENTORY_LIMITS: InventoryLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxJsonBytes: 256 * 1024 * 1024,
  maxDepth: 64,
  maxElements: 16_000_000,
  parseMemoryMb: 1024,
  parseSeconds: 120,
};

/** Limits on the agents' calls, enforced by the stream guard (stream-guard.ts) before the hub reads them. */
export interface StreamLimits {
  /** Calls (Connect streams and bundle transfers) open at once per client certificate's host. */
  readonly streamsPerCertificate: number;
  /** A call's first message (the hello) must have arrived whole within this many seconds. */
  readonly helloSeconds: number;
  /** Every later message must arrive whole within this many seconds of the one before. */
  readonly messageSeconds: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  // An agent's Connect, a bundle transfer, and a reconnection while the old stream is not yet seen dead.
  streamsPerCertificate: 4,
  helloSeconds: 30,
  // Longer than agents' heartbeat (15 s) and than inventoryParseSeconds (120 s), during which an
  // agent whose first hello carries its inventory waits for the welcome and sends nothing.
  messageSeconds: 180,
};

/** Inventory versions kept per host unless the setting inventoriesPerHost says otherwise. */
export const DEFAULT_INVENTORIES_PER_HOST = 5;

export class SettingsError extends UserInputError {
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(source, detail);
    this.name = 'SettingsError';
  }
}

/** The user's data folder: systemd's StateDirectory when run as a unit, else XDG's. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0]!;
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'pyrelo', 'server');
}

type Flat = Omit<ServerSettings, 'inventory' | 'streams'> &
  StreamLimits & {
    readonly inventoryMaxBytes: number;
    readonly inventoryMaxJsonBytes: number;
    readonly inventoryMaxDepth: number;
    readonly inventoryMaxElements: number;
    readonly inventoryParseMemoryMb: number;
    readonly inventoryParseSeconds: number;
  };
type Partial_ = { -readonly [K in keyof Flat]?: Flat[K] };

const KEYS: Readonly<Record<keyof Flat, { env: string; kind: 'string' | 'number' }>> = {
  dataDir: { env: 'PYRELO_DATA', kind: 'string' },
  listen: { env: 'PYRELO_LISTEN', kind: 'string' },
  enrollListen: { env: 'PYRELO_ENROLL_LISTEN', kind: 'string' },
  control: { env: 'PYRELO_CONTROL', kind: 'string' },
  logLevel: { env: 'PYRELO_LOG_LEVEL', kind: 'string' },
  heartbeatSeconds: { env: 'PYRELO_HEARTBEAT_SECONDS', kind: 'number' },
  maxMessageBytes: { env: 'PYRELO_MAX_MESSAGE_BYTES', kind: 'number' },
  predictionWorkers: { env: 'PYRELO_PREDICTION_WORKERS', kind: 'number' },
  inventoryMaxBytes: { env: 'PYRELO_INVENTORY_MAX_BYTES', kind: 'number' },
  inventoryMaxJsonBytes: { env: 'PYRELO_INVENTORY_MAX_JSON_BYTES', kind: 'number' },
  inventoryMaxDepth: { env: 'PYRELO_INVENTORY_MAX_DEPTH', kind: 'number' },
  inventoryMaxElements: { env: 'PYRELO_INVENTORY_MAX_ELEMENTS', kind: 'number' },
  inventoryParseMemoryMb: { env: 'PYRELO_INVENTORY_PARSE_MEMORY_MB', kind: 'number' },
  inventoryParseSeconds: { env: 'PYRELO_INVENTORY_PARSE_SECONDS', kind: 'number' },
  inventoriesPerHost: { env: 'PYRELO_INVENTORIES_PER_HOST', kind: 'number' },
  streamsPerCertificate: { env: 'PYRELO_STREAMS_PER_CERTIFICATE', kind: 'number' },
  helloSeconds: { env: 'PYRELO_HELLO_SECONDS', kind: 'number' },
  messageSeconds: { env: 'PYRELO_MESSAGE_SECONDS', kind: 'number' },
  dashboardListen: { env: 'PYRELO_DASHBOARD_LISTEN', kind: 'string' },
  dashboardCert: { env: 'PYRELO_DASHBOARD_CERT', kind: 'string' },
  dashboardKey: { env: 'PYRELO_DASHBOARD_KEY', kind: 'string' },
  dashboardClientCa: { env: 'PYRELO_DASHBOARD_CLIENT_CA', kind: 'string' },
};

function coerce(source: string, key: keyof Flat, value: unknown): string | number {
  if (KEYS[key].kind === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new SettingsError(source, `${key}: expected a positive number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (typeof value !== 'string' || value === '') throw new SettingsError(source, `${key}: expected a non-empty string`);
  return value;
}

function fromEnv(env: NodeJS.ProcessEnv): Partial_ {
  const out: Record<string, unknown> = {};
  for (const [key, { env: name }] of Object.entries(KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = coerce(`environment ${name}`, key as keyof Flat, value);
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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SettingsError(file, 'expected a JSON object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in KEYS))
      throw new SettingsError(file, `unknown setting ${JSON.stringify(key)} (known: ${Object.keys(KEYS).join(', ')})`);
    out[key] = coerce(file, key as keyof Flat, value);
  }
  return out as Partial_;
}

export function resolveSettings(
  flags: Partial_ & { config?: string },
  env: NodeJS.ProcessEnv = process.env,
): ServerSettings {
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
    predictionWorkers: Math.max(
      1,
      Math.min(Math.floor(merged.predictionWorkers ?? Math.min(2, availableParallelism() - 1)), availableParallelism()),
    ),
    inventory: {
      maxBytes: merged.inventoryMaxBytes ?? DEFAULT_INVENTORY_LIMITS.maxBytes,
      maxJsonBytes: merged.inventoryMaxJsonBytes ?? DEFAULT_INVENTORY_LIMITS.maxJsonBytes,
      maxDepth: merged.inventoryMaxDepth ?? DEFAULT_INVENTORY_LIMITS.maxDepth,
      maxElements: merged.inventoryMaxElements ?? DEFAULT_INVENTORY_LIMITS.maxElements,
      parseMemoryMb: merged.inventoryParseMemoryMb ?? DEFAULT_INVENTORY_LIMITS.parseMemoryMb,
      parseSeconds: merged.inventoryParseSeconds ?? DEFAULT_INVENTORY_LIMITS.parseSeconds,
    },
    inventoriesPerHost: Math.max(1, Math.floor(merged.inventoriesPerHost ?? DEFAULT_INVENTORIES_PER_HOST)),
    streams: {
      streamsPerCertificate: Math.max(
        1,
        Math.floor(merged.streamsPerCertificate ?? DEFAULT_STREAM_LIMITS.streamsPerCertificate),
      ),
      helloSeconds: merged.helloSeconds ?? DEFAULT_STREAM_LIMITS.helloSeconds,
      messageSeconds: merged.messageSeconds ?? DEFAULT_STREAM_LIMITS.messageSeconds,
    },
    dashboardListen: merged.dashboardListen ?? DEFAULT_DASHBOARD_LISTEN,
    dashboardCert: merged.dashboardCert ?? null,
    dashboardKey: merged.dashboardKey ?? null,
    dashboardClientCa: merged.dashboardClientCa ?? null,
  };
}
