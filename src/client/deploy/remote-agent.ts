// The agent on a deploy target: brought over when missing or outdated, then called in its one-shot
// mode (`pyrelo-agent … --json`) for everything done on the host: the inventory, the release
// install with its check and smoke run, listing releases, rollback.
//
// On the host it lives in ~/.pyrelo/agent/<key>/ (the key names the agent build). The archive is
// uploaded resumably into ~/.pyrelo/agent/incoming/, checked with the host's own sha256sum
// (coreutils or busybox) and unpacked by the host's tar into a temporary folder that is renamed
// into place: a cut connection never leaves a half agent behind a valid name.

import {
  RemoteConnectionError,
  shellQuote,
  type RemoteTransport,
  type UploadProgress,
} from '../../remote/transport.js';
import type { AgentArchive } from './agent-archive.js';
import { UserInputError } from '../../common/user-input-error.js';

export class RemoteAgentError extends UserInputError {
  constructor(
    readonly target: string,
    detail: string,
  ) {
    super(target, detail);
    this.name = 'RemoteAgentError';
  }
}

export interface AgentCall<T> {
  readonly exitCode: number;
  /** The JSON the command printed; null when it printed none (bad input: see stderr). */
  readonly json: T | null;
  readonly stderr: string;
}

export class RemoteAgent {
  constructor(
    readonly transport: RemoteTransport,
    readonly launcher: string,
  ) {}

  /** Runs `pyrelo-agent ARGS --json` on the host. Exit 0 and 1 carry JSON; 2 is bad input. */
  async call<T>(args: readonly string[], onStderr?: (chunk: string) => void): Promise<AgentCall<T>> {
    const script = [this.launcher, ...args, '--json'].map(shellQuote).join(' ');
    const result = await this.transport.exec(script, { onStderr });
    const text = result.stdout.toString().trim();
    let json: T | null = null;
    if (text !== '') {
      try {
        json = JSON.parse(text) as T;
      } catch {
        throw new RemoteAgentError(
          this.transport.description,
          `agent ${args.join(' ')} printed something that is not JSON (exit ${result.exitCode}): ${text.slice(0, 200)}`,
        );
      }
    }
    if (result.exitCode === 255 && json === null)
      throw new RemoteConnectionError(
        this.transport.description,
        `agent ${args[0]} did not finish: ${result.stderr.trim() || 'connection lost'}`,
      );
    return { exitCode: result.exitCode, json, stderr: result.stderr };
  }

  /**
   * Like call, but anything other than exit 0 or 1 with JSON is an error naming the host and the
   * agent's own message.
   */
  async require<T>(
    args: readonly string[],
    onStderr?: (chunk: string) => void,
  ): Promise<{ exitCode: number; json: T }> {
    const result = await this.call<T>(args, onStderr);
    if (result.json === null || result.exitCode > 1) {
      throw new RemoteAgentError(
        this.transport.description,
        `agent ${args.slice(0, 2).join(' ')} failed (exit ${result.exitCode}): ` +
          `${result.stderr.trim().replace(/^pyrelo: /, '') || 'no output'}`,
      );
    }
    return { exitCode: result.exitCode, json: result.json };
  }
}

export interface EnsureAgentResult {
  readonly agent: RemoteAgent;
  /** True when this call brought the agent over. */
  readonly installed: boolean;
  readonly bytesSent: number;
}

async function run(transport: RemoteTransport, script: string, what: string): Promise<string> {
  const result = await transport.exec(script);
  if (result.exitCode !== 0)
    throw new RemoteAgentError(
      transport.description,
      `${what} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.toString().trim()}`,
    );
  return result.stdout.toString();
}

/** Makes sure the agent build `pack` is on the host; brings it over (resumably) when not. */
export async function ensureAgent(
  transport: RemoteTransport,
  pack: AgentArchive,
  onProgress?: (progress: UploadProgress) => void,
): Promise<EnsureAgentResult> {
  const home = (await run(transport, 'cd && pwd', 'finding the home folder')).trim();
  if (!home.startsWith('/'))
    throw new RemoteAgentError(transport.description, `home folder ${JSON.stringify(home)} is not an absolute path`);
  const base = `${home}/.pyrelo/agent`;
  const dir = `${base}/${pack.key}`;
  const launcher = `${dir}/bin/pyrelo-agent`;
  const agent = new RemoteAgent(transport, launcher);
  const present = await transport.exec(
    `test -x ${shellQuote(launcher)} && test -f ${shellQuote(`${dir}/agent-pack.json`)}`,
  );
  if (present.exitCode === 0) return { agent, installed: false, bytesSent: 0 };

  await run(transport, `mkdir -p ${shellQuote(`${base}/incoming`)}`, `creating ${base}/incoming`);
  const incoming = `${base}/incoming/${pack.key}.tar.gz`;
  const upload = await transport.upload(pack.archive, incoming, onProgress);
  const q = {
    incoming: shellQuote(incoming),
    dir: shellQuote(dir),
    tmp: shellQuote(`${dir}.tmp`),
    base: shellQuote(base),
    key: shellQuote(pack.key),
  };
  const sum = (await run(transport, `sha256sum ${q.incoming}`, 'checking the agent archive')).split(/\s+/)[0];
  if (sum !== pack.sha256) {
    await transport.exec(`rm -f ${q.incoming}`);
    throw new RemoteAgentError(
      transport.description,
      `agent archive arrived damaged (sha256 ${sum}, expected ${pack.sha256}); removed, it is sent again on ` +
        'the next deploy',
    );
  }
  // Unpack beside the final name, rename, then drop older agent builds and the archive.
  await run(
    transport,
    [
      `rm -rf ${q.tmp}`,
      `mkdir ${q.tmp}`,
      `gzip -dc ${q.incoming} | tar -xf - -C ${q.tmp}`,
      `mv ${q.tmp} ${q.dir}`,
      `rm -f ${q.incoming}`,
      `for old in ${q.base}/*; do case "\${old##*/}" in ${q.key}|incoming) ;; *) rm -rf "$old" ;; esac; done`,
    ].join(' && '),
    `unpacking the agent into ${dir}`,
  );
  return { agent, installed: true, bytesSent: upload.bytesSent };
}
