// NT_GNU_ABI_TAG (.note.ABI-tag): the oldest kernel an object supports.
//
// Found the way glibc's open_verify finds it, so that the loader emulation sees exactly the note
// ld.so would check: in the first PT_NOTE segment with p_filesz >= 32 and p_align 4 or 8 (below
// 4 counts as 4) that holds a note whose header is { namesz 4, descsz 16, type 1 } with owner
// "GNU\0". Like glibc, a note whose sizes run past its segment ends the scan of that segment
// quietly; only a segment that lies outside the file is an error (glibc's read would fail).

import { NT_GNU_ABI_TAG, PT_NOTE } from './constants.js';
import type { Decoder } from './decoder.js';
import type { ByteSource } from './source.js';
import type { AbiTag, ProgramHeader } from './types.js';

/** "GNU\0" as one little/big-endian-independent byte comparison. */
const GNU = [0x47, 0x4e, 0x55, 0x00] as const;
/** sizeof(expected_note) in open_verify: the 12-byte header, "GNU\0" and 4 words. */
const ABI_NOTE_SIZE = 32;

export function parseAbiTag(source: ByteSource, d: Decoder, phdrs: readonly ProgramHeader[]): AbiTag | null {
  for (const ph of phdrs) {
    if (ph.p_type !== PT_NOTE || ph.p_filesz < ABI_NOTE_SIZE) continue;
    let align = ph.p_align;
    if (align < 4) align = 4;
    else if (align !== 4 && align !== 8) continue;
    const buf = source.read(ph.p_offset, ph.p_filesz, 'PT_NOTE');
    const dv = d.view(buf);
    let pos = 0;
    // Same loop shape as glibc: stop when fewer than 32 bytes remain after the next step.
    while (buf.length - pos >= ABI_NOTE_SIZE) {
      const namesz = d.u32(dv, pos);
      const descsz = d.u32(dv, pos + 4);
      const type = d.u32(dv, pos + 8);
      if (
        namesz === 4 &&
        descsz === 16 &&
        type === NT_GNU_ABI_TAG &&
        buf[pos + 12] === GNU[0] &&
        buf[pos + 13] === GNU[1] &&
        buf[pos + 14] === GNU[2] &&
        buf[pos + 15] === GNU[3]
      ) {
        return {
          os: d.u32(dv, pos + 16),
          major: d.u32(dv, pos + 20),
          minor: d.u32(dv, pos + 24),
          patch: d.u32(dv, pos + 28),
        };
      }
      // glibc's ELF_NOTE_NEXT_OFFSET: ALIGN_UP(ALIGN_UP(sizeof(Nhdr) + namesz, align) + descsz, align).
      const next = roundUp(roundUp(12 + namesz, align) + descsz, align);
      if (buf.length - pos - ABI_NOTE_SIZE < next) break;
      pos += next;
    }
    // glibc checks only the first qualifying segment that contains the note; a segment
    // without it does not stop the search.
  }
  return null;
}

function roundUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
