// `pyrelo bundles add|list|show`: packed bundles in the server's store.

import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { BundleChunk, BundleInfo, BundleList } from '../../proto/types.js';
import { ControlError, withControl, type ControlClient } from '../control-client.js';
import { InputError } from '../../elf/find-elf-files.js';
import { table, type ControlOptions } from './hosts.js';

function print(json: boolean | undefined, value: unknown, lines: () => string[]): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${lines().join('\n')}\n`);
}

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
    const call = (c.client as unknown as { AddBundle(cb: (e: grpc.ServiceError | null, v: BundleInfo) => void): grpc.ClientWritableStream<BundleChunk> })
      .AddBundle((error, value) => (error === null ? resolve(value) : reject(new ControlError(error.code, error.details))));
    let offset = 0;
    const stream = createReadStream(archive, { highWaterMark: 1024 * 1024 });
    stream.on('data', (data) => {
      const chunk: BundleChunk = { digest: '', offset, totalSize: stat.size, data: data as Buffer, name: offset === 0 ? basename(archive) : '' };
      offset += (data as Buffer).length;
      if (!call.write(chunk)) { stream.pause(); call.once('drain', () => stream.resume()); }
    });
    stream.on('end', () => call.end());
    stream.on('error', (error) => { call.cancel(); reject(error); });
  });
}

export async function bundlesAdd(archive: string, o: ControlOptions): Promise<number> {
  const info = await withControl(o.control, (c) => uploadBundle(c, archive));
  print(o.json, info, () => [`stored ${info.name} as ${info.digest}; predicted on every host with an inventory`, ...describe(info)]);
  return 0;
}

export async function bundlesList(o: ControlOptions): Promise<number> {
  const { bundles } = await withControl(o.control, (c) => c.call<BundleList>('ListBundles', {}));
  print(o.json, bundles, () => bundles.length === 0 ? ['no bundles (pyrelo bundles add ARCHIVE)'] : table([
    ['NAME', 'DIGEST', 'LIBC', 'GLIBC FLOOR', 'SIZE', 'ADDED'],
    ...bundles.map((b) => [b.name, b.digest.slice(0, 12), b.libc, b.glibcFloor || '-', String(b.size), b.addedAt]),
  ]));
  return 0;
}

export async function bundlesShow(bundle: string, o: ControlOptions): Promise<number> {
  const info = await withControl(o.control, (c) => c.call<BundleInfo>('ShowBundle', { bundle }));
  print(o.json, info, () => describe(info));
  return 0;
}
