// docs/loader.md section 7.
// What open_verify() in glibc's elf/dl-load.c decides about a candidate file from its header:
// use it, skip it and keep searching, or stop loading with an error.

import {
  DF_1_PIE,
  ET_DYN,
  ET_EXEC,
  EV_CURRENT,
  ELFOSABI_SYSV,
  ELFOSABI_GNU,
  EM_X86_64,
  EM_AARCH64,
} from '../elf/constants.js';
import type { LoaderConfig } from './host-view.js';
import type { LoadableHeader, LoadableObject } from './loadable.js';
import { loadCommandError, loadCommandRulesFor } from './load-commands.js';

export type HeaderVerdict =
  | { readonly kind: 'usable' }
  /** Skipped silently; the search goes on. */
  | { readonly kind: 'wrong-class' }
  | { readonly kind: 'wrong-machine' }
  /** Loading stops at once with this message (the "lose" path of open_verify). */
  | { readonly kind: 'fatal'; readonly message: string };

/** VALID_ELF_ABIVERSION: the highest EI_ABIVERSION ld.so accepts for ELFOSABI_GNU objects. */
function maxAbiVersion(machine: number): number {
  if (machine === EM_X86_64) return 3;
  if (machine === EM_AARCH64) return 2;
  return 0;
}

/** The checks in the order open_verify() makes them, with its messages. */
export function verifyHeader(header: LoadableHeader, config: LoaderConfig): HeaderVerdict {
  if (header.elfClass !== config.elfClass) return { kind: 'wrong-class' };
  const expectedData = 'lsb';
  if (header.data !== expectedData) return { kind: 'fatal', message: 'ELF file data encoding not little-endian' };
  if (header.identVersion !== EV_CURRENT) {
    return { kind: 'fatal', message: 'ELF file version ident does not match current one' };
  }
  if (header.osabi !== ELFOSABI_SYSV && header.osabi !== ELFOSABI_GNU) {
    return { kind: 'fatal', message: 'ELF file OS ABI invalid' };
  }
  const abiOk =
    header.osabi === ELFOSABI_GNU ? header.abiversion <= maxAbiVersion(config.machine) : header.abiversion === 0;
  if (!abiOk) return { kind: 'fatal', message: 'ELF file ABI version invalid' };
  if (header.paddingNonZero) return { kind: 'fatal', message: 'nonzero padding in e_ident' };
  if (header.e_version !== EV_CURRENT) return { kind: 'fatal', message: 'ELF file version does not match current one' };
  if (header.e_machine !== config.machine) return { kind: 'wrong-machine' };
  if (header.e_type !== ET_DYN && header.e_type !== ET_EXEC) {
    return { kind: 'fatal', message: 'only ET_DYN and ET_EXEC can be loaded' };
  }
  const expectedPhentsize = config.elfClass === 64 ? 56 : 32;
  if (header.e_phentsize !== expectedPhentsize) {
    return { kind: 'fatal', message: "ELF file's phentsize not the expected size" };
  }
  return { kind: 'usable' };
}

/**
 * The checks _dl_map_object_from_fd() makes on a dependency after open_verify() accepted it, in
 * its order: the PT_LOAD headers (version-dependent, load-commands.ts; skipped for objects whose
 * segments are not known, i.e. read from an inventory), an executable, no dynamic section, a PIE.
 * ld.so names the object in the error by the name it was asked for, not by its path.
 */
export function verifyDependency(
  header: LoadableHeader,
  object: Pick<LoadableObject, 'flags1' | 'loadSegments'>,
  config: Pick<LoaderConfig, 'glibcVersion' | 'elfClass' | 'pageSize'>,
): string | null {
  if (object.loadSegments !== undefined) {
    const rules = loadCommandRulesFor(config.glibcVersion);
    const error = loadCommandError(object.loadSegments, rules, config.elfClass, config.pageSize);
    if (error !== null) return error;
  }
  if (header.e_type === ET_EXEC) return 'cannot dynamically load executable';
  if (!header.hasDynamic) return 'object file has no dynamic section';
  if ((object.flags1 & DF_1_PIE) !== 0) return 'cannot dynamically load position-independent executable';
  return null;
}
