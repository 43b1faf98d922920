// The section header table. ld.so never reads it (a file stripped of it with sstrip loads the
// same), so the reader only uses it as a last resort, to size .dynsym when there is no hash
// table. Exposed for tools and tests.

import { ELF32_SHDR_SIZE, ELF64_SHDR_SIZE, SHN_UNDEF, SHN_XINDEX, SHT_NOBITS } from './constants.js';
import type { Decoder } from './decoder.js';
import { ElfFormatError } from './errors.js';
import type { ByteSource } from './source.js';
import { StringTable } from './strings.js';
import type { ElfHeader, SectionHeader } from './types.js';

export type RawSection = Omit<SectionHeader, 'name'>;

function decodeSection(d: Decoder, dv: DataView, o: number): RawSection {
  if (d.is64) {
    return {
      sh_name: d.u32(dv, o),
      sh_type: d.u32(dv, o + 4),
      sh_flags: d.u64(dv, o + 8, 'sh_flags'),
      sh_addr: d.u64(dv, o + 16, 'sh_addr'),
      sh_offset: d.u64(dv, o + 24, 'sh_offset'),
      sh_size: d.u64(dv, o + 32, 'sh_size'),
      sh_link: d.u32(dv, o + 40),
      sh_info: d.u32(dv, o + 44),
      sh_addralign: d.u64(dv, o + 48, 'sh_addralign'),
      sh_entsize: d.u64(dv, o + 56, 'sh_entsize'),
    };
  }
  return {
    sh_name: d.u32(dv, o),
    sh_type: d.u32(dv, o + 4),
    sh_flags: d.u32(dv, o + 8),
    sh_addr: d.u32(dv, o + 12),
    sh_offset: d.u32(dv, o + 16),
    sh_size: d.u32(dv, o + 20),
    sh_link: d.u32(dv, o + 24),
    sh_info: d.u32(dv, o + 28),
    sh_addralign: d.u32(dv, o + 32),
    sh_entsize: d.u32(dv, o + 36),
  };
}

export function parseSectionHeaders(source: ByteSource, d: Decoder, h: ElfHeader): SectionHeader[] {
  const { raw, names } = parseRawSectionHeaders(source, d, h);
  return raw.map((s) => ({ ...s, name: names === null ? '' : names.get(s.sh_name, 'sh_name') }));
}

/**
 * The section headers without their names, for the reader's own use (sizing .dynsym): the same
 * checks and errors as parseSectionHeaders, every sh_name included, but no name is decoded.
 */
export function parseUnnamedSectionHeaders(source: ByteSource, d: Decoder, h: ElfHeader): readonly RawSection[] {
  const { raw, names } = parseRawSectionHeaders(source, d, h);
  if (names !== null) for (const s of raw) names.check(s.sh_name, 'sh_name');
  return raw;
}

function parseRawSectionHeaders(
  source: ByteSource,
  d: Decoder,
  h: ElfHeader,
): { raw: RawSection[]; names: StringTable | null } {
  if (h.e_shoff === 0) return { raw: [], names: null };
  const entsize = d.is64 ? ELF64_SHDR_SIZE : ELF32_SHDR_SIZE;
  if (h.e_shentsize !== entsize) {
    throw new ElfFormatError(
      source.name,
      'e_shentsize',
      'malformed',
      `${h.e_shentsize}, expected ${entsize} for ELF${d.is64 ? 64 : 32}`,
    );
  }
  // With 0xff00 sections or more, e_shnum is 0 and section 0's sh_size holds the count; the
  // same goes for e_shstrndx == SHN_XINDEX and section 0's sh_link (gABI "Extended Section
  // Numbering").
  let shnum = h.e_shnum;
  let shstrndx = h.e_shstrndx;
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    const s0 = decodeSection(d, d.view(source.read(h.e_shoff, entsize, 'e_shoff')), 0);
    if (shnum === 0) shnum = s0.sh_size;
    if (shstrndx === SHN_XINDEX) shstrndx = s0.sh_link;
    if (shnum === 0) return { raw: [], names: null };
  }
  if (shnum > source.size / entsize) {
    throw new ElfFormatError(source.name, 'e_shnum', 'out-of-range', `${shnum} section headers cannot fit in the file`);
  }
  const dv = d.view(source.read(h.e_shoff, shnum * entsize, 'e_shoff'));
  const raw: RawSection[] = new Array<RawSection>(shnum);
  for (let i = 0; i < shnum; i++) raw[i] = decodeSection(d, dv, i * entsize);

  let names: StringTable | null = null;
  if (shstrndx !== SHN_UNDEF) {
    const s = raw[shstrndx];
    if (s === undefined) {
      throw new ElfFormatError(
        source.name,
        'e_shstrndx',
        'out-of-range',
        `section ${shstrndx} does not exist (${shnum} sections)`,
      );
    }
    if (s.sh_type !== SHT_NOBITS) {
      names = new StringTable(source.name, '.shstrtab', source.read(s.sh_offset, s.sh_size, '.shstrtab'));
    }
  }
  return { raw, names };
}
