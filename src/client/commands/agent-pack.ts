// `pyrelo agent pack -o OUTPUT`: the relocatable agent (src/builder/agent-pack.ts) as a folder or
// a reproducible archive (.tar.gz, .tar.xz, .tar.zst); its size and the time it took on stderr.

import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packAgent } from '../../builder/agent-pack.js';
import { packBundle } from '../../bundle/pack.js';
import { compressionFor } from '../../bundle/compression.js';
import { InputError } from '../../elf/find-elf-files.js';

export interface AgentPackOptions {
  readonly output: string;
  readonly clear?: boolean;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export async function runAgentPack(o: AgentPackOptions): Promise<number> {
  const output = resolve(o.output);
  const archive = compressionFor(output) !== null;
  if (output.endsWith('.run'))
    throw new InputError(o.output, 'the agent pack is a folder or an archive (.tar.gz, .tar.xz, .tar.zst)');
  if (existsSync(output)) {
    if (!o.clear && (archive || readdirSync(output).length > 0))
      throw new InputError(o.output, 'exists (--clear replaces it)');
    rmSync(output, { recursive: true, force: true });
  }
  const started = performance.now();
  const dir = archive ? mkdtempSync(join(dirname(output), '.pyrelo-agent-pack-')) : output;
  try {
    const result = await packAgent(dir);
    process.stderr.write(
      `agent: node ${process.version}, libraries ${result.libraries.join(' ') || '(none)'}; glibc from ` +
        `${result.glibcFrom}: ${result.glibc.join(' ')}\n`,
    );
    let line = `${o.output}: ${result.files} files, ${mb(result.installedBytes)} installed`;
    if (archive) {
      await packBundle(dir, output);
      line += `, ${mb(statSync(output).size)} compressed`;
    }
    process.stderr.write(`${line}, packed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    if (archive) rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
