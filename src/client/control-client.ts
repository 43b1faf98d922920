// The CLI's side of the control service: a typed, promise-based call over the local socket.

import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { pyreloV1, MAX_MESSAGE_BYTES } from '../proto/load.js';
import { defaultDataDir } from '../server/settings.js';

/**
 * grpc-js's UNAVAILABLE details wrap the socket error in "No connection established. Last error:
 * Error: connect ENOENT /x. Resolution note: "; the socket error alone is the reason.
 */
function unavailableReason(details: string): string {
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s.exec(details);
  return (last?.[1] ?? details).trim();
}

/** The control service refused the request (bad input, unknown name) or is not reachable. */
export class ControlError extends Error {
  constructor(readonly code: grpc.status, detail: string) {
    super(detail);
    this.name = 'ControlError';
  }
}

export function defaultControlAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.PYRELO_CONTROL ?? `unix:${join(env.PYRELO_DATA ?? defaultDataDir(env), 'control.sock')}`;
}

export class ControlClient {
  readonly client: grpc.Client;

  constructor(readonly address: string = defaultControlAddress()) {
    this.client = new (pyreloV1().Control)(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
  }

  call<Res>(method: string, request: object, timeoutMs = 600_000): Promise<Res> {
    const fn = (this.client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method];
    if (fn === undefined) throw new Error(`control service has no method ${method}`);
    return new Promise<Res>((resolve, reject) => {
      fn.call(this.client, request, { deadline: Date.now() + timeoutMs }, (error, value) => {
        if (error === null) resolve(value);
        else if (error.code === grpc.status.UNAVAILABLE) reject(new ControlError(error.code, `server at ${this.address} is not reachable (is \`pyrelo server\` running? --control ADDR): ${unavailableReason(error.details)}`));
        else reject(new ControlError(error.code, error.details));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Runs `body` with a client and always closes it. */
export async function withControl<T>(address: string | undefined, body: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = new ControlClient(address ?? defaultControlAddress());
  try {
    return await body(client);
  } finally {
    client.close();
  }
}
