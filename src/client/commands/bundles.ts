// `pyrelo bundles add|list|show`: packed bundles in the server's store.

import { createReadStream, statSync } from 'node:fs';
import { writeErr } from '../../common/terminal-text.js';
import { basename } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BuildEvent, BuildRequest, BundleChunk, BundleInfo } from '../../proto/messages.js';
import { ControlError, withControl, type ControlClient } from '../control-client.js';
import { InputError } from '../../elf/find-elf-files.js';
import { print, table, type ControlOptions } from './hosts.js';

function describe(b: BundleInfo): string[] {
  return [
    `bundle:       ${b.name}`,
    `digest:       ${b.digest}`,
    `size:         ${b.size} bytes`,
    `python:       ${b.pythonVersion}`,
    `libc:         ${b.libc}${b.glibcFloor ? ` (glibc floor ${b.glibcFloor})` : ''}`,
    `kernel floor: ${b.kernelFloor || '-'}`,
    `ELF files:    ${b.elfFiles}`,
    `added:        ${b.addedAt}`,
  ];
}

/** Streams a packed bundle to the server's store; the server checks its manifest and predicts it everywhere. */
export function uploadBundle(c: ControlClient, archive: string): Promise<BundleInfo> {
  const stat = statSync(archive);
  if (!stat.isFile()) throw new InputError(archive, 'not a packed bundle (pyrelo build -o NAME.tar.gz)');
  return new Promise<BundleInfo>((resolve, reject) => {
    const call = c.client.AddBundle((error, value) => {
      if (error !== null) reject(new ControlError(error.code, error.details));
      else if (value === undefined)
        reject(new ControlError(grpc.status.INTERNAL, "the server's answer to AddBundle has no message"));
      else resolve(value);
    });
    let offset = 0;
    const stream = createReadStream(archive, { highWaterMark: 1024 * 1024 });
    stream.on('data', (data) => {
      const chunk: BundleChunk = {
        digest: '',
        offset,
        totalSize: stat.size,
        data: data as Buffer,
        name: offset === 0 ? basename(archive) : '',
      };
      offset += (data as Buffer).length;
      if (!call.write(chunk)) {
        stream.pause();
        call.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => call.end());
    stream.on('error', (error) => {
      call.cancel();
      reject(error);
    });
  });
}

export interface BundlesBuildOptions extends ControlOptions {
  readonly python?: string;
  readonly pythonSource?: string;
  readonly requirement?: string;
  readonly wheelhouse?: string;
  readonly libc?: string;
  readonly minGlibc?: string;
  readonly entry?: string[];
  readonly smoke?: string;
  readonly prompt?: string;
  readonly slim?: boolean;
  readonly withoutPip?: boolean;
  readonly indexUrl?: string;
  readonly sourceless?: boolean;
  readonly allowMissing?: string[];
  readonly preloadOnly?: string[];
  readonly locale?: string[];
}

/**
 * `pyrelo bundles build`: the server builds the bundle (from paths on its machine: relative ones
 * are made absolute here, for a server on this machine), stores it and predicts it everywhere.
 * Its progress lines arrive on stderr as the build prints them.
 */
export async function bundlesBuild(project: string | undefined, o: BundlesBuildOptions): Promise<number> {
  const absolute = (p: string | undefined): string => (p === undefined ? '' : resolve(p));
  const request: BuildRequest = {
    project: project === undefined ? '' : existsSync(project) ? resolve(project) : project,
    python: absolute(o.python),
    pythonSource: absolute(o.pythonSource),
    requirements: absolute(o.requirement),
    wheelhouse: absolute(o.wheelhouse),
    libc: o.libc ?? '',
    minGlibc: o.minGlibc ?? '',
    entries: o.entry ?? [],
    smoke: o.smoke ?? '',
    prompt: o.prompt ?? '',
    withoutPip: o.withoutPip === true,
    noSlim: o.slim === false,
    indexUrl: o.indexUrl ?? '',
    sourceless: o.sourceless === true,
    allowMissing: o.allowMissing ?? [],
    preloadOnly: o.preloadOnly ?? [],
    locales: o.locale ?? [],
  };
  const info = await withControl(
    o.control,
    (c) =>
      new Promise<BundleInfo>((done, fail) => {
        const call = c.client.BuildBundle(request);
        let stored: BundleInfo | null = null;
        call.on('data', (event: BuildEvent) => {
          // Exactly the oneof's chosen field is set (LOADER_OPTIONS.oneofs).
          if (event.line !== undefined) writeErr(`server: ${event.line}\n`);
          else stored = event.bundle ?? null;
        });
        call.on('error', (error: grpc.ServiceError) => fail(new ControlError(error.code, error.details)));
        call.on('end', () =>
          stored === null
            ? fail(new ControlError(grpc.status.INTERNAL, 'the build ended without a bundle'))
            : done(stored),
        );
      }),
  );
  print(o.json, info, () => [
    `built and stored ${info.name} as ${info.digest}; predicted on every host with an inventory`,
    ...describe(info),
  ]);
  return 0;
}

export async function bundlesAdd(archive: string, o: ControlOptions): Promise<number> {
  const info = await withControl(o.control, (c) => uploadBundle(c, archive));
  print(o.json, info, () => [
    `stored ${info.name} as ${info.digest}; predicted on every host with an inventory`,
    ...describe(info),
  ]);
  return 0;
}

export async function bundlesList(o: ControlOptions): Promise<number> {
  const { bundles } = await withControl(o.control, (c) => c.call('ListBundles', {}));
  print(o.json, bundles, () =>
    bundles.length === 0
      ? ['no bundles (pyrelo bundles add ARCHIVE)']
      : table([
          ['NAME', 'DIGEST', 'LIBC', 'GLIBC FLOOR', 'SIZE', 'ADDED'],
          ...bundles.map((b) => [
            b.name,
            b.digest.slice(0, 12),
            b.libc,
            b.glibcFloor || '-',
            String(b.size),
            b.addedAt,
          ]),
        ]),
  );
  return 0;
}

export async function bundlesShow(bundle: string, o: ControlOptions): Promise<number> {
  const info = await withControl(o.control, (c) => c.call('ShowBundle', { bundle }));
  print(o.json, info, () => describe(info));
  return 0;
}
