// pino JSON logs for the server and the agent daemon. Keys, tokens and certificates are redacted
// by path wherever they appear in a log object, and no code logs them by value in a message.

import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'token',
  '*.token',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'private_key',
  '*.private_key',
  'publicKeyPem',
  '*.publicKeyPem',
  'certificatePem',
  '*.certificatePem',
  'caCertificatePem',
  '*.caCertificatePem',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
];

export function createLogger(name: string, level: string, destination: NodeJS.WritableStream | number = 1): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
    stream,
  );
}

export type { Logger };
