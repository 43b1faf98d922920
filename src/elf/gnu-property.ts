// GNU_PROPERTY_X86_ISA_1_NEEDED (.note.gnu.property, an NT_GNU_PROPERTY_TYPE_0 note): the x86 ISA
// levels an object was marked as needing (ld -z x86-64-v2, gcc -mneeded). glibc 2.33+ refuses to
// load an object that needs a level the CPU lacks (docs/loader-model.md, "x86 ISA level").
//
// Found the way ld.so finds it (docs/loader-model.md lists the rules): program headers scanned from
// the last to the first; PT_NOTE segments, and since glibc 2.39 the PT_GNU_PROPERTY segment too,
// each only with p_align equal to the word size (8 for ELFCLASS64, 4 for ELFCLASS32); in it, the
// first NT_GNU_PROPERTY_TYPE_0 note owned by "GNU". Its properties must be in ascending type
// order, each 4-byte-aligned in size for the two x86 types; anything malformed leaves the object
// unmarked, as it does in ld.so. Once one segment has held a property note, later ones are not
// looked at. The two readings differ only for a PT_NOTE segment with two property notes, so the
// reader gives both.

import { EM_386, EM_X86_64, NT_GNU_PROPERTY_TYPE_0, PT_GNU_PROPERTY, PT_NOTE } from './constants.js';
import type { Decoder } from './decoder.js';
import type { ByteSource } from './source.js';
import type { ElfClass, ProgramHeader } from './types.js';

/** GNU_PROPERTY_X86_ISA_1_NEEDED (0 = unmarked) as each generation of ld.so reads it. */
export interface X86IsaNeeded {
  /** glibc 2.33–2.38: from the PT_NOTE segments only. */
  readonly fromNotes: number;
  /** glibc 2.39+: the PT_GNU_PROPERTY segment is read as well, and usually first. */
  readonly withPropertySegment: number;
}

export const GNU_PROPERTY_X86_FEATURE_1_AND = 0xc0000002;
export const GNU_PROPERTY_X86_ISA_1_NEEDED = 0xc0008002;
/**
 * GNU_PROPERTY_1_NEEDED (= GNU_PROPERTY_UINT32_OR_LO), which glibc 2.35+ also reads here (one of a
 * size other than 4 leaves 2.33 and 2.34 unmoved).
 */
export const GNU_PROPERTY_1_NEEDED = 0xb0008000;
/** The bits of GNU_PROPERTY_X86_ISA_1_NEEDED (and of glibc's cpu_features->isa_1). */
export const GNU_PROPERTY_X86_ISA_1_BASELINE = 1 << 0;
export const GNU_PROPERTY_X86_ISA_1_V2 = 1 << 1;
export const GNU_PROPERTY_X86_ISA_1_V3 = 1 << 2;
export const GNU_PROPERTY_X86_ISA_1_V4 = 1 << 3;

const GNU = [0x47, 0x4e, 0x55, 0x00] as const;
const NHDR_SIZE = 12;

/** What one segment's scan found: no property note (look further), or the object's value. */
type Scan = { readonly found: false } | { readonly found: true; readonly isaNeeded: number };
const NOT_FOUND: Scan = { found: false };
const unmarked: Scan = { found: true, isaNeeded: 0 };

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/**
 * The property array of one NT_GNU_PROPERTY_TYPE_0 note (desc at `start`, `descsz` bytes), walked
 * as glibc's _dl_check_gnu_property loop does: the ISA_1_NEEDED value, or 0.
 */
function isaNeededOfProperties(buf: Buffer, d: Decoder, start: number, descsz: number, word: number): number {
  const view = d.view(buf);
  const end = start + descsz;
  if (end > buf.length) return 0;
  let pos = start;
  let lastType = 0;
  do {
    const type = d.u32(view, pos);
    const datasz = d.u32(view, pos + 4);
    if (type < lastType) return 0;
    pos += 8;
    if (pos + datasz > end) return 0;
    lastType = type;
    if (
      type === GNU_PROPERTY_X86_ISA_1_NEEDED ||
      type === GNU_PROPERTY_X86_FEATURE_1_AND ||
      type === GNU_PROPERTY_1_NEEDED
    ) {
      if (datasz !== 4) return 0;
      if (type === GNU_PROPERTY_X86_ISA_1_NEEDED) return d.u32(view, pos);
    } else if (type > GNU_PROPERTY_X86_ISA_1_NEEDED) {
      return 0;
    }
    pos += alignUp(datasz, word);
  } while (end - pos >= 8);
  return 0;
}

/**
 * One note segment: its GNU property note, if any (ELF_NOTE_NEXT_OFFSET steps). A PT_NOTE segment
 * with a second GNU property note (older linkers wrote one per input) leaves the object unmarked:
 * _dl_process_property_note stops there before it records anything.
 */
function scanSegment(buf: Buffer, d: Decoder, align: number, word: number, wholeSegment: boolean): Scan {
  const view = d.view(buf);
  let pos = 0;
  let result: Scan = NOT_FOUND;
  while (pos + NHDR_SIZE < buf.length) {
    const namesz = d.u32(view, pos);
    const descsz = d.u32(view, pos + 4);
    const type = d.u32(view, pos + 8);
    if (
      namesz === 4 &&
      type === NT_GNU_PROPERTY_TYPE_0 &&
      pos + 16 <= buf.length &&
      GNU.every((byte, i) => buf[pos + NHDR_SIZE + i] === byte)
    ) {
      if (result.found) return unmarked;
      if (descsz < 8 || descsz % word !== 0) return unmarked;
      result = { found: true, isaNeeded: isaNeededOfProperties(buf, d, pos + NHDR_SIZE + 4, descsz, word) };
      // PT_GNU_PROPERTY: only one note is handled (_dl_process_pt_gnu_property).
      if (!wholeSegment) return result;
    }
    pos += alignUp(alignUp(NHDR_SIZE + namesz, align) + descsz, align);
  }
  return result;
}

function scanSegments(
  source: ByteSource,
  d: Decoder,
  phdrs: readonly ProgramHeader[],
  word: number,
  withPropertySegment: boolean,
): number {
  for (let i = phdrs.length - 1; i >= 0; i--) {
    const ph = phdrs[i]!;
    if (ph.p_type !== PT_NOTE && !(withPropertySegment && ph.p_type === PT_GNU_PROPERTY)) continue;
    if (ph.p_align !== word || ph.p_filesz === 0) continue;
    const scan = scanSegment(
      source.read(ph.p_offset, ph.p_filesz, 'note segment'),
      d,
      ph.p_align,
      word,
      ph.p_type === PT_NOTE,
    );
    if (scan.found) return scan.isaNeeded;
  }
  return 0;
}

/**
 * GNU_PROPERTY_X86_ISA_1_NEEDED of an x86 object (EM_386, EM_X86_64), 0 when it has none. The
 * processor-specific property numbers mean other things on other machines, so they give 0.
 */
export function parseX86IsaNeeded(
  source: ByteSource,
  d: Decoder,
  phdrs: readonly ProgramHeader[],
  elfClass: ElfClass,
  machine: number,
): X86IsaNeeded {
  if (machine !== EM_X86_64 && machine !== EM_386) return { fromNotes: 0, withPropertySegment: 0 };
  const word = elfClass === 64 ? 8 : 4;
  return {
    fromNotes: scanSegments(source, d, phdrs, word, false),
    withPropertySegment: scanSegments(source, d, phdrs, word, true),
  };
}
