// The structures of an ELF file as the System V ABI ("gABI") and the GNU extensions name them.
// Field names follow the specification (e_type, p_offset, d_tag, st_info, vd_ndx, vna_other, ...)
// so that a reader of this code can check it against the spec, pyelftools or goblin.
//
// Every address, offset and size is a JavaScript number. The reader refuses values above
// Number.MAX_SAFE_INTEGER with an ElfFormatError, so no precision is ever lost silently.

/** e_ident[EI_CLASS]: 1 = ELFCLASS32, 2 = ELFCLASS64. */
export type ElfClass = 32 | 64;
/** e_ident[EI_DATA]: 1 = ELFDATA2LSB (little endian), 2 = ELFDATA2MSB (big endian). */
export type ElfData = 'lsb' | 'msb';

export interface ElfIdent {
  readonly class: ElfClass;
  readonly data: ElfData;
  /** EI_VERSION, must be EV_CURRENT (1) for ld.so. */
  readonly version: number;
  /** EI_OSABI: 0 = ELFOSABI_SYSV, 3 = ELFOSABI_GNU (a.k.a. LINUX), ... */
  readonly osabi: number;
  /** EI_ABIVERSION. */
  readonly abiversion: number;
  /** True when any of the padding bytes EI_PAD..EI_NIDENT-1 is non-zero (ld.so refuses that). */
  readonly paddingNonZero: boolean;
}

export interface ElfHeader {
  readonly e_ident: ElfIdent;
  readonly e_type: number;
  readonly e_machine: number;
  readonly e_version: number;
  readonly e_entry: number;
  readonly e_phoff: number;
  readonly e_shoff: number;
  readonly e_flags: number;
  readonly e_ehsize: number;
  readonly e_phentsize: number;
  readonly e_phnum: number;
  readonly e_shentsize: number;
  readonly e_shnum: number;
  readonly e_shstrndx: number;
}

export interface ProgramHeader {
  readonly p_type: number;
  readonly p_flags: number;
  readonly p_offset: number;
  readonly p_vaddr: number;
  readonly p_paddr: number;
  readonly p_filesz: number;
  readonly p_memsz: number;
  readonly p_align: number;
}

export interface SectionHeader {
  readonly sh_name: number;
  /** Resolved from .shstrtab; '' when the name table is absent. */
  readonly name: string;
  readonly sh_type: number;
  readonly sh_flags: number;
  readonly sh_addr: number;
  readonly sh_offset: number;
  readonly sh_size: number;
  readonly sh_link: number;
  readonly sh_info: number;
  readonly sh_addralign: number;
  readonly sh_entsize: number;
}

export interface DynamicEntry {
  readonly d_tag: number;
  /** d_val / d_ptr. */
  readonly d_val: number;
}

/** The dynamic section decoded: raw entries plus the fields the loader uses, strings resolved. */
export interface DynamicInfo {
  readonly entries: readonly DynamicEntry[];
  /** DT_NEEDED names, in order. */
  readonly needed: readonly string[];
  readonly soname: string | null;
  /** DT_RPATH, unsplit (colon-separated, tokens unexpanded); null when absent. */
  readonly rpath: string | null;
  /** DT_RUNPATH, unsplit; null when absent. */
  readonly runpath: string | null;
  /** DT_FLAGS (DF_*), 0 when absent. */
  readonly flags: number;
  /** DT_FLAGS_1 (DF_1_*), 0 when absent. */
  readonly flags1: number;
}

/** One entry of .dynsym with its .gnu.version information. */
export interface ElfSymbol {
  /** Index in the dynamic symbol table. */
  readonly index: number;
  readonly name: string;
  readonly st_value: number;
  readonly st_size: number;
  readonly st_info: number;
  readonly st_other: number;
  readonly st_shndx: number;
  /** ELF_ST_BIND(st_info): STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2, STB_GNU_UNIQUE 10. */
  readonly binding: number;
  /** ELF_ST_TYPE(st_info): STT_NOTYPE 0, OBJECT 1, FUNC 2, SECTION 3, FILE 4, COMMON 5, TLS 6, GNU_IFUNC 10. */
  readonly type: number;
  /** ELF_ST_VISIBILITY(st_other): STV_DEFAULT 0, INTERNAL 1, HIDDEN 2, PROTECTED 3. */
  readonly visibility: number;
  /**
   * The .gnu.version entry without the hidden bit (0 local, 1 global, >= 2 a version index);
   * null when the file has no DT_VERSYM.
   */
  readonly versionIndex: number | null;
  /** The 0x8000 bit of the .gnu.version entry: `sym@V` rather than the default `sym@@V`. */
  readonly versionHidden: boolean;
}

/** Elf_Verdef with its Elf_Verdaux names resolved (names[0] is the version defined, the rest its parents). */
export interface VersionDefinition {
  readonly vd_version: number;
  /** VER_FLG_BASE 0x1, VER_FLG_WEAK 0x2. */
  readonly vd_flags: number;
  readonly vd_ndx: number;
  readonly vd_cnt: number;
  readonly vd_hash: number;
  readonly names: readonly string[];
}

/** Elf_Vernaux. */
export interface VersionNeedAux {
  readonly vna_hash: number;
  /** VER_FLG_WEAK 0x2. */
  readonly vna_flags: number;
  /** The version index this requirement has in .gnu.version. */
  readonly vna_other: number;
  readonly vna_name: string;
}

/** Elf_Verneed with its file name and Elf_Vernaux entries resolved. */
export interface VersionNeed {
  readonly vn_version: number;
  readonly vn_file: string;
  readonly aux: readonly VersionNeedAux[];
}

/** NT_GNU_ABI_TAG: the oldest kernel the object supports. os 0 = Linux. */
export interface AbiTag {
  readonly os: number;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** A dynamic symbol referenced by a relocation (what ld.so will look up when it relocates). */
export interface SymbolReference {
  /** Index into the dynamic symbol table. */
  readonly symbolIndex: number;
  /** True when the only relocations naming it are PLT (JUMP_SLOT) ones, bound lazily. */
  readonly pltOnly: boolean;
}
