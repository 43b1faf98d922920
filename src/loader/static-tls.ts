// The static TLS rule of a dlopen (docs/loader-model.md, "Static TLS"). At start-up ld.so places
// the TLS blocks of the program and its libraries in every thread's static TLS block
// (_dl_determine_tlsoffset) and sizes that block with a fixed surplus (data/static-tls.json). An
// object loaded later by dlopen whose code reaches its TLS with the initial-exec model (the linker
// marks it DF_STATIC_TLS) needs its block in that surplus: while ld.so relocates it, the TPOFF
// relocations call _dl_allocate_static_tls, which carves the block out of what is left
// (_dl_try_allocate_static_tls) or fails the dlopen with "OBJ: cannot allocate memory in static TLS
// block". Programs and the libraries they start with are never refused for this.

import { DF_STATIC_TLS, EM_X86_64 } from '../elf/constants.js';
import type { ElfFile } from '../elf/elf-file.js';
import type { LoaderConfig } from './host-view.js';
import type { LoadableObject } from './loadable.js';
import { staticTlsParameters, type StaticTlsParameters } from './static-tls-data.js';
import type { LoadedObject, Problem } from './types.js';

export const STATIC_TLS_MESSAGE = 'cannot allocate memory in static TLS block';

/** The fields of the PT_TLS header ld.so keeps (l_tls_blocksize, l_tls_align, l_tls_firstbyte_offset). */
export interface TlsSegment {
  readonly vaddr: number;
  readonly memsz: number;
  readonly align: number;
}

/** The PT_TLS segment ld.so uses (ElfFile.tlsSegment), or undefined when the object has no TLS. */
export function tlsSegmentOf(elf: ElfFile): TlsSegment | undefined {
  const ph = elf.tlsSegment();
  return ph === null ? undefined : { vaddr: ph.p_vaddr, memsz: ph.p_memsz, align: ph.p_align };
}

/** The e_machine names data/static-tls.json uses. */
const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([[EM_X86_64, 'x86_64']]);

/** roundup() of glibc's sys/param.h; an alignment of 0 is taken as 1 (no linker writes it). */
function roundup(value: number, align: number): number {
  const a = Math.max(align, 1);
  return Math.ceil(value / a) * a;
}

/** l_tls_firstbyte_offset: p_vaddr & (p_align - 1), as _dl_map_object_from_fd computes it (bitwise, as in C). */
function firstbyteOffset(tls: TlsSegment): number {
  return tls.align === 0 ? 0 : Number(BigInt(tls.vaddr) & BigInt(tls.align - 1));
}

/**
 * GL(dl_tls_static_used) and GLRO(dl_tls_static_align) after start-up: _dl_determine_tlsoffset
 * for TLS_TCB_AT_TP, over the start-up objects with TLS in load order (their module IDs), blocks
 * placed downwards from the thread pointer, reusing a gap that alignment left when the next block
 * fits in it; then the extra block (the rseq area) when the glibc has one.
 */
function startupLayout(
  objects: readonly LoadedObject[],
  parameters: StaticTlsParameters,
): { used: number; maxAlign: number } {
  let maxAlign = parameters.tcbAlignment;
  let offset = 0;
  let freetop = 0;
  let freebottom = 0;
  for (const loaded of objects) {
    const tls = loaded.object?.tls;
    if (tls === undefined || tls.memsz === 0) continue;
    const align = Math.max(tls.align, 1);
    const firstbyte = Number(BigInt.asUintN(64, -BigInt(firstbyteOffset(tls))) & BigInt(align - 1));
    maxAlign = Math.max(maxAlign, tls.align);
    if (freebottom - freetop >= tls.memsz) {
      const off = roundup(freetop + tls.memsz - firstbyte, align) + firstbyte;
      if (off <= freebottom) {
        freetop = off;
        continue;
      }
    }
    const off = roundup(offset + tls.memsz - firstbyte, align) + firstbyte;
    if (off > offset + tls.memsz + (freebottom - freetop)) {
      freetop = offset;
      freebottom = off - tls.memsz;
    }
    offset = off;
  }
  if (parameters.extra !== null) {
    maxAlign = Math.max(maxAlign, parameters.extra.align);
    offset = roundup(offset, parameters.extra.align) + parameters.extra.bytes;
  }
  return { used: offset, maxAlign };
}

/** Whether ld.so must find the object's TLS block a place in the static TLS block when it relocates it. */
function needsStaticTls(object: LoadableObject | null): object is LoadableObject & { tls: TlsSegment } {
  return object !== null && (object.flags & DF_STATIC_TLS) !== 0 && object.tls !== undefined && object.tls.memsz !== 0;
}

/**
 * The first object of a dlopen whose static TLS block does not fit in what start-up left, in
 * ld.so's words; [] when all fit or the host's layout is not modelled (not glibc, not x86_64).
 * `startup` is the program's namespace (the global scope, in load order); `opened` the dlopen's
 * search list, of which `fresh` are the positions it mapped anew. ld.so relocates those in reverse
 * l_initfini order, dependencies before the objects that need them; pyrelo takes the reverse of
 * the search list, which is that order unless a library also needs one loaded after it.
 */
export function staticTlsProblems(
  startup: readonly LoadedObject[],
  opened: readonly LoadedObject[],
  fresh: ReadonlySet<number>,
  config: LoaderConfig,
): Problem[] {
  const machine = MACHINE_NAMES.get(config.machine);
  if (machine === undefined || config.glibcVersion === null) return [];
  const parameters = staticTlsParameters(machine, config.glibcVersion);
  if (parameters === null) return [];
  const { used: startupUsed, maxAlign } = startupLayout(startup, parameters);
  // GLRO(dl_tls_static_size) without TLS_TCB_SIZE, which _dl_try_allocate_static_tls takes off again.
  const staticSize = roundup(startupUsed + parameters.surplus, maxAlign);
  let used = startupUsed;
  for (const loaded of [...opened].reverse()) {
    if (!fresh.has(loaded.index) || !needsStaticTls(loaded.object)) continue;
    const { tls } = loaded.object;
    const align = Math.max(tls.align, 1);
    const free = staticSize - used;
    const blsize = tls.memsz + firstbyteOffset(tls);
    if (tls.align > maxAlign || free < blsize) {
      const path = loaded.path ?? loaded.name;
      return [{ kind: 'static-tls', severity: 'error', object: path, message: `${path}: ${STATIC_TLS_MESSAGE}` }];
    }
    // The block takes the first place past what is used where it is aligned as its PT_TLS asks.
    const n = Math.floor((free - blsize) / align);
    used += free - n * align - firstbyteOffset(tls);
  }
  return [];
}
