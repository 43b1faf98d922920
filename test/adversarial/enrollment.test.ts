// Issue 13 item 8: a host name over 64 characters could never enroll (a certificate's common name
// holds 64) and burned its token; any signing failure burned it too, since the token was used up
// before signing. Against a real server process over real gRPC: `pyrelo hosts token` refuses a
// 65-character name with exit 2 and one line; an enrollment with a key that cannot be signed is
// refused and leaves the token usable, so the real agent then enrolls with the same token, once.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { AgentState } from '../../src/agent/state.js';
import { enroll } from '../../src/agent/enroll.js';
import { pyreloV1 } from '../../src/proto/load.js';
import { tlsNameOptions } from '../../src/proto/tls-name.js';
import type { EnrollRequest } from '../../src/proto/messages.js';
import { startFleet, type Fleet } from './fleet.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');

let work: string;
let fleet: Fleet;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-enroll-'));
  fleet = await startFleet(work);
});

after(async () => {
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('hosts token refuses a name longer than a certificate common name: exit 2, one line', () => {
  const name = `h${'x'.repeat(64)}`;
  const run = spawnSync(process.execPath, [MAIN, 'hosts', 'token', name, '--control', fleet.control.address], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 2, run.stderr);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /\(65 characters\).*at most 64 characters/);
  // 64 is fine.
  const ok = spawnSync(
    process.execPath,
    [MAIN, 'hosts', 'token', name.slice(0, 64), '--control', fleet.control.address, '--json'],
    { encoding: 'utf8' },
  );
  assert.equal(ok.status, 0, ok.stderr);
});

test('a key that cannot be signed does not burn the token: the real agent then enrolls with it, once', async () => {
  const token = await fleet.control.call('CreateEnrollToken', { name: 'keeps-token' });
  const ca = readFileSync(join(fleet.dir, 'server', 'pki', 'ca.crt'));
  const client = new (pyreloV1().Enrollment)(
    fleet.enrollAddress,
    grpc.credentials.createSsl(ca),
    tlsNameOptions(fleet.enrollAddress),
  );
  const refused = await new Promise<grpc.ServiceError | null>((resolve) => {
    const request: EnrollRequest = {
      token: token.token,
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n',
    };
    client.Enroll(request, (error) => resolve(error));
  });
  client.close();
  assert.ok(refused !== null, 'a bad key is refused');
  assert.equal(refused.code, grpc.status.INVALID_ARGUMENT, refused.details);

  const state = new AgentState(join(work, 'agent-keeps-token'));
  assert.equal(await enroll(state, fleet.enrollAddress, token.token, ca), 'keeps-token');
  const again = new AgentState(join(work, 'agent-keeps-token-2'));
  await assert.rejects(
    enroll(again, fleet.enrollAddress, token.token, ca),
    (e: grpc.ServiceError) => e.code === grpc.status.PERMISSION_DENIED,
  );
});
