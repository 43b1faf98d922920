// Where an agent keeps its identity (key, certificate, CA), its bundles and the reports the server
// has not acknowledged yet. The key is created here and never leaves this folder.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserInputError } from '../common/user-input-error.js';

export function defaultAgentDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PYRELO_AGENT_DIR) return env.PYRELO_AGENT_DIR;
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0]!;
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'pyrelo', 'agent');
}

export class AgentStateError extends UserInputError {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(what, detail);
    this.name = 'AgentStateError';
  }
}

export interface AgentIdentity {
  readonly host: string;
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca: Buffer;
}

export class AgentState {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  get keyFile(): string {
    return join(this.dir, 'agent.key');
  }
  get certFile(): string {
    return join(this.dir, 'agent.crt');
  }
  get caFile(): string {
    return join(this.dir, 'ca.crt');
  }
  get hostFile(): string {
    return join(this.dir, 'host');
  }

  sub(name: 'incoming' | 'archives' | 'bundles' | 'outbox'): string {
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  enrolled(): boolean {
    return (
      existsSync(this.certFile) && existsSync(this.keyFile) && existsSync(this.caFile) && existsSync(this.hostFile)
    );
  }

  identity(): AgentIdentity {
    if (!this.enrolled())
      throw new AgentStateError(
        this.dir,
        'this agent is not enrolled (pyrelo agent enroll --server HOST:PORT --token-file FILE --ca CA.crt)',
      );
    return {
      host: readFileSync(this.hostFile, 'utf8').trim(),
      key: readFileSync(this.keyFile),
      cert: readFileSync(this.certFile),
      ca: readFileSync(this.caFile),
    };
  }
}
