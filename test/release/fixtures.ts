// Small real bundles for the release tests: a folder with a shell "interpreter", a smoke command
// that fails unless it is started from the release's real path P/releases/<id> (the installer must
// run it there), data files,
// a symlink, the manifest listing them, packed as a reproducible .tar.gz.

import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { listBundleFiles } from '../../src/bundle/file-list.js';
import { readManifest, writeManifest, type Manifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import { releaseIdFor } from '../../src/release/layout.js';
import { sampleManifest } from '../bundle/sample-manifest.js';

export const MAIN = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

export interface FakeBundle {
  readonly dir: string;
  readonly archive: string;
  readonly digest: string;
  readonly manifestSha256: string;
  readonly manifest: Manifest;
  readonly id: string;
}

export interface FakeBundleOptions {
  readonly name?: string;
  /** Written to share/version.txt, printed by the smoke command. */
  readonly version: string;
  readonly smokeExit?: number;
  /** Extra files (path -> content); `null` leaves out one of the defaults. */
  readonly files?: Readonly<Record<string, string | Buffer | null>>;
  /** Seconds the smoke command sleeps (for kill tests). */
  readonly smokeSleep?: number;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function fakeBundle(work: string, o: FakeBundleOptions): Promise<FakeBundle> {
  const name = o.name ?? 'hello';
  const dir = join(work, `src-${name}-${o.version}`);
  const files: Record<string, string | Buffer | null> = {
    'bin/python3.11': '#!/bin/sh\necho "Python 3.11.7"\n',
    'share/version.txt': `${o.version}\n`,
    'lib/python3.11/os.py': '# the same in every version\n'.repeat(50),
    'lib/python3.11/site-packages/app/__init__.py': `VERSION = ${JSON.stringify(o.version)}\n`,
    ...o.files,
  };
  for (const [path, content] of Object.entries(files)) {
    if (content === null) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  chmodSync(join(dir, 'bin/python3.11'), 0o755);
  symlinkSync('python3.11', join(dir, 'bin/python3'));
  // Relocation exercised: the installer must run the smoke command from the release's real path
  // (P/releases/<id>), never through P/current (README "Release prefixes must be private").
  writeFileSync(
    join(dir, 'bin/smoke'),
    [
      '#!/bin/sh',
      'case "$0" in */releases/*/bin/smoke) ;; *) echo "not started from the release\'s real path: $0"; exit 3;; esac',
      `sleep ${o.smokeSleep ?? 0}`,
      'cat "$(dirname "$0")/../share/version.txt"',
      `exit ${o.smokeExit ?? 0}`,
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'bin/smoke'), 0o755);
  writeManifest(dir, {
    ...sampleManifest(),
    name,
    grafted: [],
    elf: [],
    smoke: ['bin/smoke'],
    files: listBundleFiles(dir),
  });
  const archive = join(work, `${name}-${o.version}.tar.gz`);
  await packBundle(dir, archive);
  const digest = sha256(readFileSync(archive));
  return {
    dir,
    archive,
    digest,
    manifestSha256: sha256(readFileSync(join(dir, 'pyrelo.json'))),
    manifest: readManifest(dir),
    id: releaseIdFor(name, digest),
  };
}

/** Copies an archive into P/.pyrelo/incoming under its sha256, as the client uploads it. */
export function upload(prefix: string, archive: string): { path: string; sha256: string } {
  const digest = sha256(readFileSync(archive));
  const path = join(prefix, '.pyrelo', 'incoming', `${digest}.tar.gz`);
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(archive, path);
  return { path, sha256: digest };
}

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly json: unknown;
}

/** `pyrelo agent release …` as a real process. */
export async function release(args: readonly string[]): Promise<CliResult> {
  const r = await execa('node', [MAIN, 'agent', 'release', ...args], { reject: false });
  let json: unknown = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // not JSON (an error, or readable output)
  }
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

export function installArgs(
  prefix: string,
  bundle: FakeBundle,
  archive?: { path: string; sha256: string },
  extra: readonly string[] = [],
): string[] {
  return [
    'install',
    '--prefix',
    prefix,
    '--bundle-digest',
    bundle.digest,
    '--manifest-sha256',
    bundle.manifestSha256,
    ...(archive ? ['--archive', archive.path, '--sha256', archive.sha256] : []),
    ...extra,
    '--json',
  ];
}

/** Every path under `root` (not following links): type, mode, and content hash or link target. */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (relative: string): void => {
    const absolute = relative === '' ? root : join(root, relative);
    const stat = lstatSync(absolute);
    const mode = (stat.mode & 0o7777).toString(8);
    if (stat.isSymbolicLink()) out.set(relative, `link ${mode} ${readlinkSync(absolute)}`);
    else if (stat.isFile()) out.set(relative, `file ${mode} ${sha256(readFileSync(absolute))}`);
    else if (stat.isDirectory()) {
      out.set(relative, `dir ${mode}`);
      for (const name of readdirSync(absolute).sort()) walk(relative === '' ? name : `${relative}/${name}`);
    } else out.set(relative, `other ${stat.mode.toString(8)}`);
  };
  walk('');
  return out;
}
