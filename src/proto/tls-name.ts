// Agents often reach the server by IP address. Node's TLS refuses an IP address as the server name
// (RFC 6066) and warns on every connection; so when the address is an IP, the agent verifies the
// server's certificate against this DNS name, which every server certificate carries. The trust
// comes from the pinned CA, not from the name.

import { isIP } from 'node:net';

export const SERVER_TLS_NAME = 'pyrelo-server';

/** Channel options for a TLS client dialing `address` (HOST:PORT). */
export function tlsNameOptions(address: string): Record<string, string> {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0
    ? {}
    : { 'grpc.ssl_target_name_override': SERVER_TLS_NAME, 'grpc.default_authority': SERVER_TLS_NAME };
}
