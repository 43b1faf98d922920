// `pyrelo agent …`: the daemon, enrollment, and the one-shot modes the SSH path uses
// (`inventory`, `check`, `install`), each printing JSON with --json.

import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { collectInventory } from '../../inventory/collect.js';
import { AgentState, AgentStateError, defaultAgentDir } from '../state.js';
import { enroll } from '../enroll.js';
import { AgentDaemon } from '../daemon.js';
import { unpackBundle } from '../run-order.js';
import { checkAndSmokeHere } from '../../compat/check-and-smoke.js';
import { checkBundleHere } from '../../compat/check-bundle.js';
import { createLogger } from '../../common/log.js';
import { InputError } from '../../elf/find-elf-files.js';
import type { CheckResult } from '../../proto/messages.js';

export interface AgentCommandOptions {
  readonly dir?: string;
  readonly json?: boolean;
}

function state(o: AgentCommandOptions): AgentState {
  return new AgentState(resolve(o.dir ?? defaultAgentDir()));
}

/**
 * The token from --token-file (a file, or - for stdin) or --token. A file keeps it out of
 * /proc/PID/cmdline, which every local user can read (issue 13 item 10).
 */
function enrollToken(o: { token?: string; tokenFile?: string }): string {
  if (o.tokenFile === undefined && o.token === undefined)
    throw new InputError(
      'agent enroll',
      'give the token with --token-file FILE, or --token-file - to read it from stdin',
    );
  if (o.tokenFile === undefined) return o.token!;
  const what = o.tokenFile === '-' ? '--token-file - (stdin)' : `--token-file ${o.tokenFile}`;
  const text = readFileSync(o.tokenFile === '-' ? 0 : o.tokenFile, 'utf8').trim();
  if (text === '') throw new InputError(what, 'holds no token');
  if (/\s/.test(text) || text.length > 256)
    throw new InputError(what, 'expected one token on one line (as pyrelo hosts token prints it)');
  return text;
}

export async function runAgentEnroll(
  o: AgentCommandOptions & { server: string; token?: string; tokenFile?: string; ca: string },
): Promise<number> {
  const host = await enroll(state(o), o.server, enrollToken(o), readFileSync(o.ca));
  process.stdout.write(`enrolled as host ${host}\n`);
  return 0;
}

export async function runAgentDaemon(
  o: AgentCommandOptions & { server: string; heartbeat: string; logLevel: string },
): Promise<number> {
  const heartbeatSeconds = Number(o.heartbeat);
  if (!(heartbeatSeconds > 0))
    throw new InputError(`--heartbeat ${o.heartbeat}`, 'expected a positive number of seconds');
  const log = createLogger('pyrelo-agent', o.logLevel);
  const daemon = new AgentDaemon(
    state(o),
    { server: o.server, heartbeatSeconds, minBackoffMs: 500, maxBackoffMs: 30_000, inventoryRoot: '/' },
    log,
  );
  daemon.start();
  const revoked = await new Promise<string | null>((done) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      daemon.stop();
      done(null);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    daemon.listeners.add((event, detail) => {
      if (event === 'revoked') done(String(detail));
    });
  });
  if (revoked !== null) throw new AgentStateError(`agent ${o.dir ?? defaultAgentDir()}`, revoked);
  return 0;
}

export function runAgentInventory(o: AgentCommandOptions): number {
  const inventory = collectInventory('/');
  const json = JSON.stringify(inventory);
  if (o.json) process.stdout.write(`${json}\n`);
  else
    process.stdout.write(
      `inventory of ${hostname()}: ${Object.keys(inventory.files).length} library paths, ${json.length} bytes ` +
        'of JSON (--json prints it)\n',
    );
  return 0;
}

/** A bundle given as a folder is checked where it is; an archive is unpacked into the agent's folder first. */
async function bundleDir(o: AgentCommandOptions, bundle: string): Promise<{ dir: string; digest: string }> {
  if (statSync(bundle).isDirectory()) {
    const manifest = readFileSync(resolve(bundle, 'pyrelo.json'));
    return { dir: resolve(bundle), digest: createHash('sha256').update(manifest).digest('hex') };
  }
  const digest = createHash('sha256').update(readFileSync(bundle)).digest('hex');
  return { dir: await unpackBundle(resolve(bundle), state(o).sub('bundles'), digest), digest };
}

function printResult(result: CheckResult, o: AgentCommandOptions): number {
  if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const lines = [
      `${result.runs ? 'runs' : result.loads ? 'loads, but the smoke command failed' : 'will not run'} on ` +
        `${result.host} (${result.filesChecked} ELF files checked)`,
    ];
    for (const p of result.problems.filter((x) => x.severity === 'error')) lines.push(`  error: ${p.message}`);
    if (result.smokeRan)
      lines.push(
        `  smoke: exit ${result.smokeExit}${result.smokeOutput ? `: ${result.smokeOutput.trim().split('\n')[0]}` : ''}`,
      );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return result.runs ? 0 : 1;
}

export async function runAgentCheck(bundle: string, o: AgentCommandOptions): Promise<number> {
  const { dir, digest } = await bundleDir(o, bundle);
  return printResult(checkBundleHere(dir, { digest, host: hostname() }), o);
}

export async function runAgentInstall(bundle: string, o: AgentCommandOptions): Promise<number> {
  const { dir, digest } = await bundleDir(o, bundle);
  return printResult(await checkAndSmokeHere(dir, digest, hostname()), o);
}
