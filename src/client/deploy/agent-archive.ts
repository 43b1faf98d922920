// The packed agent that deploy brings to a host (src/builder/agent-pack.ts), as a .tar.gz cached on
// this machine. Its key is a hash of everything that goes into it: the agent script as esbuild
// bundles it, node's version and binary, and the proto and data files. The same key names the
// agent's folder on the host, so "missing or outdated" there is one `test -x`.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleAgentScript, packAgent } from '../../builder/agent-pack.js';
import { sha256File } from '../../bundle/file-list.js';
import { packBundle } from '../../bundle/pack.js';
import { packageFolder } from '../../common/package-files.js';

export interface AgentArchive {
  /** 16 hex digits naming this agent build, here and on hosts. */
  readonly key: string;
  readonly archive: string;
  readonly size: number;
  readonly sha256: string;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PYRELO_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pyrelo');
}

function hashTree(hash: ReturnType<typeof createHash>, dir: string, prefix = ''): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) hashTree(hash, path, `${prefix}${name}/`);
    else hash.update(`${prefix}${name}\0`).update(readFileSync(path)).update('\0');
  }
}

async function agentKey(): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'pyrelo-agent-key-'));
  try {
    const script = join(scratch, 'agent.mjs');
    await bundleAgentScript(script);
    const node = statSync(process.execPath);
    const hash = createHash('sha256')
      .update(readFileSync(script))
      .update(`\0node ${process.version} ${node.size} ${node.mtimeMs}\0`);
    hashTree(hash, packageFolder('proto'));
    hashTree(hash, packageFolder('data'));
    return hash.digest('hex').slice(0, 16);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The cached agent archive for this build of pyrelo, packed (10–15 s) when missing. */
export async function agentArchive(note: (line: string) => void = () => {}): Promise<AgentArchive> {
  const key = await agentKey();
  const folder = join(cacheDir(), 'agent');
  const archive = join(folder, `pyrelo-agent-${key}.tar.gz`);
  if (!existsSync(archive)) {
    note(`packing the agent (${key}) into ${archive}`);
    mkdirSync(folder, { recursive: true });
    const staging = mkdtempSync(join(folder, '.pack-'));
    try {
      await packAgent(staging);
      await packBundle(staging, archive); // under a temporary name, renamed when whole
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return { key, archive, size: statSync(archive).size, sha256: sha256File(archive) };
}
