// `pyrelo agent enroll`: make a key pair here, send the public key with the one-time token over
// server-authenticated TLS (the CA certificate comes with the token, out of band), keep the
// certificate that comes back.

import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tlsNameOptions } from '../proto/tls-name.js';
import * as grpc from '@grpc/grpc-js';
import { pyreloV1 } from '../proto/load.js';
import type { EnrollRequest, EnrollResponse } from '../proto/messages.js';
import type { AgentState } from './state.js';
import { UserInputError } from '../common/user-input-error.js';

/**
 * The enrollment server refused (a token unknown, used or expired; a name it will not sign) or
 * could not be reached: one line for the CLI (exit 2), with the gRPC status kept in `code`.
 */
export class EnrollmentError extends UserInputError {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    address: string,
  ) {
    const reason = details.split('\n')[0] ?? '';
    const unreachable = code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED;
    super(
      `enrollment at ${address}`,
      reason,
      unreachable
        ? `enrollment server ${address} is not reachable: ${reason}`
        : `enrollment at ${address} refused: ${reason}`,
    );
    this.name = 'EnrollmentError';
  }
}

export async function enroll(state: AgentState, address: string, token: string, ca: Buffer): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const proto = pyreloV1();
  const client = new proto.Enrollment(address, grpc.credentials.createSsl(ca), tlsNameOptions(address));
  try {
    const response = await new Promise<EnrollResponse>((resolve, reject) => {
      const request: EnrollRequest = { token, publicKeyPem };
      client.Enroll(request, { deadline: Date.now() + 30_000 }, (error, value) => {
        if (error !== null) reject(new EnrollmentError(error.code, error.details, address));
        else if (value === undefined)
          reject(new EnrollmentError(grpc.status.INTERNAL, 'answered without a message', address));
        else resolve(value);
      });
    });
    writeFileSync(state.keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(state.certFile, response.certificatePem, { mode: 0o644 });
    writeFileSync(state.caFile, response.caCertificatePem, { mode: 0o644 });
    writeFileSync(state.hostFile, `${response.host}\n`, { mode: 0o644 });
    return response.host;
  } finally {
    client.close();
  }
}
