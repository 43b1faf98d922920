// Small real bundles and a server on loopback for the compatibility service's tests.
//   host-libc: bin/python3 is a C program built here against this machine's glibc; its glibc floor
//     (GLIBC_2.34 with glibc 2.34 and later: __libc_start_main) is read from the compiled program
//     as `pyrelo build` reads it, never written down;
//   static: the same program linked statically, which loads everywhere (the stand-in for a
//     bundled-libc bundle until the builder's own bundles are used here).
// Their "python" prints a line and exits 0, so the default smoke command succeeds.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { describeNeeds, listBundleElves } from '../../src/builder/bundle-elves.js';
import { loadGraftPolicy } from '../../src/builder/graft-policy.js';
import { verifyBuiltBundle } from '../../src/builder/verify.js';
import { buildHostView } from '../../src/builder/build-host.js';
import { listBundleFiles } from '../../src/bundle/file-list.js';
import { writeManifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import { createLogger, type Logger } from '../../src/common/log.js';
import { resolveSettings } from '../../src/server/settings.js';
import { initPki } from '../../src/server/pki.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import type { CheckResult } from '../../src/proto/messages.js';

/** The folder makeBundle(work, name, …) packs. */
export function fixtureRoot(work: string, name: string): string {
  return join(work, name);
}

export async function makeBundle(work: string, name: string, kind: 'host-libc' | 'static'): Promise<string> {
  const root = fixtureRoot(work, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  const source = join(work, `${name}.c`);
  writeFileSync(source, '#include <stdio.h>\nint main(void) { puts("3.11.9"); return 0; }\n');
  await execa('gcc', ['-O1', ...(kind === 'static' ? ['-static'] : []), '-o', join(root, 'bin', 'python3'), source]);
  // The floors and the needs as `pyrelo build` writes them (its verify step and its manifest's elf
  // list), so the manifest says what this machine's compiler produced.
  const elves = listBundleElves(root);
  const verified = verifyBuiltBundle(root, elves, buildHostView(), loadGraftPolicy(), {
    libc: kind === 'static' ? 'bundle' : 'host',
    executable: 'bin/python3',
  });
  if (verified.problems.length > 0) throw new Error(`fixture ${name} does not verify: ${verified.problems.join('; ')}`);
  writeManifest(root, {
    format: 'pyrelo-bundle/1',
    name,
    python: { version: '3.11.9', executable: 'bin/python3', packages: [] },
    libc: kind === 'static' ? 'bundle' : 'host',
    glibcFloor: verified.glibcFloor,
    kernelFloor: verified.kernelFloor,
    entryPoints: {},
    steps: [],
    slimmed: [],
    grafted: [],
    elf: elves.filter((e) => e.dynamic).map((e) => describeNeeds(root, e.path)),
    files: listBundleFiles(root),
  });
  const archive = join(work, `${name}.tar.gz`);
  await packBundle(root, archive);
  return archive;
}

/** A log sink the tests can read (and grep for secrets). */
export class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface TestServer {
  readonly dir: string;
  readonly server: RunningServer;
  readonly logs: LogCapture;
  readonly log: Logger;
}

/** A server on loopback; `extra` settings (the dashboard's, …) are added to the test's defaults. */
export async function startTestServer(
  dir = mkdtempSync(join(tmpdir(), 'pyrelo-server-test-')),
  extra: Parameters<typeof resolveSettings>[0] = {},
): Promise<TestServer> {
  const settings = resolveSettings(
    {
      dataDir: dir,
      listen: '127.0.0.1:0',
      enrollListen: '127.0.0.1:0',
      control: `unix:${join(dir, 'control.sock')}`,
      logLevel: 'debug',
      ...extra,
    },
    {},
  );
  await initPki(dir).catch((error: Error) => {
    if (!/exists already/.test(error.message)) throw error;
  });
  const logs = new LogCapture();
  const log = createLogger('pyrelo-server', 'debug', logs);
  const server = await startServer(settings, log);
  return { dir, server, logs, log };
}

/** Polls `check` every 20 ms until it returns something truthy, which it resolves with. */
export function waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const value = check();
      if (value) resolve(value);
      else if (Date.now() - started > timeoutMs) reject(new Error('timed out waiting'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `pyrelo server` as its own process on loopback; resolves once its control socket listens. */
export function startServerProcess(
  dir: string,
  agentPort: number,
  enrollPort: number,
  logLevel = 'warn',
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'server',
      '--data',
      dir,
      '--listen',
      `127.0.0.1:${agentPort}`,
      '--enroll-listen',
      `127.0.0.1:${enrollPort}`,
      '--log-level',
      logLevel,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"control"')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
  });
}

/** A verified run that went well (one file, smoke exit 0): what reports of a good host carry. */
export function verifiedRun(host: string, bundleDigest: string): CheckResult {
  return {
    bundleDigest,
    host,
    kind: 'verified',
    runs: true,
    loads: true,
    problems: [],
    filesChecked: 1,
    glibcFloor: '',
    smokeRan: true,
    smokeExit: 0,
    smokeOutput: 'ok',
    checkedAt: new Date().toISOString(),
    inventorySha256: '',
  };
}
