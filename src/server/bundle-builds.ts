// Bundles built by the server (Control.BuildBundle): `pyrelo build` runs as a child process of the
// server, so that a build's CPU-heavy steps never stall the event loop that serves agents, and a
// crashing build cannot take the server with it. Its progress lines are streamed to the caller;
// the archive is written into the store's incoming folder and adopted like an upload (every file
// checked against the manifest), then predicted on every host. One build runs at a time: builds
// use every core they get, and a queue is fairer than two half-speed builds.
// Paths in the request are paths on the server's machine; relative ones are refused, since the
// server's working folder means nothing to the caller.

import { sha256FileStreamed } from '../bundle/file-list.js';
import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Logger } from 'pino';
import type { BuildRequest } from '../proto/messages.js';
import { isSonameLike } from '../bundle/manifest.js';
import type { BundleStore, StoredArchive } from './bundle-store.js';
import { UserInputError } from '../common/user-input-error.js';

/** A build request that cannot be carried out, or a build that failed: the message says why. */
export class BuildRequestError extends UserInputError {
  constructor(readonly what: string, detail: string) {
    super(what, detail);
    this.name = 'BuildRequestError';
  }
}

const CLI = fileURLToPath(new URL('../client/main.js', import.meta.url));

/** The build's last lines of output are kept for the error message of a failed build. */
const TAIL_LINES = 8;

function requestArgs(r: BuildRequest): string[] {
  const path = (flag: string, value: string): string[] => {
    if (value === '') return [];
    if (!isAbsolute(value)) throw new BuildRequestError(`${flag} ${value}`, 'expected an absolute path on the server\'s machine');
    return [flag, value];
  };
  if ((r.python === '') === (r.pythonSource === '')) throw new BuildRequestError('build request', 'give exactly one of python and python_source');
  for (const soname of r.allowMissing ?? []) {
    if (!isSonameLike(soname) || soname.startsWith('-')) throw new BuildRequestError(`allow_missing ${JSON.stringify(soname.slice(0, 80))}`, 'expected a library name as DT_NEEDED names it (such as libodbc.so.2)');
  }
  if (r.libc !== '' && !['host', 'bundle', 'auto'].includes(r.libc)) throw new BuildRequestError(`libc ${JSON.stringify(r.libc)}`, 'expected host, bundle or auto');
  // A project may be a folder (absolute path) or a requirement resolved in the wheelhouse.
  const project = r.project === '' ? [] : r.project.includes('/') ? path('project', r.project).slice(1) : [r.project];
  return [
    ...project,
    ...path('--python', r.python), ...path('--python-source', r.pythonSource), ...path('--requirement', r.requirements), ...path('--wheelhouse', r.wheelhouse),
    ...(r.libc ? ['--libc', r.libc] : []), ...(r.minGlibc ? ['--min-glibc', r.minGlibc] : []),
    ...r.entries.flatMap((e) => ['--entry', e]), ...(r.smoke ? ['--smoke', r.smoke] : []), ...(r.prompt ? ['--prompt', r.prompt] : []),
    ...(r.withoutPip ? ['--without-pip'] : []), ...(r.noSlim ? ['--no-slim'] : []),
    ...(r.indexUrl ? ['--index-url', r.indexUrl] : []), ...(r.sourceless ? ['--sourceless'] : []),
    ...(r.allowMissing ?? []).flatMap((soname) => ['--allow-missing', soname]),
  ];
}

export class BundleBuilds {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: BundleStore, private readonly log: Logger) {}

  /** Builds, then adopts the archive into the store. `onLine` gets every progress line. */
  build(request: BuildRequest, onLine: (line: string) => void, signal: AbortSignal): Promise<StoredArchive> {
    const args = requestArgs(request); // bad input is refused before queueing
    const run = this.queue.then(() => this.run(args, onLine, signal));
    this.queue = run.catch(() => {});
    return run;
  }

  private async run(args: string[], onLine: (line: string) => void, signal: AbortSignal): Promise<StoredArchive> {
    if (signal.aborted) throw new BuildRequestError('build', 'cancelled by the caller');
    const incoming = join(this.store.dir, 'incoming');
    mkdirSync(incoming, { recursive: true });
    const output = join(incoming, `build-${process.pid}-${randomBytes(6).toString('hex')}.tar.gz`);
    const tail: string[] = [];
    const started = Date.now();
    this.log.info({ args }, 'build started');
    try {
      const child = execa(process.execPath, [CLI, 'build', ...args, '-o', output], {
        reject: false, all: true, buffer: false, cancelSignal: signal,
      });
      let partial = '';
      child.all?.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString();
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          onLine(line);
        }
      });
      const result = await child;
      if (partial !== '') onLine(partial);
      if (result.isCanceled) throw new BuildRequestError('build', 'cancelled by the caller');
      if (result.exitCode !== 0) {
        const why = tail.filter((l) => l.trim() !== '').slice(-3).join(' | ').replace(/^pyrelo: /, '');
        throw new BuildRequestError('build', `pyrelo build exited ${result.exitCode}: ${why}`);
      }
      const digest = await sha256FileStreamed(output);
      const stored = await this.store.adopt(output, digest, `build of ${args[0] ?? 'a bare runtime'}`);
      this.log.info({ bundle: stored.manifest.name, digest: digest.slice(0, 12), seconds: (Date.now() - started) / 1000 }, 'build stored');
      return stored;
    } finally {
      rmSync(output, { force: true });
    }
  }
}
