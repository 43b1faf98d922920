// Limits on the agents' calls themselves, before the hub reads a message of them (issue 13 item 7):
//   - streamsPerCertificate: calls (Connect streams and bundle transfers) open at once per client
//     certificate's host; one more is refused with RESOURCE_EXHAUSTED before any of its bytes are
//     read, and a call that ends frees its place;
//   - helloSeconds: a call's first message (an agent's hello, a transfer's request) must have
//     arrived whole within this many seconds of the call's start;
//   - messageSeconds: every later message must arrive whole within this many seconds of the one
//     before (agents heartbeat every 15 s). This bounds a message sent in part and then stalled:
//     grpc-js keeps what arrived of it (up to the receive limit, README "Limits on agents' streams")
//     until the call ends, and nothing else ends a call whose client keeps its side open.
// A call over a deadline is answered DEADLINE_EXCEEDED in one line and logged. Whenever the server
// ends a call whose client has not finished sending (a deadline, a refusal, the hub ending a
// stream), its HTTP/2 stream is reset once the status is out (RFC 9113 section 8.1 allows a
// server that answered before the request was complete to reset it with NO_ERROR): a status alone
// leaves the stream open as long as the client keeps its side open, and with it what grpc-js
// holds of a message in progress.
// It is a grpc-js server interceptor, so it sees every call of the agents' listener at its start.

import { constants as http2Constants } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { peerHost } from './agent-hub.js';
import type { StreamLimits } from './settings.js';

interface ResettableStream {
  close(code?: number): void;
  readonly destroyed: boolean;
  /** nghttp2's view: localClose is 1 once the server's END_STREAM (the status) is sent. */
  readonly state: { localClose?: number };
}

/** How long the status may take to leave before the stream is reset anyway (a client that does not read). */
const STATUS_GRACE_MS = 5_000;
/** How often a stream is looked at until its status has left (HTTP/2 gives no event for it). */
const STATUS_POLL_MS = 20;

/**
 * The HTTP/2 stream under a call. grpc-js keeps it private (BaseServerInterceptingCall.stream,
 * reached through the interceptors' nextCall); without it, a stalled client could keep its half
 * of the stream, and the half-sent message, open. Null when grpc-js stops holding it that way:
 * the deadline then still answers the call, and test/adversarial/stalled-streams.test.ts fails.
 */
function http2StreamOf(call: grpc.ServerInterceptingCallInterface): ResettableStream | null {
  let current: unknown = call;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const stream = (current as { stream?: unknown }).stream;
    if (
      typeof stream === 'object' &&
      stream !== null &&
      typeof (stream as ResettableStream).close === 'function' &&
      'rstCode' in stream
    )
      return stream as unknown as ResettableStream;
    current = (current as { nextCall?: unknown }).nextCall;
  }
  return null;
}

export class StreamGuard {
  /** Calls open per host (the client certificate's common name). */
  private readonly open = new Map<string, number>();

  constructor(
    private readonly limits: StreamLimits,
    private readonly log: Logger,
  ) {}

  openCalls(host: string): number {
    return this.open.get(host) ?? 0;
  }

  /** The interceptor for the agents' grpc.Server (option `interceptors`). */
  interceptor(): grpc.ServerInterceptor {
    return (method, call) => this.guard(method.path, call);
  }

  private guard(path: string, call: grpc.ServerInterceptingCallInterface): grpc.ServerInterceptingCall {
    const rpc = path.slice(path.lastIndexOf('/') + 1);
    const peer = call.getPeer();
    const host = peerHost(call as unknown as Parameters<typeof peerHost>[0]);
    let timer: NodeJS.Timeout | null = null;
    let ended = false;
    let counted = false;
    let messages = 0;
    const release = (): void => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (ended) return;
      ended = true;
      if (counted && host !== null) {
        const left = (this.open.get(host) ?? 1) - 1;
        if (left > 0) this.open.set(host, left);
        else this.open.delete(host);
      }
    };
    let halfClosed = false;
    let resetting = false;
    /** After the status: resets the stream if the client is still sending (see the top of the file). */
    const resetAfterStatus = (): void => {
      if (halfClosed || resetting) return;
      const stream = http2StreamOf(call);
      if (stream === null || stream.destroyed) return;
      resetting = true;
      const started = Date.now();
      const poll = (): void => {
        if (stream.destroyed) return;
        if (stream.state.localClose !== 1 && Date.now() - started < STATUS_GRACE_MS)
          return void setTimeout(poll, STATUS_POLL_MS).unref();
        stream.close(http2Constants.NGHTTP2_NO_ERROR);
      };
      setImmediate(poll);
    };
    const cut = (code: grpc.status, details: string, context: Record<string, unknown>): void => {
      this.log.warn({ host, peer, rpc, code: grpc.status[code], ...context }, `agent call ended: ${details}`);
      release();
      call.sendStatus({ code, details });
      resetAfterStatus();
    };
    const arm = (): void => {
      if (ended) return;
      if (timer !== null) clearTimeout(timer);
      const first = messages === 0;
      const seconds = first ? this.limits.helloSeconds : this.limits.messageSeconds;
      timer = setTimeout(() => {
        timer = null;
        if (first)
          cut(
            grpc.status.DEADLINE_EXCEEDED,
            `no ${rpc === 'Connect' ? 'hello' : 'request'} within ${seconds} s (setting helloSeconds)`,
            { deadline: 'helloSeconds' },
          );
        else
          cut(
            grpc.status.DEADLINE_EXCEEDED,
            `no whole message within ${seconds} s of the last one (setting messageSeconds): a stalled or ` +
              'half-sent message',
            { deadline: 'messageSeconds', messages },
          );
      }, seconds * 1000);
      timer.unref();
    };
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMessage((message, next) => {
        messages += 1;
        arm();
        next(message);
      })
      .withOnReceiveHalfClose((next) => {
        // The client sends nothing more: nothing can be left half-sent.
        halfClosed = true;
        if (timer !== null) clearTimeout(timer);
        timer = null;
        next();
      })
      .withOnCancel(() => {
        // Also when grpc-js itself ended the call (a message over the receive limit).
        release();
        resetAfterStatus();
      })
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => {
        if (host !== null) {
          const open = this.openCalls(host);
          if (open >= this.limits.streamsPerCertificate) {
            // Refused before the handler starts: none of this call's bytes are read or kept.
            ended = true;
            this.log.warn(
              { host, peer, rpc, open, code: 'RESOURCE_EXHAUSTED' },
              'agent call refused: too many streams for one certificate',
            );
            call.sendStatus({
              code: grpc.status.RESOURCE_EXHAUSTED,
              details:
                `host ${host} has ${open} agent streams open already, the most one certificate may (setting ` +
                'streamsPerCertificate)',
            });
            resetAfterStatus();
            return;
          }
          this.open.set(host, open + 1);
          counted = true;
        }
        arm();
        next(listener);
      })
      .withSendStatus((status, next) => {
        release();
        next(status);
        resetAfterStatus();
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  }
}
