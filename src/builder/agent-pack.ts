// `pyrelo agent pack`: a relocatable agent for hosts with no Node.js, no Python and an old glibc
// (or none). Layout, like a `--libc bundle` bundle:
//   bin/pyrelo-agent          sh launcher: the bundled loader starts libexec/node agent.mjs agent ARGS
//   libexec/node              this machine's node (process.execPath), debug info and symbol table stripped
//   lib/                      the libraries node needs that are not glibc (libstdc++, libgcc_s)
//   lib/pyrelo-glibc/         glibc's loader and libraries (bundleGlibc)
//   agent.mjs                 src/agent/main.ts and its dependencies in one file (esbuild)
//   proto/pyrelo/v1/*.proto   read at run time by @grpc/proto-loader (found up the tree from agent.mjs)
//   data/                     loader defaults, graft policy (found up the tree from agent.mjs, too)
//   agent-pack.json           what was packed: versions, and every file's size, mode and sha256
// Nothing is exported to children: the loader gets --library-path, not LD_LIBRARY_PATH.

import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { checkFile } from '../loader/check.js';
import { buildHostConfig, buildHostView } from './build-host.js';
import { bundleGlibc, GLIBC_DIR, LIBEXEC_DIR } from './libc-bundle.js';
import { loadGraftPolicy } from './graft-policy.js';
import { listBundleFiles } from '../bundle/file-list.js';
import { BuildInputError } from './errors.js';
import { pyreloVersion } from '../common/version.js';

export const AGENT_LAUNCHER = 'bin/pyrelo-agent';
export const AGENT_SCRIPT = 'agent.mjs';
export const AGENT_PACK_MANIFEST = 'agent-pack.json';

/** glibc libraries node does not link but libc opens at run time (host names: /etc/hosts, DNS). */
const RUNTIME_GLIBC = new Set(['libnss_files.so.2', 'libnss_dns.so.2', 'libresolv.so.2']);

/** dist/src/builder → dist/src/agent/main.js (the compiled agent entry). */
const HERE = dirname(fileURLToPath(import.meta.url));

export interface AgentPackResult {
  readonly dir: string;
  /** Bytes of every file of the pack as installed. */
  readonly installedBytes: number;
  readonly files: number;
  readonly libraries: readonly string[];
  /** The glibc files in lib/pyrelo-glibc, and the folder they were copied from. */
  readonly glibc: readonly string[];
  readonly glibcFrom: string;
}

/** The launcher: finds its folder without realpath (old coreutils lack it), runs node through the bundled loader. */
export function agentLauncher(loaderName: string): string {
  /* eslint-disable max-len -- an embedded program, kept line for line as it runs */
  return `#!/bin/sh
# The pyrelo agent (pyrelo agent pack): this bundle's node, started by this bundle's glibc loader.
# Nothing is exported: child processes use the host's own loader and libraries.
self=$(realpath "$0" 2>/dev/null) || self=$(readlink -f "$0" 2>/dev/null) || self=$0
case $self in */*) here=\${self%/*} ;; *) here=. ;; esac
top=$(cd -- "$here/.." && pwd -P) || exit 127
exec "$top/${GLIBC_DIR}/${loaderName}" --inhibit-cache --library-path "$top/${GLIBC_DIR}:$top/lib" --argv0 "$0" "$top/${LIBEXEC_DIR}/node" "$top/${AGENT_SCRIPT}" agent "$@"
`;
  /* eslint-enable max-len */
}

function projectFile(...parts: string[]): string {
  for (let dir = HERE; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ...parts))) return join(dir, ...parts);
    if (dir === dirname(dir)) throw new Error(`pyrelo agent pack: ${parts.join('/')} not found above ${HERE}`);
  }
}

/** Bundles the agent entry into one ESM file; fails if a native module (better-sqlite3) got in. */
export async function bundleAgentScript(outfile: string): Promise<void> {
  const entry = join(HERE, '..', 'agent', 'main.js');
  // A dependency (not a devDependency): deploy packs the agent on the fly, also from an installed pyrelo.
  const esbuild = await import('esbuild').catch(() => {
    throw new BuildInputError(
      'esbuild',
      'not installed; pyrelo agent pack bundles the agent with it (npm install esbuild)',
    );
  });
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Not minified: it would save 0.7 MB next to node's 96 MB and make every stack trace one line.
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    // The packed file has no package.json beside it: its version is the packing pyrelo's (common/version.ts).
    define: { PYRELO_PACKED_VERSION: JSON.stringify(pyreloVersion()) },
    // CommonJS dependencies (commander, grpc-js, pino) call require(): give the ES module one.
    banner: {
      js:
        "import { createRequire as __pyreloCreateRequire } from 'node:module'; const require = " +
        '__pyreloCreateRequire(import.meta.url);',
    },
  });
  const native = Object.keys(result.metafile.inputs).filter((input) => /better-sqlite3|\.node$/.test(input));
  if (native.length > 0) throw new Error(`the agent imports native code that cannot be packed: ${native.join(', ')}`);
  // Reproducible bytes do not depend on the file's time; mode 0644 like every other data file.
  chmodSync(outfile, 0o644);
}

async function stripDebug(path: string): Promise<void> {
  await execa('strip', ['--strip-debug', path]);
}

/** Builds the agent pack in the empty or missing folder `dir`. */
export async function packAgent(dir: string): Promise<AgentPackResult> {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'lib'), { recursive: true });
  await bundleAgentScript(join(dir, AGENT_SCRIPT));
  cpSync(projectFile('proto', 'pyrelo'), join(dir, 'proto', 'pyrelo'), {
    recursive: true,
    filter: (src) => statSync(src).isDirectory() || src.endsWith('.proto'),
  });
  // Loader defaults, graft policy and the other data files the agent's code finds up the tree (32 kB).
  cpSync(projectFile('data'), join(dir, 'data'), { recursive: true });

  const node = realpathSync(process.execPath);
  const staged = join(dir, 'bin', 'node');
  copyFileSync(node, staged);
  chmodSync(staged, 0o755);
  await stripDebug(staged);
  // Then its symbol table too (10 MB): only profilers read it; addons bind through .dynsym, which stays.
  await execa('strip', ['--strip-all', staged]);

  const policy = loadGraftPolicy();
  const hostConfig = buildHostConfig();
  const report = checkFile(buildHostView(hostConfig), node, {});
  if (!report.loads)
    throw new Error(`${node} does not load on this host: ${report.problems.map((p) => p.message).join('; ')}`);
  const libraries: string[] = [];
  for (const object of report.objects) {
    if (object.foundBy === 'main' || object.foundBy === 'interpreter' || object.path === null) continue;
    const soname = object.object?.soname ?? object.name;
    if (policy.assumed(soname) || policy.assumed(object.name)) continue;
    const target = join(dir, 'lib', soname);
    copyFileSync(realpathSync(object.path), target);
    chmodSync(target, 0o644);
    await stripDebug(target);
    libraries.push(soname);
  }

  // A fresh view: files were copied into the staged tree since the one above answered.
  const glibc = bundleGlibc(dir, 'bin/node', buildHostView(hostConfig), policy);
  const libc = report.objects.find((o) => o.name === 'libc.so.6')?.path;
  const glibcFrom = libc ? dirname(realpathSync(libc)) : '?';
  // Of glibc, keep what node loads, and the NSS modules (and libresolv) libc opens for getaddrinfo.
  const loaded = new Set(report.objects.map((o) => o.object?.soname ?? o.name));
  const keep = (name: string): boolean => loaded.has(name) || name.startsWith('ld-linux') || RUNTIME_GLIBC.has(name);
  const glibcFiles: string[] = [];
  for (const name of readdirSync(join(dir, GLIBC_DIR)).sort()) {
    if (!keep(name)) {
      rmSync(join(dir, GLIBC_DIR, name));
      continue;
    }
    await stripDebug(join(dir, GLIBC_DIR, name));
    glibcFiles.push(name);
  }
  rmSync(staged);
  const loaderName = glibc.loader.slice(glibc.loader.lastIndexOf('/') + 1);
  writeFileSync(join(dir, AGENT_LAUNCHER), agentLauncher(loaderName));
  chmodSync(join(dir, AGENT_LAUNCHER), 0o755);

  const files = listBundleFiles(dir).filter((f) => f.path !== AGENT_PACK_MANIFEST);
  const manifest = {
    format: 'pyrelo-agent-pack/1',
    node: process.version,
    launcher: AGENT_LAUNCHER,
    libraries,
    glibc: glibcFiles,
    files,
  };
  writeFileSync(join(dir, AGENT_PACK_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
  const installedBytes =
    files.reduce((sum, f) => sum + (f.size ?? 0), 0) + statSync(join(dir, AGENT_PACK_MANIFEST)).size;
  return { dir, installedBytes, files: files.length + 1, libraries, glibc: glibcFiles, glibcFrom };
}
