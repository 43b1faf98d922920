// The ELF files of a bundle and what each needs, read with pyrelo's own ELF reader.

import { relative } from 'node:path';
import { ElfFile } from '../elf/elf-file.js';
import { findElfFiles } from '../elf/find-elf-files.js';
import type { ElfNeeds } from '../bundle/manifest.js';
import { loadSegmentsOf } from '../loader/load-commands.js';
import { segmentProblems } from './elf-layout.js';

export interface BundleElf {
  /** Absolute path in the staging folder. */
  readonly path: string;
  /** Relative to the bundle root. */
  readonly rel: string;
  readonly needed: readonly string[];
  readonly soname: string | null;
  readonly runpath: string | null;
  readonly rpath: string | null;
  /** ET_DYN or ET_EXEC with a dynamic section; static files have none of this. */
  readonly dynamic: boolean;
  /** What some glibc's ld.so would refuse about its LOAD segments (segmentProblems); empty when all map it. */
  readonly loadProblems: readonly string[];
}

export function readBundleElf(bundle: string, path: string): BundleElf {
  const elf = ElfFile.open(path);
  try {
    const dynamic = elf.dynamic();
    return {
      path,
      rel: relative(bundle, path),
      needed: dynamic?.needed ?? [],
      soname: dynamic?.soname ?? null,
      runpath: dynamic?.runpath ?? null,
      rpath: dynamic?.rpath ?? null,
      dynamic: dynamic !== null,
      loadProblems: segmentProblems(loadSegmentsOf(elf), elf.header.e_ident.class),
    };
  } finally {
    elf.close();
  }
}

export function listBundleElves(bundle: string): BundleElf[] {
  return findElfFiles([bundle]).map((path) => readBundleElf(bundle, path));
}

/** The manifest's record of one ELF: needs, symbol versions per provider, RUNPATH. */
export function describeNeeds(bundle: string, path: string): ElfNeeds {
  const elf = ElfFile.open(path);
  try {
    const dynamic = elf.dynamic();
    const versions: Record<string, string[]> = {};
    for (const need of elf.versionNeeds()) versions[need.vn_file] = need.aux.map((a) => a.vna_name).sort();
    return {
      path: relative(bundle, path),
      needed: [...(dynamic?.needed ?? [])],
      versions,
      runpath: dynamic?.runpath ?? null,
    };
  } finally {
    elf.close();
  }
}
