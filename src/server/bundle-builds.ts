// Bundles built by the server (Control.BuildBundle): `pyrelo build` runs as a child process of the
// server (builder/build-process.ts), so that a build's CPU-heavy steps never stall the event loop
// that serves agents, and a crashing build cannot take the server with it. Its arguments come from
// the request as builder/build-options.ts maps BuildRequest fields to flags. Its progress lines
// are streamed to the caller; the archive is written into the store's incoming folder and adopted
// like an upload (every file checked against the manifest), then predicted on every host. One
// build runs at a time: builds use every core they get, and a queue is fairer than two half-speed
// builds.
// Paths in the request are paths on the server's machine; relative ones are refused, since the
// server's working folder means nothing to the caller.

import { localeNameProblem } from '../bundle/locale-name.js';
import { sha256FileStreamed } from '../bundle/file-list.js';
import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { BuildRequest } from '../proto/messages.js';
import { isSafeRelativePath, isSonameLike } from '../bundle/manifest.js';
import { requestedVersion } from '../builder/cpython-catalog.js';
import { BUILD_OPTIONS, longFlag, type BuildOptionRow } from '../builder/build-options.js';
import { startBuildProcess } from '../builder/build-process.js';
import type { BundleStore, StoredArchive } from './bundle-store.js';
import { UserInputError } from '../common/user-input-error.js';

/** A build request that cannot be carried out, or a build that failed: the message says why. */
export class BuildRequestError extends UserInputError {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(what, detail);
    this.name = 'BuildRequestError';
  }
}

/** The build's last lines of output are kept for the error message of a failed build. */
const TAIL_LINES = 8;

/** A field as proto/pyrelo/v1/control.proto names it: allow_missing for allowMissing. */
function protoName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The `pyrelo build` arguments of one BuildRequest field, as its row of BUILD_OPTIONS says. */
function fieldArgs(row: BuildOptionRow, field: keyof BuildRequest, value: BuildRequest[keyof BuildRequest]): string[] {
  const text = typeof value === 'string' ? value : '';
  const path = (what: string): string[] => {
    if (!isAbsolute(text))
      throw new BuildRequestError(`${what} ${text}`, "expected an absolute path on the server's machine");
    return [text];
  };
  const flag = row.value === 'argument' ? '' : longFlag(row);
  switch (row.value) {
    // A project may be a folder (absolute path) or a requirement resolved in the wheelhouse.
    // A requirement never starts with '-': such a project would be read as a flag (`--clear`, `--index-url=…`).
    case 'argument':
      if (text.startsWith('-'))
        throw new BuildRequestError(
          `${field} ${JSON.stringify(text.slice(0, 80))}`,
          'expected a project folder (an absolute path) or a requirement, not a flag',
        );
      return text === '' ? [] : text.includes('/') ? path(field) : [text];
    case 'path':
      // --python also takes a version number (3.13), which the build compiles from its source.
      if (row.key === 'python' && requestedVersion(text) !== null) return [flag, text];
      return text === '' ? [] : [flag, ...path(flag)];
    case 'choice':
    case 'text':
    case 'command':
      return text === '' ? [] : [flag, text];
    case 'repeated':
      return (Array.isArray(value) ? value : []).flatMap((item) => [flag, item]);
    // The request says what the flag says: no_slim, without_pip, sourceless.
    case 'switch':
    case 'negated':
      return value === true ? [flag] : [];
  }
}

/** The `pyrelo build` arguments of a request (but -o), or a BuildRequestError naming the bad field. */
export function requestArgs(r: BuildRequest): string[] {
  if ((r.python === '') === (r.pythonSource === ''))
    throw new BuildRequestError('build request', 'give exactly one of python and python_source');
  for (const soname of r.allowMissing ?? []) {
    // Also never a flag of its own: it becomes the value of --allow-missing.
    if (!isSonameLike(soname) || soname.startsWith('-'))
      throw new BuildRequestError(
        `allow_missing ${JSON.stringify(soname.slice(0, 80))}`,
        'expected a library name as DT_NEEDED names it (such as libodbc.so.2)',
      );
  }
  for (const path of r.preloadOnly ?? []) {
    // A path inside the bundle, and never a flag of its own.
    if (!isSafeRelativePath(path) || path.startsWith('-'))
      throw new BuildRequestError(
        `preload_only ${JSON.stringify(path.slice(0, 80))}`,
        'expected a path inside the bundle, relative to its root',
      );
  }
  for (const name of r.locales ?? []) {
    // A name glibc's setlocale takes, which never starts with '-' (so never a flag of its own).
    const problem = localeNameProblem(name);
    if (problem !== null) throw new BuildRequestError(`locales ${JSON.stringify(name.slice(0, 80))}`, problem);
  }
  for (const row of BUILD_OPTIONS) {
    const value = row.request === null ? '' : r[row.request];
    if (row.request === null || row.value !== 'choice' || value === '' || (row.choices ?? []).includes(String(value)))
      continue;
    const choices = row.choices ?? [];
    throw new BuildRequestError(
      `${protoName(row.request)} ${JSON.stringify(value)}`,
      `expected ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`,
    );
  }
  return BUILD_OPTIONS.flatMap((row) => (row.request === null ? [] : fieldArgs(row, row.request, r[row.request])));
}

export class BundleBuilds {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: BundleStore,
    private readonly log: Logger,
  ) {}

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
      const child = startBuildProcess([...args, '-o', output], signal);
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
        const why = tail
          .filter((l) => l.trim() !== '')
          .slice(-3)
          .join(' | ')
          .replace(/^pyrelo: /, '');
        throw new BuildRequestError('build', `pyrelo build exited ${result.exitCode}: ${why}`);
      }
      const digest = await sha256FileStreamed(output);
      const stored = await this.store.adopt(output, digest, `build of ${args[0] ?? 'a bare runtime'}`);
      this.log.info(
        { bundle: stored.manifest.name, digest: digest.slice(0, 12), seconds: (Date.now() - started) / 1000 },
        'build stored',
      );
      return stored;
    } finally {
      rmSync(output, { force: true });
    }
  }
}
