// Agents enrolling at the same moment (a fleet brought up at once; bench/soak found it): each
// signing must succeed and every certificate must carry its own serial (RFC 5280 section 4.1.2.2).
// The serial came from openssl's shared counter file (-CAcreateserial, ca.srl), which concurrent
// signings read half-written ("Unable to load number from ca.srl") or read alike.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateIdentity, initPki, signAgentKey } from '../../src/server/pki.js';

test('sixteen agents signed at once: all succeed, sixteen distinct serials', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyrelo-concurrent-enroll-'));
  try {
    const pki = await initPki(dir);
    const hosts = Array.from({ length: 16 }, (_, i) => `host-${i}`);
    const certificates = await Promise.all(
      hosts.map((host) => {
        const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        return signAgentKey(pki, publicKey.export({ type: 'spki', format: 'pem' }).toString(), host);
      }),
    );
    const serials = certificates.map((pem) => certificateIdentity(pem).serial);
    assert.equal(new Set(serials).size, hosts.length, `serials: ${serials.join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
