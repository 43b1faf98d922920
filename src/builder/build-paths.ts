// Step "scrub": no path of the build host stays in the bundle. Files Python reads are rewritten to
// compute the path at run time; files only a build host needs are removed; ELF files have the
// prefix string (getpath's compiled-in fallback, stale .dynstr text) defused in place: one byte
// changed, so it names no folder and no merged string tail changes (see defusedPath). The step ends
// with a scan of every file that fails
// the build if a build path is still there.

import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { walkBundle } from '../bundle/file-list.js';
import type { BasePython } from './base-python.js';
import { cleanEnv } from './install.js';
import { isSharedSystemPrefix } from './copy-prefix.js';

export class BuildPathLeftError extends Error {
  constructor(readonly hits: readonly string[]) {
    super(
      `build paths left in the bundle: ${hits.slice(0, 10).join(', ')}` +
        `${hits.length > 10 ? ` and ${hits.length - 10} more` : ''}`,
    );
    this.name = 'BuildPathLeftError';
  }
}

/**
 * The path with its first byte after the leading `/` changed: same length, still absolute, names
 * nothing. Only that byte changes because linkers merge string tails: libpython's PY_VERSION
 * "3.11.7" is the tail of its compiled-in prefix "/root/.pyenv/versions/3.11.7", so overwriting
 * the whole path would change sys.version (and break extension modules that check it). A merged
 * tail never starts at the second byte of a path.
 */
export function defusedPath(path: string): string {
  if (path.length < 2) return path;
  return `/${path[1] === '_' ? '-' : '_'}${path.slice(2)}`;
}

// argv: the file, the prefix, and the folder under it that is Python's own (the prefix itself, or
// for a prefix shared with the system, /usr, only the stdlib folder: /usr/include, /usr/bin/install
// or TZPATH's /usr/share/zoneinfo name the target's system, not the bundle).
const REWRITTEN_MARK = '# Rewritten by pyrelo build';
const REWRITE_SYSCONFIGDATA = `
import sys, pprint
path, prefix, owned = sys.argv[1], sys.argv[2], sys.argv[3]
scope = {}
exec(compile(open(path, encoding="utf-8").read(), path, "exec"), scope)
def expr(value):
    if isinstance(value, str) and owned in value:
        tail = owned[len(prefix):]
        parts = value.split(owned)
        return " + _PREFIX + ".join([repr(parts[0])] + [repr(tail + part) for part in parts[1:]])
    return repr(value)
lines = ["${REWRITTEN_MARK}: the build host's prefix is computed from this installation.",
         "import sys as _sys", "_PREFIX = _sys.base_prefix", "build_time_vars = {"]
for key in sorted(scope["build_time_vars"]):
    lines.append("    %r: %s," % (key, expr(scope["build_time_vars"][key])))
lines.append("}")
open(path, "w", encoding="utf-8").write("\\n".join(lines) + "\\n")
`;

function sitePackagesDirs(bundle: string, base: BasePython): string[] {
  const site = join(bundle, base.purelib);
  return existsSync(site) ? [site] : [];
}

function recordHash(bytes: Buffer): string {
  return `sha256=${createHash('sha256').update(bytes).digest('base64url')}`;
}

/**
 * RECORD lists files relative to site-packages with their hashes; files pyrelo changed (stripped,
 * patched, rewritten shebangs) get fresh hashes, removed ones (direct_url.json) are dropped.
 */
function rewriteRecords(site: string): number {
  let count = 0;
  for (const name of readdirSync(site)) {
    if (!name.endsWith('.dist-info')) continue;
    const direct = join(site, name, 'direct_url.json');
    if (existsSync(direct)) rmSync(direct); // names the wheel file on the build host
    const record = join(site, name, 'RECORD');
    if (!existsSync(record)) continue;
    const lines = readFileSync(record, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const out: string[] = [];
    for (const line of lines) {
      const match = /^(.*),([^,]*),([^,]*)$/.exec(line);
      if (match === null) {
        out.push(line);
        continue;
      }
      const field = match[1]!;
      const path = field.replace(/^"(.*)"$/, '$1').replace(/""/g, '"');
      if (path === `${name}/RECORD`) {
        out.push(`${field},,`);
        continue;
      }
      const absolute = join(site, path);
      if (!existsSync(absolute)) continue;
      if (lstatSync(absolute).isFile() && !path.includes('__pycache__')) {
        const bytes = readFileSync(absolute);
        out.push(`${field},${recordHash(bytes)},${bytes.length}`);
      } else out.push(line);
    }
    writeFileSync(record, `${out.join('\n')}\n`);
    count += 1;
  }
  return count;
}

/** .pth lines that name folders: made relative to site-packages when inside the bundle, else dropped. */
function rewritePth(site: string, bundle: string, buildPaths: readonly string[]): number {
  let changed = 0;
  for (const name of readdirSync(site)) {
    if (!name.endsWith('.pth')) continue;
    const path = join(site, name);
    const lines = readFileSync(path, 'utf8').split('\n');
    const kept = lines.flatMap((line) => {
      const hit = buildPaths.find((p) => line.includes(p));
      if (hit === undefined) return [line];
      if (line.startsWith('/') && line.startsWith(bundle)) return [relative(site, line)];
      return [];
    });
    if (kept.join('\n') !== lines.join('\n')) {
      writeFileSync(path, kept.join('\n'));
      changed += 1;
    }
  }
  return changed;
}

function rewritePkgConfig(bundle: string, prefix: string): number {
  const dir = join(bundle, 'lib', 'pkgconfig');
  if (!existsSync(dir)) return 0;
  let count = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!lstatSync(path).isFile()) continue;
    const text = readFileSync(path, 'utf8');
    // ${pcfiledir} is the folder of the .pc file: lib/pkgconfig, two levels under the prefix.
    const next = text.split(prefix).join('${pcfiledir}/../..');
    if (next !== text) {
      writeFileSync(path, next);
      count += 1;
    }
  }
  return count;
}

/** ELF files and ar archives of ELF objects (static libraries, kept with --no-slim). */
function isBinary(bytes: Buffer): boolean {
  const elf = bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  return elf || bytes.subarray(0, 8).toString('latin1') === '!<arch>\n';
}

/** Overwrites every occurrence of each path in an ELF file with a same-length placeholder. */
function scrubBinary(path: string, buildPaths: readonly string[]): boolean {
  const bytes = readFileSync(path);
  let changed = false;
  for (const buildPath of buildPaths) {
    const needle = Buffer.from(buildPath);
    const replacement = Buffer.from(defusedPath(buildPath));
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + needle.length)) {
      replacement.copy(bytes, at);
      changed = true;
    }
  }
  if (changed) writeFileSync(path, bytes);
  return changed;
}

export interface ScrubResult {
  readonly summary: string;
}

/**
 * _sysconfigdata: regenerated by the bundled interpreter so the values stay exactly Python's, with
 * the build host's prefix computed from the installation. Done once, in the base stage (a second
 * rewrite would read the first one's output, the staging prefix, back in). Returns the names.
 */
export async function rewriteSysconfigData(bundle: string, base: BasePython, home: string): Promise<string[]> {
  const stdlib = join(bundle, base.stdlib);
  const rewritten: string[] = [];
  // Only real files: Debian's _sysconfigdata__linux_x86_64-linux-gnu.py is a link to the other name.
  const owned = isSharedSystemPrefix(base.prefix) ? join(base.prefix, base.stdlib) : base.prefix;
  for (const name of readdirSync(stdlib)
    .filter((n) => n.startsWith('_sysconfigdata') && n.endsWith('.py'))
    .sort()) {
    const path = join(stdlib, name);
    if (!lstatSync(path).isFile() || readFileSync(path, 'utf8').startsWith(REWRITTEN_MARK)) continue;
    await execa(join(bundle, base.executable), ['-I', '-B', '-c', REWRITE_SYSCONFIGDATA, path, base.prefix, owned], {
      env: cleanEnv(home),
      extendEnv: false,
    });
    rewritten.push(name);
  }
  return rewritten;
}

export async function scrubBuildPaths(
  bundle: string,
  base: BasePython,
  buildPaths: readonly string[],
  home: string,
): Promise<ScrubResult> {
  const actions = (await rewriteSysconfigData(bundle, base, home)).map((name) => `rewrote ${name}`);
  const stdlib = join(bundle, base.stdlib);
  // Build-host tools: they only make sense where Python was built.
  const config = readdirSync(stdlib).find((n) => n.startsWith('config-'));
  for (const name of ['Makefile', 'python-config.py']) {
    if (config !== undefined && existsSync(join(stdlib, config, name))) {
      rmSync(join(stdlib, config, name));
      actions.push(`removed ${config}/${name}`);
    }
  }
  const pc = rewritePkgConfig(bundle, base.prefix);
  if (pc > 0) actions.push(`rewrote ${pc} .pc files`);
  for (const site of sitePackagesDirs(bundle, base)) {
    const pth = rewritePth(site, bundle, buildPaths);
    if (pth > 0) actions.push(`rewrote ${pth} .pth files`);
    const records = rewriteRecords(site);
    if (records > 0) actions.push(`refreshed ${records} RECORD files, removed direct_url.json`);
  }
  // Binaries and everything else: scan; binaries are overwritten in place, anything else fails.
  const hits: string[] = [];
  let binaries = 0;
  for (const rel of walkBundle(bundle).files) {
    const path = join(bundle, rel);
    if (!lstatSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    if (!buildPaths.some((p) => bytes.includes(p))) continue;
    if (isBinary(bytes)) {
      if (scrubBinary(path, buildPaths)) binaries += 1;
    } else hits.push(rel);
  }
  if (binaries > 0) actions.push(`defused the build prefix in ${binaries} binaries`);
  if (hits.length > 0) throw new BuildPathLeftError(hits);
  return { summary: actions.length === 0 ? 'no build paths found' : actions.join('; ') };
}

/** The final check, also used by tests: files (of any kind) still holding a build path. */
export function filesHoldingBuildPaths(bundle: string, buildPaths: readonly string[]): string[] {
  return walkBundle(bundle).files.filter((rel) => {
    const path = join(bundle, rel);
    if (!lstatSync(path).isFile()) return false;
    const bytes = readFileSync(path);
    return buildPaths.some((p) => bytes.includes(p));
  });
}
