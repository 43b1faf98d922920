// Bundles built by the server (Control.BuildBundle, `pyrelo bundles build`): progress lines stream
// back while `pyrelo build` runs as the server's child, the result is stored, listed and predicted
// like an upload; bad requests and failing builds come back as errors that name the problem.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { execa } from 'execa';
import { ControlClient } from '../../src/client/control-client.js';
import type { BuildEvent, BuildRequest, BundleInfo } from '../../src/proto/messages.js';
import { APP, ENTRY, buildSkipReason } from '../builder/shared-build.js';
import { BASE_PYTHON, ensureWheelhouse } from '../builder/wheelhouse.js';
import { startTestServer, type TestServer } from './fixtures.js';

const skip = buildSkipReason();
const MAIN = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
let work: string;
let ts: TestServer;
let control: ControlClient;

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-build-bundle-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
});

after(async () => {
  if (skip) return;
  control?.close();
  await ts?.server.stop(500);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Calls BuildBundle directly; every event, or the error it ended with. */
function build(request: Partial<BuildRequest>): Promise<{ events: BuildEvent[]; error: grpc.ServiceError | null }> {
  const full: BuildRequest = {
    project: '',
    python: '',
    pythonSource: '',
    requirements: '',
    wheelhouse: '',
    libc: '',
    minGlibc: '',
    entries: [],
    smoke: '',
    prompt: '',
    withoutPip: false,
    noSlim: false,
    indexUrl: '',
    sourceless: false,
    allowMissing: [],
    preloadOnly: [],
    locales: [],
    ...request,
  };
  return new Promise((done) => {
    const events: BuildEvent[] = [];
    const call = control.client.BuildBundle(full);
    call.on('data', (e: BuildEvent) => events.push(e));
    call.on('error', (error: grpc.ServiceError) => done({ events, error }));
    call.on('end', () => done({ events, error: null }));
  });
}

test(
  'pyrelo bundles build: the server builds, streams progress, stores and lists the bundle',
  { skip, timeout: 300_000 },
  async () => {
    const wheelhouse = await ensureWheelhouse();
    const r = await execa(
      process.execPath,
      [
        MAIN,
        'bundles',
        'build',
        APP,
        '--python',
        BASE_PYTHON,
        '--wheelhouse',
        wheelhouse,
        '--entry',
        ENTRY,
        '--smoke',
        'bin/smoke',
        '--prompt',
        'served',
        '--control',
        ts.server.controlAddress,
        '--json',
      ],
      { reject: false },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    for (const step of ['copy', 'install', 'graft', 'runpath', 'verify', 'pack'])
      assert.match(r.stderr, new RegExp(`^server: pyrelo build: \\[${step}\\] `, 'm'));
    const info = JSON.parse(r.stdout) as BundleInfo;
    assert.equal(info.name, 'served');
    assert.match(info.digest, /^[0-9a-f]{64}$/);
    const { bundles } = await control.call('ListBundles', {});
    assert.deepEqual(
      bundles.map((b) => b.digest),
      [info.digest],
    );
    assert.ok(info.elfFiles > 10, "the manifest's ELF needs were stored");
  },
);

test(
  "BuildBundle refuses a relative path and reports a failing build in pyrelo build's words",
  { skip, timeout: 120_000 },
  async () => {
    const relative = await build({ project: APP, python: 'python3' });
    assert.equal(relative.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(relative.error!.details, /--python python3: expected an absolute path on the server's machine/);
    const neither = await build({ project: APP });
    assert.match(neither.error!.details, /give exactly one of python and python_source/);
    const failing = await build({ project: APP, python: BASE_PYTHON, wheelhouse: join(work, 'no-such-wheelhouse') });
    assert.equal(failing.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(failing.error!.details, /pyrelo build exited 2: .*no-such-wheelhouse/);
    assert.ok(
      failing.events.every((e) => e.body === 'line'),
      'no bundle announced',
    );
    // index_url reaches pyrelo build as --index-url (which refuses one without a scheme).
    const badIndex = await build({ project: APP, python: BASE_PYTHON, indexUrl: 'pypi.org/simple' });
    assert.equal(badIndex.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(
      badIndex.error!.details,
      /--index-url pypi\.org\/simple: expected an http:\/\/, https:\/\/ or file:\/\/ URL/,
    );
    // allow_missing reaches pyrelo build as --allow-missing, one soname each; a name with a slash is refused first.
    const badSoname = await build({
      project: APP,
      python: BASE_PYTHON,
      allowMissing: ['libodbc.so.2', '/usr/lib/libodbc.so.2'],
    });
    assert.equal(badSoname.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(
      badSoname.error!.details,
      /allow_missing "\/usr\/lib\/libodbc\.so\.2": expected a library name as DT_NEEDED names it/,
    );
    const { bundles } = await control.call('ListBundles', {});
    assert.equal(bundles.filter((b) => b.name === APP).length, 0, 'nothing stored');
  },
);
