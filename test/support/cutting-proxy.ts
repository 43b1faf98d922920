// A TCP proxy on a loopback port that forwards to a target and can cut every connection through
// it, now or after a given number of further bytes: a dropped link on demand, at a byte count a
// test chooses (upload resume, reconnect logic). It counts the bytes it forwarded each way.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Direction = 'up' | 'down';

export interface CuttingProxy {
  readonly port: number;
  /** Bytes forwarded client → target, over all connections so far. */
  readonly bytesUp: number;
  /** Bytes forwarded target → client, over all connections so far. */
  readonly bytesDown: number;
  /** How many times connections were cut. */
  readonly cuts: number;
  /**
   * Cuts every open connection once `bytes` more bytes have gone in `direction` (default up),
   * forwarding exactly that many; later connections pass freely until the next cutAfter.
   */
  cutAfter(bytes: number, direction?: Direction): void;
  /** Destroys both sockets of every open connection at once. */
  cutNow(): void;
  /** From now on forwards nothing, without closing anything: a link gone dead (cable pulled). */
  stall(): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CuttingProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let bytesUp = 0;
  let bytesDown = 0;
  let cuts = 0;
  /** Bytes left before the armed cut, and in which direction; undefined when not armed. */
  let budget: { left: number; direction: Direction } | undefined;
  let stalled = false;

  const cutNow = () => {
    budget = undefined;
    if (pairs.size > 0) cuts++;
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  /** Forwards `chunk` from one side to the other, spending the budget when it is armed. */
  const forward = (chunk: Buffer, to: Socket, direction: Direction) => {
    if (stalled) return;
    let allowed = chunk;
    let cut = false;
    if (budget && budget.direction === direction) {
      if (chunk.length >= budget.left) {
        allowed = chunk.subarray(0, budget.left);
        cut = true;
      }
      budget.left -= allowed.length;
    }
    if (direction === 'up') bytesUp += allowed.length;
    else bytesDown += allowed.length;
    // Cut only once the allowed bytes are flushed, so the target really received them.
    if (cut) to.write(allowed, () => cutNow());
    else to.write(allowed);
  };

  const server: Server = createServer((client) => {
    const upstream = connect({ host: targetHost, port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => forward(chunk, upstream, 'up'));
    upstream.on('data', (chunk: Buffer) => forward(chunk, client, 'down'));
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('cutting proxy: no listening address');

  return {
    port: address.port,
    get bytesUp() {
      return bytesUp;
    },
    get bytesDown() {
      return bytesDown;
    },
    get cuts() {
      return cuts;
    },
    cutAfter(bytes: number, direction: Direction = 'up') {
      if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`cutAfter: ${bytes} is not a byte count`);
      budget = { left: bytes, direction };
    },
    cutNow,
    stall() {
      stalled = true;
    },
    close() {
      cutNow();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
