// What the build needs to know about the base interpreter, asked from the interpreter itself.

import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ElfFile } from '../elf/elf-file.js';
import { execa } from 'execa';
import { BuildInputError } from './errors.js';

export interface BasePython {
  /** sys.base_prefix, real path: the folder copied into the bundle. */
  readonly prefix: string;
  /** "3.11.7" */
  readonly version: string;
  /** "3.11" */
  readonly short: string;
  /** The interpreter relative to the prefix, e.g. bin/python3.11. */
  readonly executable: string;
  /** The stdlib relative to the prefix, e.g. lib/python3.11. */
  readonly stdlib: string;
  /**
   * site-packages relative to the prefix, in the install scheme the bundle uses (`scheme`): the
   * base's own, except Debian's posix_local, which becomes deb_system (see site-layout.ts).
   */
  readonly purelib: string;
  /** That scheme's name (sysconfig); undefined means the interpreter's preferred 'prefix' scheme. */
  readonly scheme?: string;
  /** LDLIBRARY (libpython3.11.so) when the build is shared, else null. */
  readonly sharedLibrary: string | null;
  /** Where that library lies, relative to the prefix, when the interpreter really loads it. */
  readonly sharedLibraryPath: string | null;
  readonly multiarch: string;
}

/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
const PROBE = `
import json, sys, sysconfig, os
scheme = sysconfig.get_preferred_scheme("prefix")
# Debian's: PREFIX/local, which its site adds but a bundle should not use (see site-layout.ts).
if scheme == "posix_local" and "deb_system" in sysconfig.get_scheme_names():
    scheme = "deb_system"
print(json.dumps({
  "base_prefix": sys.base_prefix, "prefix": sys.prefix, "version": "%d.%d.%d" % sys.version_info[:3],
  "short": "%d.%d" % sys.version_info[:2], "executable": os.path.realpath(sys.executable),
  "stdlib": sysconfig.get_path("stdlib", vars={"installed_base": sys.base_prefix, "base": sys.base_prefix}),
  "purelib": sysconfig.get_path("purelib", scheme, vars={"base": sys.base_prefix, "installed_base": sys.base_prefix}), "scheme": scheme,
  "shared": sysconfig.get_config_var("Py_ENABLE_SHARED"), "ldlibrary": sysconfig.get_config_var("LDLIBRARY"),
  "multiarch": sysconfig.get_config_var("MULTIARCH") or "", "implementation": sys.implementation.name,
  "libdir": sysconfig.get_config_var("LIBDIR") or "",
}))
`;
/* eslint-enable max-len */

/**
 * Debian builds libpython3.x.so but links its interpreter statically: only a library the
 * interpreter names in DT_NEEDED is part of the base.
 */
function sharedLibraryPath(
  prefix: string,
  executable: string,
  info: Record<string, string | number | null>,
): string | null {
  if (info.shared !== 1 || typeof info.ldlibrary !== 'string' || typeof info.libdir !== 'string') return null;
  const elf = ElfFile.open(executable);
  try {
    const needed = elf.dynamic()?.needed ?? [];
    if (!needed.some((n) => n.startsWith(String(info.ldlibrary)))) return null;
  } finally {
    elf.close();
  }
  const path = join(String(info.libdir), String(info.ldlibrary));
  return existsSync(path) && realpathSync(path).startsWith(`${prefix}/`) ? relative(prefix, path) : null;
}

const WAYS_OUT =
  'give the path to a CPython interpreter (such as /opt/python/3.11/bin/python3.11, or a command on PATH such ' +
  'as python3.11),' +
  ' a version number to compile (such as 3.13), or compile one from a source tarball with --python-source TARBALL';

/**
 * --python names something that cannot be started: say what it is and the ways out, instead of
 * the spawn error (`--python python3.99` would otherwise print "spawn python3.99 ENOENT").
 */
function notAnInterpreter(python: string, code: string | undefined): BuildInputError | null {
  const stat = statSync(python, { throwIfNoEntry: false });
  if (stat?.isDirectory() === true) {
    const bin = join(python, 'bin');
    const found = existsSync(bin)
      ? readdirSync(bin)
          .filter((n) => /^python3\.\d+$/.test(n))
          .sort()
      : [];
    return new BuildInputError(
      `--python ${python}`,
      'is a folder, not an interpreter; ' +
        `${found.length > 0 ? `its interpreter is ${join(bin, found[0]!)}; ` : ''}${WAYS_OUT}`,
    );
  }
  if (code === 'ENOENT') {
    const what = python.includes('/') ? 'no such file' : 'no such file, nor a command of that name on PATH';
    return new BuildInputError(`--python ${python}`, `not an interpreter (${what}); ${WAYS_OUT}`);
  }
  if (code === 'EACCES')
    return new BuildInputError(`--python ${python}`, `not an interpreter (not executable); ${WAYS_OUT}`);
  return null;
}

export async function inspectBasePython(python: string): Promise<BasePython> {
  const result = await execa(python, ['-I', '-c', PROBE], { reject: false });
  const refused =
    result.failed && result.exitCode === undefined
      ? notAnInterpreter(python, (result as { code?: string }).code)
      : null;
  if (refused !== null) throw refused;
  if (result.exitCode !== 0 || result.failed)
    throw new BuildInputError(`--python ${python}`, `cannot run it (${result.stderr.trim() || result.shortMessage})`);
  const info = JSON.parse(result.stdout) as Record<string, string | number | null>;
  if (info.implementation !== 'cpython')
    throw new BuildInputError(`--python ${python}`, `not CPython (${info.implementation})`);
  if (info.prefix !== info.base_prefix)
    throw new BuildInputError(
      `--python ${python}`,
      `is inside a virtual environment; give the base interpreter (${info.base_prefix})`,
    );
  const prefix = realpathSync(String(info.base_prefix));
  const executable = String(info.executable);
  if (!executable.startsWith(`${prefix}/`))
    throw new BuildInputError(`--python ${python}`, `the interpreter ${executable} is not inside its prefix ${prefix}`);
  if (dirname(executable) !== `${prefix}/bin`)
    throw new BuildInputError(`--python ${python}`, `expected the interpreter in ${prefix}/bin`);
  return {
    prefix,
    version: String(info.version),
    short: String(info.short),
    executable: relative(prefix, executable),
    stdlib: relative(prefix, realpathSync(String(info.stdlib))),
    purelib: relative(prefix, String(info.purelib)),
    scheme: String(info.scheme),
    sharedLibrary: info.shared === 1 ? String(info.ldlibrary) : null,
    sharedLibraryPath: sharedLibraryPath(prefix, executable, info),
    multiarch: String(info.multiarch),
  };
}
