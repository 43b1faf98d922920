// `pyrelo server`: three gRPC listeners over one database and bundle store.
//   - agents (mutual TLS, --listen): the agent hub;
//   - enrollment (server-only TLS, --enroll-listen): token + public key -> client certificate;
//   - control (a unix socket in the data folder, born 0600): the CLI;
// and the read-only web dashboard over HTTP(S) (--dashboard-listen, src/server/dashboard/).
// Stopping (SIGTERM, SIGINT) stops accepting, lets calls in progress finish for a moment, ends
// the agents' streams (they reconnect to the next server), terminates the prediction workers, and
// closes the database.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { pyreloV1 } from '../proto/load.js';
import type { CompatDatabase } from './db/database.js';
import { BundleStore } from './bundle-store.js';
import { BundleBuilds } from './bundle-builds.js';
import { Predictor } from './predictor.js';
import { AgentHub } from './agent-hub.js';
import { ControlService } from './control-service.js';
import { enrollmentHandlers } from './enrollment.js';
import { loadPki } from './pki.js';
import { AGENT_MESSAGE_MARGIN, ENROLL_MAX_MESSAGE_BYTES, type ServerSettings } from './settings.js';
import { StreamGuard } from './stream-guard.js';
import { InventoryIntake } from './inventory-intake.js';
import { reclaimOrphans } from './db/inventory-store.js';
import { EventLoopWatch } from './event-loop-watch.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WriterThread } from './writer-thread.js';
import { WriteTurns } from './write-turns.js';
import { openCheckedDatabase, prepareDataFolder, ServerStartError } from './start-checks.js';
import { checkDashboardSettings, startDashboard, type RunningDashboard } from './dashboard/listener.js';

export interface RunningServer {
  readonly db: CompatDatabase;
  readonly hub: AgentHub;
  readonly predictor: Predictor;
  /** host:port actually bound (port 0 picks a free one). */
  readonly agentAddress: string;
  readonly enrollAddress: string;
  readonly controlAddress: string;
  /** The dashboard's URL (http or https), or null when it is off (README "Dashboard"). */
  readonly dashboardUrl: string | null;
  stop(graceMs?: number): Promise<void>;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'compat.sqlite');
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) =>
      error ? reject(new ServerStartError(`cannot listen on ${address}`, error.message)) : resolve(port),
    );
  });
}

/**
 * Binds the control service; a unix socket is born 0600 (umask 0177 while it is made), so no other
 * user can connect to it at any moment, even in a folder they can enter: chmod after bind left a
 * moment when the socket had the umask's mode (0777 under umask 0). The umask is the process's, so
 * it is put back as soon as the bind returns (the data folder, database and store are made before).
 */
async function bindPrivately(server: grpc.Server, address: string, unixSocket: boolean): Promise<number> {
  const previous = unixSocket ? process.umask(0o177) : null;
  try {
    return await bind(server, address, grpc.ServerCredentials.createInsecure());
  } finally {
    if (previous !== null) process.umask(previous);
  }
}

function withPort(address: string, port: number): string {
  if (address.startsWith('unix:')) return address;
  return address.replace(/:\d+$/, `:${port}`);
}

export async function startServer(settings: ServerSettings, log: Logger): Promise<RunningServer> {
  const dashboardSettings = {
    listen: settings.dashboardListen,
    cert: settings.dashboardCert,
    key: settings.dashboardKey,
    clientCa: settings.dashboardClientCa,
  };
  checkDashboardSettings(dashboardSettings); // a dashboard to refuse stops the server before anything listens
  prepareDataFolder(settings.dataDir);
  const pki = loadPki(settings.dataDir);
  const db = openCheckedDatabase(databasePath(settings.dataDir), settings.inventoriesPerHost);
  // What a crash left between an inventory's short transactions, while no inventory is being taken
  // (the intake's worker starts with the first one, after the listeners): src/server/db/inventory-store.ts.
  const reclaimed = reclaimOrphans(db.db, { unnamedInventories: true });
  if (reclaimed.inventories + reclaimed.objects + reclaimed.bodyParts > 0)
    log.info(reclaimed, 'reclaimed what an interrupted inventory intake left');
  // Checkpoints move to a thread of their own: the event loop's commits stay small (wal-checkpointer.ts).
  const checkpointer = new WalCheckpointer(databasePath(settings.dataDir), (why) => {
    log.warn({ err: why }, 'WAL checkpoint thread lost: checkpoints go back to the server connection');
    if (db.db.open) db.db.pragma('wal_autocheckpoint = 1000');
  });
  db.db.pragma('wal_autocheckpoint = 0');
  // The writes agents cause run on a thread of their own, the intake's in turns with them: the
  // event loop never waits for the write lock (writer-thread.ts, write-turns.ts).
  const turns = new WriteTurns();
  const writer = new WriterThread(db, turns, settings.inventoriesPerHost, (why) => {
    log.warn({ err: why }, "database writer thread lost: agents' writes go back to the server connection");
  });
  const store = new BundleStore(join(settings.dataDir, 'bundles'));
  const predictor = new Predictor(db, store, log.child({ part: 'predictor' }), settings.predictionWorkers, writer);
  // One intake for both doors (agents, hosts import): one inventory parsed at a time.
  const intake = new InventoryIntake(databasePath(settings.dataDir), settings.inventory, turns);
  const hub = new AgentHub(db, store, predictor, log.child({ part: 'hub' }), intake, writer);
  const builds = new BundleBuilds(store, log.child({ part: 'builds' }));
  const eventLoop = new EventLoopWatch(log.child({ part: 'event-loop' }));
  const control = new ControlService(
    db,
    store,
    predictor,
    hub,
    log.child({ part: 'control' }),
    16 * 1024 * 1024 * 1024,
    builds,
    intake,
    eventLoop,
  );
  const proto = pyreloV1();
  const limits = {
    'grpc.max_receive_message_length': settings.maxMessageBytes,
    'grpc.max_send_message_length': settings.maxMessageBytes,
    // Find agents whose connection died without a FIN (NAT timeouts, pulled cables).
    'grpc.keepalive_time_ms': settings.heartbeatSeconds * 2000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  };
  // What one agent may hold in the server's memory: a message in progress is kept by grpc-js until
  // it is whole, so each is bounded by the receive limit (the inventory limit plus a margin, not
  // grpc's default), their number by streamsPerCertificate, and their time by the deadlines of
  // the stream guard (README "Limits on agents' streams").
  const guard = new StreamGuard(settings.streams, log.child({ part: 'streams' }));
  const agentServer = new grpc.Server({
    ...limits,
    'grpc.max_receive_message_length': settings.inventory.maxBytes + AGENT_MESSAGE_MARGIN,
    interceptors: [guard.interceptor()],
  });
  agentServer.addService(proto.AgentHub.service, hub.handlers());
  const enrollServer = new grpc.Server({ ...limits, 'grpc.max_receive_message_length': ENROLL_MAX_MESSAGE_BYTES });
  enrollServer.addService(proto.Enrollment.service, enrollmentHandlers(db, pki, log.child({ part: 'enroll' })));
  const controlServer = new grpc.Server(limits);
  controlServer.addService(proto.Control.service, control.handlers());

  const keyPair = [{ private_key: pki.serverKey, cert_chain: pki.serverCert }];
  const servers = [agentServer, enrollServer, controlServer];
  let dashboard: RunningDashboard | null = null;
  try {
    const agentPort = await bind(
      agentServer,
      settings.listen,
      grpc.ServerCredentials.createSsl(pki.caCert, keyPair, true),
    );
    const enrollPort = await bind(
      enrollServer,
      settings.enrollListen,
      grpc.ServerCredentials.createSsl(null, keyPair, false),
    );
    const socket = settings.control.startsWith('unix:') ? settings.control.slice('unix:'.length) : null;
    if (socket !== null && existsSync(socket)) rmSync(socket); // left by a server that was killed
    const controlPort = await bindPrivately(controlServer, settings.control, socket !== null);
    dashboard = await startDashboard({
      ...dashboardSettings,
      dataDir: settings.dataDir,
      db,
      bundleTree: (digest) => store.treePath(digest),
      references: control.references,
      isConnected: hub.isConnected,
      log: log.child({ part: 'dashboard' }),
    });
    const openDashboard = dashboard;
    const running: RunningServer = {
      db,
      hub,
      predictor,
      agentAddress: withPort(settings.listen, agentPort),
      enrollAddress: withPort(settings.enrollListen, enrollPort),
      controlAddress: withPort(settings.control, controlPort),
      dashboardUrl: openDashboard?.url ?? null,
      stop: async (graceMs = 5_000) => {
        await openDashboard?.close();
        await Promise.all(
          servers.map(
            (server) =>
              new Promise<void>((resolve) => {
                const timer = setTimeout(() => {
                  server.forceShutdown();
                  resolve();
                }, graceMs);
                server.tryShutdown(() => {
                  clearTimeout(timer);
                  resolve();
                });
                // Agents' streams never end on their own: end them now rather than after the grace.
                if (server === agentServer) setImmediate(() => server.forceShutdown());
              }),
          ),
        );
        await predictor.close(); // terminates the prediction workers
        await control.close();
        intake.close();
        await writer.stop();
        await checkpointer.stop();
        eventLoop.stop();
        db.close();
        if (socket !== null) rmSync(socket, { force: true });
        log.info('server stopped');
      },
    };
    log.info(
      {
        agents: running.agentAddress,
        enroll: running.enrollAddress,
        control: running.controlAddress,
        dashboard: running.dashboardUrl,
        data: settings.dataDir,
        schema: db.schemaVersion,
      },
      'server listening',
    );
    return running;
  } catch (error) {
    await dashboard?.close();
    for (const server of servers) server.forceShutdown();
    eventLoop.stop();
    intake.close();
    await predictor.close();
    await control.close();
    await writer.stop();
    await checkpointer.stop();
    db.close();
    throw error;
  }
}
