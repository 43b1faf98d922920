// Enrollment: an agent without a certificate presents a one-time token (created with
// `pyrelo hosts token NAME`) and its public key; it gets a client certificate for the token's
// host and the CA certificate. The token is stored only as its sha256 and works once. Every
// certificate issued is recorded (sha256, serial) so that `pyrelo hosts remove` can revoke it.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CompatDatabase } from './db/database.js';
import { certificateIdentity, signAgentKey, type Pki } from './pki.js';
import { grpcError } from './agent-hub.js';
import { tokenHash } from './control-service.js';
import type { EnrollmentHandlers } from '../proto/generated/pyrelo/v1/Enrollment.js';

export function enrollmentHandlers(db: CompatDatabase, pki: Pki, log: Logger): EnrollmentHandlers {
  return {
    Enroll: (call, callback) => {
      // The token is used up only together with recording the certificate it bought: a signing
      // that fails (a bad key) leaves it usable.
      const hash = tokenHash(call.request.token);
      const host = db.enrollTokenHost(hash);
      if (host === null) {
        log.warn({ peer: call.getPeer() }, 'enrollment refused: unknown, used or expired token');
        callback(grpcError(grpc.status.PERMISSION_DENIED, 'enrollment token unknown, already used or expired'));
        return;
      }
      signAgentKey(pki, call.request.publicKeyPem, host)
        .then((certificatePem) => {
          const certificate = certificateIdentity(certificatePem);
          // Recorded before it is handed out, so that removing the host can revoke it; in the same
          // transaction the token is used up, unless another enrollment used it meanwhile.
          const issued = db.db.transaction(() => {
            if (db.consumeEnrollToken(hash) !== host) return false;
            db.addHost(host, 'agent');
            db.recordCertificate(host, certificate.sha256, certificate.serial);
            return true;
          })();
          if (!issued) {
            log.warn({ host, peer: call.getPeer() }, 'enrollment refused: the token was used meanwhile');
            callback(grpcError(grpc.status.PERMISSION_DENIED, 'enrollment token unknown, already used or expired'));
            return;
          }
          log.info(
            { host, peer: call.getPeer(), certificateSha256: certificate.sha256, serial: certificate.serial },
            'agent enrolled',
          );
          callback(null, { host, certificatePem, caCertificatePem: pki.caCert.toString('utf8') });
        })
        .catch((error: Error) => {
          log.warn(
            { host, peer: call.getPeer(), err: error.message },
            'enrollment refused: the key could not be signed (the token stays usable)',
          );
          callback(grpcError(grpc.status.INVALID_ARGUMENT, error.message.split('\n')[0]!));
        });
    },
  };
}
