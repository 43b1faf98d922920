// `pyrelo unpack ARCHIVE DIR [--force]`: a packed bundle into a folder, the way an agent installs
// one: every entry checked (no `..`, absolute paths, links out, devices, hard links), every file
// against the manifest's sha256, all in a temporary folder renamed into place at the end. What the
// self-extracting `.run` does with sh and tar, for hosts that have pyrelo.

import { resolve } from 'node:path';
import { extractArchive } from '../../bundle/extract.js';

export interface UnpackOptions {
  readonly force?: boolean;
  readonly json?: boolean;
}

export async function runUnpack(archive: string, destination: string, o: UnpackOptions): Promise<number> {
  const target = resolve(destination);
  const manifest = await extractArchive(resolve(archive), target, { force: o.force === true });
  const summary = {
    destination: target,
    bundle: manifest?.name ?? null,
    python: manifest?.python.version ?? null,
    files: manifest?.files.length ?? null,
    bytes: manifest?.files.reduce((sum, f) => sum + (f.size ?? 0), 0) ?? null,
    commands: manifest === null ? [] : Object.keys(manifest.entryPoints).map((name) => `bin/${name}`),
  };
  if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (manifest === null)
    process.stdout.write(
      `unpacked ${archive} into ${target} (no pyrelo.json: not a bundle, nothing verified beyond the entries)\n`,
    );
  else {
    process.stdout.write(
      `unpacked ${manifest.name} (Python ${manifest.python.version}) into ${target}: ${summary.files} files, ` +
        `${((summary.bytes ?? 0) / 1e6).toFixed(1)} MB, every sha256 checked\n`,
    );
    if (summary.commands.length > 0)
      process.stdout.write(`commands: ${summary.commands.map((c) => `${target}/${c}`).join(' ')}\n`);
  }
  return 0;
}
