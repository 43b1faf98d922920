// Fetching a bundle from the server in chunks. Bytes go to INCOMING/DIGEST.part as they arrive;
// a transfer that is interrupted (agent killed, connection lost) resumes from the size of that
// file. The whole file's sha256 must equal the digest before it is renamed into the archive folder.

import { sha256FileStreamed } from '../bundle/file-list.js';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleChunk, FetchRequest } from '../proto/messages.js';
import type { AgentHubClient } from '../proto/generated/pyrelo/v1/AgentHub.js';
import { UserInputError } from '../common/user-input-error.js';

export class TransferError extends UserInputError {
  constructor(
    readonly digest: string,
    detail: string,
  ) {
    super(`bundle ${digest.slice(0, 12)}`, detail);
    this.name = 'TransferError';
  }
}

export interface TransferProgress {
  /** Where the transfer started (0, or the size of a part kept from an interrupted one). */
  resumedAt: number;
  received: number;
}

/**
 * Returns the path of the complete archive. `progress` returning
 * false stops the transfer there (what a killed agent leaves behind, for tests).
 */
export async function fetchBundle(
  client: AgentHubClient,
  digest: string,
  incomingDir: string,
  archiveDir: string,
  progress?: (p: TransferProgress) => boolean | void,
): Promise<string> {
  const archive = join(archiveDir, digest);
  if (existsSync(archive)) return archive;
  const part = join(incomingDir, `${digest}.part`);
  const resumedAt = existsSync(part) ? statSync(part).size : 0;
  const fd = openSync(part, 'a', 0o600);
  let position = resumedAt;
  try {
    await new Promise<void>((resolve, reject) => {
      const request: FetchRequest = { digest, offset: resumedAt, chunkSize: 256 * 1024 };
      const call = client.FetchBundle(request);
      call.on('data', (chunk: BundleChunk) => {
        if (chunk.offset !== position) {
          call.cancel();
          reject(new TransferError(digest, `chunk at offset ${chunk.offset}, expected ${position}`));
          return;
        }
        writeSync(fd, chunk.data);
        position += chunk.data.length;
        if (progress?.({ resumedAt, received: position }) === false) {
          call.cancel();
          reject(new TransferError(digest, `interrupted at ${position} bytes`));
        }
      });
      call.on('error', (error) => reject(error));
      call.on('end', () => resolve());
    });
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const actual = await sha256FileStreamed(part);
  if (actual !== digest) {
    // A damaged part can never become right by appending: start over next time.
    rmSync(part, { force: true });
    throw new TransferError(digest, `sha256 of the received ${position} bytes is ${actual}`);
  }
  renameSync(part, archive);
  return archive;
}
