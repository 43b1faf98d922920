// The dashboard's listener (README "Dashboard"): read-only pages on an address of their own (HTTP
// on loopback, HTTPS elsewhere), each request let in by the token (a bearer header, or the cookie a
// `?token=` login link sets) or by a client certificate of the configured CA, never anonymously.
// Node's own http/https: a few server-rendered pages need no framework.

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { CompatDatabase } from '../db/database.js';
import { hostChecks, hostSummary, matrix, verifiedRuns } from '../db/dashboard-queries.js';
import type { ReferencePredictions } from '../reference-predictions.js';
import { compatOf } from '../compat-query.js';
import { ServerStartError } from '../start-checks.js';
import { bundlePage, type ReferenceState } from './bundle-page.js';
import { html } from './escape.js';
import { hostPage } from './host-page.js';
import { fleetPage } from './fleet-page.js';
import { DEFAULT_STALE_AFTER_DAYS, fleetOf } from '../fleet-query.js';
import { STYLESHEET, page } from './layout.js';
import { matrixPage } from './matrix-page.js';
import { DashboardTokens } from './token.js';

export const COOKIE = 'pyrelo_dashboard';
/** How long a bundle page waits for its reference rows before saying they are being made. */
const REFERENCE_WAIT_MS = 3_000;

export interface DashboardOptions {
  /** host:port, or "off". */
  readonly listen: string;
  /** PEM files: HTTPS when both are given (required off loopback). */
  readonly cert: string | null;
  readonly key: string | null;
  /** PEM file: a client certificate this CA issued opens the dashboard (HTTPS only). */
  readonly clientCa: string | null;
  readonly dataDir: string;
  readonly db: CompatDatabase;
  /** Where the store unpacked bundle `digest` (for the reference rows). */
  readonly bundleTree: (digest: string) => string;
  readonly references: ReferencePredictions;
  readonly isConnected: (host: string) => boolean;
  readonly log: Logger;
}

export interface RunningDashboard {
  /** host:port actually bound; its scheme is http or https. */
  readonly address: string;
  readonly url: string;
  close(): Promise<void>;
}

function splitAddress(address: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(address);
  if (match === null || Number(match[2]) > 65535)
    throw new ServerStartError(`dashboard address ${JSON.stringify(address)}`, 'expected HOST:PORT or off');
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

const SECURITY_HEADERS = {
  // No script at all, styles only from /style.css: a string that escaped escaping still runs nothing.
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return null;
}

function bearerToken(req: IncomingMessage): string | null {
  return /^Bearer ([!-~]+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

class Dashboard {
  private readonly tokens: DashboardTokens;

  constructor(
    private readonly o: DashboardOptions,
    private readonly tls: boolean,
  ) {
    this.tokens = new DashboardTokens(o.dataDir);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, page('method not allowed', []), { allow: 'GET, HEAD' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (url.pathname === '/style.css') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/css; charset=utf-8' });
      res.end(STYLESHEET);
      return;
    }
    const login = url.searchParams.get('token');
    if (login !== null) {
      if (!this.tokens.matches(login)) return this.refuse(res, 'that login link is not (or no longer) valid');
      // The token leaves the address bar and history at once: the cookie carries it from now on.
      url.searchParams.delete('token');
      const cookie = `${COOKIE}=${login}; Path=/; HttpOnly; SameSite=Lax${this.tls ? '; Secure' : ''}`;
      // One leading slash: "/.//host" parses to the path "//host", which a browser reads as another site.
      const location = `/${url.pathname.replace(/^\/+/, '')}${url.search}`;
      send(res, 303, '', { location, 'set-cookie': cookie });
      return;
    }
    if (!this.allowed(req)) return this.refuse(res, 'log in with the link `pyrelo server dashboard-token` prints');
    await this.route(url.pathname, res);
  }

  private allowed(req: IncomingMessage): boolean {
    if (this.o.clientCa !== null && (req.socket as TLSSocket).authorized === true) return true;
    const bearer = bearerToken(req);
    if (bearer !== null) return this.tokens.matches(bearer);
    const cookie = cookieToken(req);
    return cookie !== null && this.tokens.matches(cookie);
  }

  private refuse(res: ServerResponse, why: string): void {
    send(
      res,
      401,
      page(
        'log in',
        html`<h1>Log in</h1>
          <p>${why}.</p>`,
      ),
      {
        'www-authenticate': 'Bearer realm="pyrelo dashboard"',
      },
    );
  }

  private async route(path: string, res: ServerResponse): Promise<void> {
    const { db, log } = this.o;
    if (path === '/') {
      const started = performance.now();
      const m = matrix(db.db);
      const body = matrixPage(
        m,
        m.bundles.map((b) => this.o.references.madeFor(b.digest)),
      );
      log.debug(
        { hosts: m.hosts.length, bundles: m.bundles.length, ms: Math.round(performance.now() - started) },
        'matrix',
      );
      return send(res, 200, body);
    }
    if (path === '/fleet') return send(res, 200, fleetPage(fleetOf(db.fleetFacts(), DEFAULT_STALE_AFTER_DAYS)));
    const host = /^\/hosts\/([^/]{1,760})$/.exec(path);
    if (host !== null) {
      let name: string;
      try {
        name = decodeURIComponent(host[1]!);
      } catch {
        return this.notFound(res, 'not a host name');
      }
      const summary = hostSummary(db.db, name);
      if (summary === null) return this.notFound(res, `no host named ${name}`);
      return send(res, 200, hostPage(summary, this.o.isConnected(name), hostChecks(db.db, name), db.deployments(name)));
    }
    const bundle = /^\/bundles\/([0-9a-f]{64})$/.exec(path);
    if (bundle !== null) {
      const stored = db.bundleByDigest(bundle[1]!);
      if (stored === null) return this.notFound(res, `no bundle ${bundle[1]}`);
      const compat = compatOf(db, stored, this.o.isConnected);
      const runs = verifiedRuns(db.db, stored.id);
      const references = await this.referencesOf(stored.digest);
      return send(res, 200, bundlePage(stored, compat.hosts, compat.distros, runs, references));
    }
    return this.notFound(res, 'no such page');
  }

  private async referencesOf(digest: string): Promise<ReferenceState> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<ReferenceState>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'pending' }), REFERENCE_WAIT_MS);
    });
    try {
      return await Promise.race([
        this.o.references
          .forBundle(digest, this.o.bundleTree(digest))
          .then((platforms): ReferenceState => ({ state: 'made', platforms })),
        waited,
      ]);
    } catch (error) {
      return { state: 'failed', why: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  private notFound(res: ServerResponse, why: string): void {
    send(
      res,
      404,
      page(
        'not found',
        html`<h1>Not found</h1>
          <p>${why}.</p>`,
      ),
    );
  }
}

/** The dashboard's settings as given to the server (src/server/settings.ts). */
export type DashboardSettings = Pick<DashboardOptions, 'listen' | 'cert' | 'key' | 'clientCa'>;

/**
 * Checks the dashboard's address and TLS settings; the server calls it before any listener is bound,
 * so that a dashboard it must refuse stops it before anything listens. Returns where to listen and
 * whether over TLS, or null when the dashboard is off.
 */
export function checkDashboardSettings(o: DashboardSettings): { host: string; port: number; tls: boolean } | null {
  if (o.listen === 'off') return null;
  const { host, port } = splitAddress(o.listen);
  const tls = o.cert !== null && o.key !== null;
  if ((o.cert === null) !== (o.key === null))
    throw new ServerStartError('dashboard TLS', 'dashboardCert and dashboardKey go together: set both or neither');
  if (!tls && !isLoopback(host))
    throw new ServerStartError(
      `dashboard address ${o.listen}`,
      'not a loopback address: the dashboard is served there only over TLS (set dashboardCert and dashboardKey)',
    );
  if (o.clientCa !== null && !tls)
    throw new ServerStartError(
      'dashboardClientCa',
      'client certificates need TLS (set dashboardCert and dashboardKey)',
    );
  return { host, port, tls };
}

/**
 * Starts the dashboard, or returns null when it is off: `listen` is "off", or nothing could open it
 * (no token made and no client CA), which is logged. Refuses a non-loopback address without TLS.
 */
export async function startDashboard(o: DashboardOptions): Promise<RunningDashboard | null> {
  const where = checkDashboardSettings(o);
  if (where === null) return null;
  const { host, port, tls } = where;
  if (o.clientCa === null && !new DashboardTokens(o.dataDir).exists()) {
    o.log.info('dashboard off: no token yet (pyrelo server dashboard-token, then restart the server)');
    return null;
  }
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ServerStartError(`${what} ${file}`, (error as Error).message.split('\n')[0]!);
    }
  };
  const dashboard = new Dashboard(o, tls);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    dashboard.handle(req, res).catch((error: Error) => {
      o.log.error({ err: error }, 'dashboard page failed');
      if (!res.headersSent)
        send(
          res,
          500,
          page(
            'error',
            html`<h1>The page failed</h1>
              <p>See the server log.</p>`,
          ),
        );
      else res.destroy();
    });
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          cert: read('dashboardCert', o.cert!),
          key: read('dashboardKey', o.key!),
          ...(o.clientCa !== null && {
            ca: read('dashboardClientCa', o.clientCa),
            requestCert: true,
            rejectUnauthorized: false,
          }),
        },
        handler,
      )
    : createHttpServer(handler);
  // A slow or idle client holds a socket for at most this long.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ServerStartError(`cannot listen on ${o.listen}`, error.message)));
    server.listen({ host, port }, resolve);
  });
  const bound = (server.address() as { port: number }).port;
  const address = `${host.includes(':') ? `[${host}]` : host}:${bound}`;
  return {
    address,
    url: `${tls ? 'https' : 'http'}://${address}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
