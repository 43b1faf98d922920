// The server's small certificate authority, made with the openssl command-line tool: a CA that
// `pyrelo server init` creates, the server's certificate under it, and client certificates for
// agents whose common name is the host they may report about. Keys are written 0600 and never
// leave this folder; an agent sends only its public key.

import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_TLS_NAME } from '../proto/tls-name.js';
import { execa } from 'execa';
import { UserInputError } from '../common/user-input-error.js';

export interface Pki {
  readonly dir: string;
  readonly caCert: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
}

export class PkiError extends UserInputError {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(what, detail);
    this.name = 'PkiError';
  }
}

/**
 * A fresh serial for a certificate: 16 random bytes, the top bit clear so that it is positive (RFC
 * 5280 section 4.1.2.2: unique per CA, at most 20 octets). Not openssl's counter file
 * (-CAcreateserial, ca.srl): agents enrolling at once read it half-written, or alike
 * (test/server/concurrent-enrollment.test.ts).
 */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return `0x${bytes.toString('hex')}`;
}

async function openssl(args: string[], what: string): Promise<void> {
  const result = await execa('openssl', args, { reject: false });
  if (result.exitCode !== 0)
    throw new PkiError(what, `openssl ${args[0]} failed: ${result.stderr.trim().split('\n').slice(-2).join(' ')}`);
}

export function pkiDir(dataDir: string): string {
  return join(dataDir, 'pki');
}

export function pkiExists(dataDir: string): boolean {
  return existsSync(join(pkiDir(dataDir), 'ca.crt')) && existsSync(join(pkiDir(dataDir), 'server.crt'));
}

/** Creates the CA and the server certificate; refuses to overwrite an existing CA. */
export async function initPki(dataDir: string, extraNames: readonly string[] = []): Promise<Pki> {
  const dir = pkiDir(dataDir);
  if (existsSync(join(dir, 'ca.crt')))
    throw new PkiError(dir, 'a CA exists already (remove the folder to start over: every agent must enroll again)');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(
    [
      'req',
      '-x509',
      ...ca,
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.crt'),
      '-days',
      '3650',
      '-subj',
      '/CN=pyrelo CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    'CA',
  );
  const names = [...new Set(['localhost', hostname(), ...extraNames])];
  // SERVER_TLS_NAME lets agents that dial an IP address verify by a DNS name (see tls-name.ts).
  const san = [
    ...names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)),
    'IP:127.0.0.1',
    `DNS:${SERVER_TLS_NAME}`,
  ].join(',');
  await openssl(
    [
      'req',
      '-new',
      ...ca,
      '-keyout',
      join(dir, 'server.key'),
      '-out',
      join(dir, 'server.csr'),
      '-subj',
      '/CN=pyrelo server',
    ],
    'server key',
  );
  writeFileSync(
    join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=' +
      `${san}\n`,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      join(dir, 'server.csr'),
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-set_serial',
      randomSerial(),
      '-days',
      '825',
      '-extfile',
      join(dir, 'server.ext'),
      '-out',
      join(dir, 'server.crt'),
    ],
    'server certificate',
  );
  return loadPki(dataDir);
}

export function loadPki(dataDir: string): Pki {
  const dir = pkiDir(dataDir);
  if (!pkiExists(dataDir)) throw new PkiError(dir, 'no CA here: run `pyrelo server init` first');
  return {
    dir,
    caCert: readFileSync(join(dir, 'ca.crt')),
    serverCert: readFileSync(join(dir, 'server.crt')),
    serverKey: readFileSync(join(dir, 'server.key')),
  };
}

/** A client certificate for `host` over the agent's public key. */
export async function signAgentKey(pki: Pki, publicKeyPem: string, host: string): Promise<string> {
  if (!publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----') || publicKeyPem.length > 4096)
    throw new PkiError('public key', 'expected one PEM public key');
  const work = mkdtempSync(join(tmpdir(), 'pyrelo-enroll-'));
  try {
    writeFileSync(join(work, 'agent.pub'), publicKeyPem);
    writeFileSync(
      join(work, 'ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    );
    await openssl(
      [
        'x509',
        '-new',
        '-force_pubkey',
        join(work, 'agent.pub'),
        '-subj',
        `/CN=${host}`,
        '-CA',
        join(pki.dir, 'ca.crt'),
        '-CAkey',
        join(pki.dir, 'ca.key'),
        '-set_serial',
        randomSerial(),
        '-days',
        '825',
        '-extfile',
        join(work, 'ext'),
        '-out',
        join(work, 'agent.crt'),
      ],
      `certificate for ${host}`,
    );
    return readFileSync(join(work, 'agent.crt'), 'utf8');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** How the server recognises an agent certificate: sha256 of its DER form and its serial, lowercase hex. */
export interface CertificateIdentity {
  readonly sha256: string;
  readonly serial: string;
}

export function certificateIdentity(pem: string): CertificateIdentity {
  const certificate = new X509Certificate(pem);
  return {
    sha256: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
    serial: certificate.serialNumber.toLowerCase(),
  };
}
