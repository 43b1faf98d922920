// `pyrelo server init` and `pyrelo server`: create the CA, then run the server until SIGTERM;
// `pyrelo server dashboard-token`: a new token for the web dashboard (src/server/dashboard/token.ts).

import { createLogger } from '../../common/log.js';
import { initPki } from '../../server/pki.js';
import { resolveSettings } from '../../server/settings.js';
import { startServer } from '../../server/server.js';
import { createDashboardToken } from '../../server/dashboard/token.js';
import { prepareDataFolder } from '../../server/start-checks.js';

export interface ServerCommandOptions {
  readonly data?: string;
  readonly listen?: string;
  readonly enrollListen?: string;
  readonly control?: string;
  readonly config?: string;
  readonly logLevel?: string;
  readonly dashboardListen?: string;
}

function settingsFrom(o: ServerCommandOptions): ReturnType<typeof resolveSettings> {
  return resolveSettings({
    dataDir: o.data,
    listen: o.listen,
    enrollListen: o.enrollListen,
    control: o.control,
    config: o.config,
    logLevel: o.logLevel,
    dashboardListen: o.dashboardListen,
  });
}

export async function runServerInit(o: ServerCommandOptions & { name: string[] }): Promise<number> {
  const settings = settingsFrom(o);
  const pki = await initPki(settings.dataDir, o.name);
  process.stdout.write(
    [
      `created a CA and a server certificate in ${pki.dir}`,
      `agents need ${pki.dir}/ca.crt and an enrollment token (pyrelo hosts token HOST) to enroll`,
      'the web dashboard opens with a token: pyrelo server dashboard-token',
      '',
    ].join('\n'),
  );
  return 0;
}

export async function runServer(o: ServerCommandOptions): Promise<number> {
  const settings = settingsFrom(o);
  const log = createLogger('pyrelo-server', settings.logLevel);
  const server = await startServer(settings, log);
  // Printed on stdout as well, for scripts and tests that started us with port 0.
  process.stdout.write(
    `${JSON.stringify({
      agents: server.agentAddress,
      enroll: server.enrollAddress,
      control: server.controlAddress,
      dashboard: server.dashboardUrl,
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      void server.stop().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

export async function runDashboardToken(o: ServerCommandOptions): Promise<number> {
  const settings = settingsFrom(o);
  prepareDataFolder(settings.dataDir);
  const token = createDashboardToken(settings.dataDir);
  const listen = settings.dashboardListen;
  const scheme = settings.dashboardCert !== null ? 'https' : 'http';
  process.stdout.write(
    [
      `dashboard token (shown once; stored hashed in ${settings.dataDir}/dashboard-token.sha256;` +
        ' the previous one no longer works):',
      `  ${token}`,
      listen === 'off'
        ? 'the dashboard is off (dashboardListen is off)'
        : `log in: ${scheme}://${listen.replace(/^0\.0\.0\.0:/, 'HOST:')}/?token=${token}`,
      'or send the header "Authorization: Bearer TOKEN"; a server started before the first token must be restarted',
      '',
    ].join('\n'),
  );
  return 0;
}
