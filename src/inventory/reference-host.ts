// A HostView made from a reference platform's facts (platform-catalog.ts) rather than from a host:
// its base libraries at the paths the platform's layout puts them, each defining the symbol
// versions the facts list, its loader, its glibc and its default kernel. The loader emulation runs
// over it unchanged, so a prediction from facts is made by the same rules as one from an
// inventory; what the facts cannot say (which symbol names a library defines) is taken as defined
// under any version the library defines (loadable.ts, symbolsUnknown). Such a prediction is
// labelled "predicted from reference" (README "Reference platforms").

import { posix } from 'node:path';
import { elfHash } from '../elf/hash-tables.js';
import { ET_DYN } from '../elf/constants.js';
import { LOADER_MACHINES } from './root-config.js';
import type { HostView, LoaderConfig, OpenOutcome } from '../loader/host-view.js';
import type { LoadableHeader, LoadableObject } from '../loader/loadable.js';
import { loaderDefaultsData } from './loader-defaults-data.js';
import type { ReferencePlatform } from './platform-catalog.js';
import { UserInputError } from '../common/user-input-error.js';

function headerFor(machine: number): LoadableHeader {
  return {
    elfClass: 64,
    data: 'lsb',
    identVersion: 1,
    osabi: 0,
    abiversion: 0,
    paddingNonZero: false,
    e_version: 1,
    e_type: ET_DYN,
    e_machine: machine,
    e_phentsize: 56,
    hasDynamic: true,
  };
}

function referenceObject(header: LoadableHeader, soname: string, versions: readonly string[]): LoadableObject {
  return {
    header,
    interpreter: null,
    needed: [],
    soname,
    rpath: null,
    runpath: null,
    flags: 0,
    flags1: 0,
    abiTag: null,
    x86IsaNeeded: { fromNotes: 0, withPropertySegment: 0 },
    versionDefinitions: [
      { name: soname, hash: elfHash(soname), base: true, index: 1 },
      ...versions.map((name, i) => ({ name, hash: elfHash(name), base: false, index: i + 2 })),
    ],
    versionNeeds: [],
    versions: [],
    hasVersym: versions.length > 0,
    hasSymbolHash: true,
    definitions: [],
    requirements: [],
    symbolsUnknown: true,
  };
}

function parseVersion(text: string | null, parts: number): number[] | null {
  if (text === null) return null;
  const numbers = text.split('.').map(Number);
  return Array.from({ length: parts }, (_, i) => numbers[i] ?? 0);
}

export class ReferenceHostView implements HostView {
  readonly config: LoaderConfig;
  readonly label: string;
  private readonly files = new Map<string, { identity: string; object: LoadableObject }>();

  /** `name`: what the user called it (rocky:9 for rhel:9's facts); the platform's own name by default. */
  constructor(
    readonly platform: ReferencePlatform,
    readonly arch: string,
    name = `${platform.name}${arch === platform.architectures[0] ? '' : `/${arch}`}`,
  ) {
    const defaults = loaderDefaultsData();
    const machine = LOADER_MACHINES[arch];
    const machineDefaults = defaults.machines[arch];
    if (machine === undefined || machineDefaults === undefined)
      throw new UserInputError(
        `${platform.name}/${arch}`,
        'no loader facts for this architecture',
        `${platform.name}/${arch}: reference predictions know x86_64 and aarch64 only`,
      );
    const layout = defaults.layouts[platform.layout]!; // validated against these when read (platform-catalog.ts)
    const expand = (s: string): string =>
      s.replace('{triplet}', machineDefaults.triplet).replace('{upstreamLib}', machineDefaults.upstreamLib);
    const systemDirs = layout.systemDirs.map((d) => expand(d).replace(/\/$/, ''));
    const glibc = platform.libc.kind === 'glibc' ? parseVersion(platform.libc.version, 2) : null;
    this.config = {
      machine,
      elfClass: 64,
      interpreter: machineDefaults.interpreter,
      systemDirs,
      libToken: expand(layout.libToken),
      platform: arch,
      hwcapsSubdirs: [],
      legacyHwcapsSubdirs: [],
      isaLevel: arch === 'x86_64' ? platform.x86IsaBaseline : 0,
      glibcVersion: glibc === null ? null : [glibc[0]!, glibc[1]!],
      kernelVersion: parseVersion(platform.kernel.release, 3) as [number, number, number],
      cache: null,
      procMounted: true,
      // The catalog has no page-size fact yet: 4 KiB, the most lenient (docs/loader.md "Page size").
      // RHEL's aarch64 kernels use 64 KiB pages, so a reference prediction there may say "runs"
      // for a library a real RHEL aarch64 host refuses; an inventory of such a host knows better.
      pageSize: 4096,
    };
    this.label = `${name} (predicted from reference)`;
    if (platform.libc.kind !== 'glibc') return; // a glibc program finds nothing of a musl or libc-less host
    const families = platform.symbolVersions?.byArch[arch];
    if (families === undefined)
      throw new UserInputError(platform.name, 'no symbol versions', `${platform.name}: no symbol versions for ${arch}`);
    const header = headerFor(machine);
    const add = (path: string, soname: string, versions: readonly string[]): void => {
      this.files.set(path, { identity: `reference:${soname}`, object: referenceObject(header, soname, versions) });
    };
    for (const { soname, families: own } of platform.baseLibraries)
      add(
        posix.join(systemDirs[0]!, soname),
        soname,
        own.flatMap((f) => families[f]),
      );
    // glibc's loader, at the path programs name and under its soname where libraries look for it.
    const loader = posix.basename(machineDefaults.interpreter);
    add(machineDefaults.interpreter, loader, families.GLIBC);
    add(posix.join(systemDirs[0]!, loader), loader, families.GLIBC);
  }

  open(path: string): OpenOutcome {
    const file = this.files.get(posix.normalize(path));
    if (file === undefined) return { kind: 'absent', errno: 'ENOENT' };
    return { kind: 'object', identity: file.identity, header: file.object.header, load: () => file.object };
  }
}
