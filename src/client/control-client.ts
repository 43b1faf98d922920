// The CLI's side of the control service: a typed, promise-based call over the local socket.

import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { join } from 'node:path';
import { pyreloV1, MAX_MESSAGE_BYTES } from '../proto/load.js';
import type { ControlClient as ControlStub, ControlDefinition } from '../proto/generated/pyrelo/v1/Control.js';
import type { MethodName } from '../proto/method-names.js';
import { defaultDataDir } from '../server/settings.js';
import { UserInputError } from '../common/user-input-error.js';

/**
 * grpc-js's UNAVAILABLE details wrap the socket error in "No connection established. Last error:
 * Error: connect ENOENT /x. Resolution note: "; the socket error alone is the reason.
 */
function unavailableReason(details: string): string {
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s.exec(details);
  return (last?.[1] ?? details).trim();
}

/** The control service refused the request (bad input, unknown name) or is not reachable. */
export class ControlError extends UserInputError {
  constructor(
    readonly code: grpc.status,
    detail: string,
  ) {
    super('the server', detail, detail); // the server's own words name what it refused
    this.name = 'ControlError';
  }
}

/** A message field the server always fills, checked: a received message field may be null. */
export function answered<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined)
    throw new ControlError(grpc.status.INTERNAL, `the server's answer has no ${what}`);
  return value;
}

export function defaultControlAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.PYRELO_CONTROL ?? `unix:${join(env.PYRELO_DATA ?? defaultDataDir(env), 'control.sock')}`;
}

/** The control service's methods with one request and one response; the two streaming ones
 * (AddBundle, BuildBundle) are called on `client` itself. */
export type UnaryMethod = Exclude<MethodName<ControlDefinition>, 'AddBundle' | 'BuildBundle'>;
/** What a method takes (the permissive input type) and gives (the complete output type). */
type RequestOf<K extends UnaryMethod> = Parameters<ControlDefinition[K]['requestSerialize']>[0];
type ResponseOf<K extends UnaryMethod> = ReturnType<ControlDefinition[K]['responseDeserialize']>;
/** The part of each method's definition a call uses, keyed so that `service[method]` keeps its types. */
type UnaryDefinitions = {
  [K in UnaryMethod]: Pick<
    MethodDefinition<RequestOf<K>, unknown, unknown, ResponseOf<K>>,
    'path' | 'requestSerialize' | 'responseDeserialize'
  >;
};

export class ControlClient {
  readonly client: ControlStub;
  private readonly service: UnaryDefinitions;

  constructor(readonly address: string = defaultControlAddress()) {
    const Control = pyreloV1().Control;
    this.service = Control.service;
    this.client = new Control(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
  }

  /** Calls a unary method by its name in the .proto; request and response are typed by it. */
  call<K extends UnaryMethod>(method: K, request: RequestOf<K>, timeoutMs = 600_000): Promise<ResponseOf<K>> {
    // The generated stub's own methods do exactly this with the same definition; going through the
    // definition keeps the method's name, request and response tied by one type.
    const { path, requestSerialize, responseDeserialize } = this.service[method];
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        path,
        requestSerialize,
        responseDeserialize,
        request,
        { deadline: Date.now() + timeoutMs },
        (error, value) => {
          if (error === null) {
            if (value === undefined)
              reject(new ControlError(grpc.status.INTERNAL, `the server's answer to ${method} has no message`));
            else resolve(value);
          } else if (error.code === grpc.status.UNAVAILABLE)
            reject(
              new ControlError(
                error.code,
                `server at ${this.address} is not reachable (is \`pyrelo server\` running? --control ADDR): ` +
                  `${unavailableReason(error.details)}`,
              ),
            );
          else reject(new ControlError(error.code, error.details));
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Runs `body` with a client and always closes it. */
export async function withControl<T>(
  address: string | undefined,
  body: (client: ControlClient) => Promise<T>,
): Promise<T> {
  const client = new ControlClient(address ?? defaultControlAddress());
  try {
    return await body(client);
  } finally {
    client.close();
  }
}
