// What a bundle may still hold of its build host besides absolute RUNPATHs (bundle-rules.ts): the
// places where a build path survives a careless build and breaks on a target, each found without
// knowing the build host's paths:
// - a script in bin/ whose shebang (or pip's `'''exec' "/path/python"` form) runs a Python by
//   absolute path: on a target that path is missing, or is another Python (the silent case);
// - a .pth file in site-packages adding an absolute folder: the build host's, or nothing;
// - _sysconfigdata*.py with a literal absolute prefix other than the system's (/usr): sysconfig,
//   pip and build tools then point at the build host (pyrelo build computes it instead);
// - direct_url.json naming a file:// URL (a local project of the build host).
// pyrelo build's own bundles have none (its scrub step and final check make sure); this is how
// `pyrelo check` and the compatibility service say so of any bundle.

import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

export interface Leftover {
  /** Relative to the bundle root. */
  readonly file: string;
  readonly message: string;
}

/** Prefixes of a Python that is part of the system: they name the target's system as well. */
const SYSTEM_PREFIXES = ['/usr', '/usr/local', '/'];

const PYTHON_BY_PATH = /^(\/\S*\/python[0-9.]*)(\s|$)/;

/** The absolute Python a script's first lines run, or null. */
function scriptInterpreter(text: string): string | null {
  const lines = text.split('\n', 3);
  if (lines[0] === '#!/bin/sh' && (lines[1] ?? '').startsWith("'''exec' ")) {
    // pip's form for long paths: #!/bin/sh, then '''exec' "/abs/python" "$0" "$@", then ' '''
    const exec = /^'''exec' (?:"(\/[^"]*\/python[0-9.]*)"|(\/\S*\/python[0-9.]*)) /.exec(lines[1]!);
    return exec?.[1] ?? exec?.[2] ?? null;
  }
  if (!lines[0]!.startsWith('#!')) return null;
  return PYTHON_BY_PATH.exec(lines[0]!.slice(2).trim())?.[1] ?? null;
}

/**
 * The first bytes of a file: bin/ may hold the interpreter (Debian's is 6.8 MB), and this runs for
 * every prediction.
 */
function readHead(path: string, bytes = 4096): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0)).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** lib/python3.x/site-packages, and Debian's lib/python3/dist-packages (see site-layout.ts). */
function sitePackagesDirs(root: string): string[] {
  const lib = join(root, 'lib');
  if (!existsSync(lib)) return [];
  const found = readdirSync(lib)
    .filter((n) => /^python3\.\d+$/.test(n))
    .map((n) => `lib/${n}/site-packages`);
  found.push('lib/python3/dist-packages');
  return found.filter((dir) => existsSync(join(root, dir)));
}

export function buildHostLeftovers(root: string): Leftover[] {
  const out: Leftover[] = [];
  const bin = join(root, 'bin');
  if (existsSync(bin)) {
    for (const name of readdirSync(bin).sort()) {
      const path = join(bin, name);
      if (!lstatSync(path).isFile()) continue;
      const python = scriptInterpreter(readHead(path));
      if (python !== null) {
        out.push({
          file: `bin/${name}`,
          message:
            `bin/${name}: its shebang runs ${python}, a Python outside the bundle (a build-host path: on a ` +
            'target it is missing, or another Python runs the script)',
        });
      }
    }
  }
  for (const site of sitePackagesDirs(root)) {
    for (const name of readdirSync(join(root, site)).sort()) {
      const rel = `${site}/${name}`;
      if (name.endsWith('.pth') && lstatSync(join(root, rel)).isFile()) {
        for (const line of readFileSync(join(root, rel), 'utf8')
          .split('\n')
          .map((l) => l.trim())) {
          if (line.startsWith('/'))
            out.push({ file: rel, message: `${rel}: adds ${line} to sys.path, an absolute folder of the build host` });
        }
      }
      if (name.endsWith('.dist-info') && existsSync(join(root, rel, 'direct_url.json'))) {
        const text = readFileSync(join(root, rel, 'direct_url.json'), 'utf8');
        const url = /"url"\s*:\s*"(file:[^"]*)"/.exec(text)?.[1];
        if (url !== undefined)
          out.push({
            file: `${rel}/direct_url.json`,
            message: `${rel}/direct_url.json: names ${url}, a folder of the build host`,
          });
      }
    }
  }
  const lib = join(root, 'lib');
  const stdlibs = existsSync(lib)
    ? readdirSync(lib)
        .filter((n) => /^python3\.\d+$/.test(n))
        .map((n) => join('lib', n))
    : [];
  for (const stdlib of stdlibs) {
    for (const name of readdirSync(join(root, stdlib))
      .filter((n) => n.startsWith('_sysconfigdata') && n.endsWith('.py'))
      .sort()) {
      const rel = `${stdlib}/${name}`;
      if (!lstatSync(join(root, rel)).isFile()) continue;
      const prefix = /^\s*'prefix'\s*:\s*'(\/[^']*)'/m.exec(readFileSync(join(root, rel), 'utf8'))?.[1];
      // /usr (Debian's python3.x) names the target's own system, where its headers and tools are.
      if (prefix !== undefined && !SYSTEM_PREFIXES.includes(prefix))
        out.push({
          file: rel,
          message: `${rel}: sysconfig's prefix is ${prefix}, the build host's (pip and build tools would look there)`,
        });
    }
  }
  return out;
}
