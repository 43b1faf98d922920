// Constants of the System V gABI and the GNU extensions, under the names elf.h gives them.
// Plain `export const` (no enums) so that each value is greppable next to elf.h and costs nothing
// at run time. Only what the reader and the loader emulation use is here, plus the neighbours
// that make a table readable.

// ---- e_ident -------------------------------------------------------------------------------
export const EI_NIDENT = 16;
export const EI_MAG0 = 0;
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const EI_VERSION = 6;
export const EI_OSABI = 7;
export const EI_ABIVERSION = 8;
export const EI_PAD = 9;

export const ELFMAG = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46); // "\x7fELF"

export const ELFCLASSNONE = 0;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;

export const ELFDATANONE = 0;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const EV_NONE = 0;
export const EV_CURRENT = 1;

export const ELFOSABI_SYSV = 0;
export const ELFOSABI_NONE = 0;
export const ELFOSABI_HPUX = 1;
export const ELFOSABI_NETBSD = 2;
export const ELFOSABI_GNU = 3;
export const ELFOSABI_LINUX = 3;
export const ELFOSABI_SOLARIS = 6;
export const ELFOSABI_AIX = 7;
export const ELFOSABI_IRIX = 8;
export const ELFOSABI_FREEBSD = 9;
export const ELFOSABI_TRU64 = 10;
export const ELFOSABI_MODESTO = 11;
export const ELFOSABI_OPENBSD = 12;
export const ELFOSABI_ARM_AEABI = 64;
export const ELFOSABI_ARM = 97;
export const ELFOSABI_STANDALONE = 255;

// ---- e_type --------------------------------------------------------------------------------
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

// ---- e_machine -----------------------------------------------------------------------------
export const EM_NONE = 0;
export const EM_SPARC = 2;
export const EM_386 = 3;
export const EM_68K = 4;
export const EM_MIPS = 8;
export const EM_PARISC = 15;
export const EM_SPARC32PLUS = 18;
export const EM_PPC = 20;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_SH = 42;
export const EM_SPARCV9 = 43;
export const EM_IA_64 = 50;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;
export const EM_ALPHA = 0x9026;

// ---- Structure sizes, per class ------------------------------------------------------------
export const ELF32_EHDR_SIZE = 52;
export const ELF64_EHDR_SIZE = 64;
export const ELF32_PHDR_SIZE = 32;
export const ELF64_PHDR_SIZE = 56;
export const ELF32_SHDR_SIZE = 40;
export const ELF64_SHDR_SIZE = 64;
export const ELF32_SYM_SIZE = 16;
export const ELF64_SYM_SIZE = 24;
export const ELF32_DYN_SIZE = 8;
export const ELF64_DYN_SIZE = 16;
export const ELF32_REL_SIZE = 8;
export const ELF32_RELA_SIZE = 12;
export const ELF64_REL_SIZE = 16;
export const ELF64_RELA_SIZE = 24;
/** Elf32_Verdef and Elf64_Verdef are the same. */
export const VERDEF_SIZE = 20;
export const VERDAUX_SIZE = 8;
export const VERNEED_SIZE = 16;
export const VERNAUX_SIZE = 16;
export const NHDR_SIZE = 12;

// ---- p_type --------------------------------------------------------------------------------
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_SHLIB = 5;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_LOOS = 0x60000000;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;
export const PT_HIOS = 0x6fffffff;
export const PT_LOPROC = 0x70000000;
export const PT_HIPROC = 0x7fffffff;

// ---- p_flags -------------------------------------------------------------------------------
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

// ---- Section numbers and types -------------------------------------------------------------
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SHLIB = 10;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_RELR = 19;
export const SHT_GNU_ATTRIBUTES = 0x6ffffff5;
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_GNU_LIBLIST = 0x6ffffff7;
export const SHT_GNU_verdef = 0x6ffffffd;
export const SHT_GNU_verneed = 0x6ffffffe;
export const SHT_GNU_versym = 0x6fffffff;

// ---- d_tag ---------------------------------------------------------------------------------
export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_PLTRELSZ = 2;
export const DT_PLTGOT = 3;
export const DT_HASH = 4;
export const DT_STRTAB = 5;
export const DT_SYMTAB = 6;
export const DT_RELA = 7;
export const DT_RELASZ = 8;
export const DT_RELAENT = 9;
export const DT_STRSZ = 10;
export const DT_SYMENT = 11;
export const DT_INIT = 12;
export const DT_FINI = 13;
export const DT_SONAME = 14;
export const DT_RPATH = 15;
export const DT_SYMBOLIC = 16;
export const DT_REL = 17;
export const DT_RELSZ = 18;
export const DT_RELENT = 19;
export const DT_PLTREL = 20;
export const DT_DEBUG = 21;
export const DT_TEXTREL = 22;
export const DT_JMPREL = 23;
export const DT_BIND_NOW = 24;
export const DT_INIT_ARRAY = 25;
export const DT_FINI_ARRAY = 26;
export const DT_INIT_ARRAYSZ = 27;
export const DT_FINI_ARRAYSZ = 28;
export const DT_RUNPATH = 29;
export const DT_FLAGS = 30;
export const DT_ENCODING = 32;
export const DT_PREINIT_ARRAY = 32;
export const DT_PREINIT_ARRAYSZ = 33;
export const DT_SYMTAB_SHNDX = 34;
export const DT_RELRSZ = 35;
export const DT_RELR = 36;
export const DT_RELRENT = 37;
export const DT_LOOS = 0x6000000d;
export const DT_HIOS = 0x6ffff000;
export const DT_GNU_PRELINKED = 0x6ffffdf5;
export const DT_GNU_CONFLICTSZ = 0x6ffffdf6;
export const DT_GNU_LIBLISTSZ = 0x6ffffdf7;
export const DT_CHECKSUM = 0x6ffffdf8;
export const DT_PLTPADSZ = 0x6ffffdf9;
export const DT_MOVEENT = 0x6ffffdfa;
export const DT_MOVESZ = 0x6ffffdfb;
export const DT_GNU_FLAGS_1 = 0x6ffffdf4;
export const DT_GNU_HASH = 0x6ffffef5;
export const DT_TLSDESC_PLT = 0x6ffffef6;
export const DT_TLSDESC_GOT = 0x6ffffef7;
export const DT_GNU_CONFLICT = 0x6ffffef8;
export const DT_GNU_LIBLIST = 0x6ffffef9;
export const DT_CONFIG = 0x6ffffefa;
export const DT_DEPAUDIT = 0x6ffffefb;
export const DT_AUDIT = 0x6ffffefc;
export const DT_PLTPAD = 0x6ffffefd;
export const DT_MOVETAB = 0x6ffffefe;
export const DT_SYMINFO = 0x6ffffeff;
export const DT_VERSYM = 0x6ffffff0;
export const DT_RELACOUNT = 0x6ffffff9;
export const DT_RELCOUNT = 0x6ffffffa;
export const DT_FLAGS_1 = 0x6ffffffb;
export const DT_VERDEF = 0x6ffffffc;
export const DT_VERDEFNUM = 0x6ffffffd;
export const DT_VERNEED = 0x6ffffffe;
export const DT_VERNEEDNUM = 0x6fffffff;
export const DT_LOPROC = 0x70000000;
export const DT_AUXILIARY = 0x7ffffffd;
export const DT_FILTER = 0x7fffffff;
export const DT_HIPROC = 0x7fffffff;
export const DT_MIPS_SYMTABNO = 0x70000011;
export const DT_MIPS_GOTSYM = 0x70000013;

// ---- DT_FLAGS values -----------------------------------------------------------------------
export const DF_ORIGIN = 0x1;
export const DF_SYMBOLIC = 0x2;
export const DF_TEXTREL = 0x4;
export const DF_BIND_NOW = 0x8;
export const DF_STATIC_TLS = 0x10;

// ---- DT_FLAGS_1 values ---------------------------------------------------------------------
export const DF_1_NOW = 0x00000001;
export const DF_1_GLOBAL = 0x00000002;
export const DF_1_GROUP = 0x00000004;
export const DF_1_NODELETE = 0x00000008;
export const DF_1_LOADFLTR = 0x00000010;
export const DF_1_INITFIRST = 0x00000020;
export const DF_1_NOOPEN = 0x00000040;
export const DF_1_ORIGIN = 0x00000080;
export const DF_1_DIRECT = 0x00000100;
export const DF_1_TRANS = 0x00000200;
export const DF_1_INTERPOSE = 0x00000400;
export const DF_1_NODEFLIB = 0x00000800;
export const DF_1_NODUMP = 0x00001000;
export const DF_1_CONFALT = 0x00002000;
export const DF_1_ENDFILTEE = 0x00004000;
export const DF_1_DISPRELDNE = 0x00008000;
export const DF_1_DISPRELPND = 0x00010000;
export const DF_1_NODIRECT = 0x00020000;
export const DF_1_IGNMULDEF = 0x00040000;
export const DF_1_NOKSYMS = 0x00080000;
export const DF_1_NOHDR = 0x00100000;
export const DF_1_EDITED = 0x00200000;
export const DF_1_NORELOC = 0x00400000;
export const DF_1_SYMINTPOSE = 0x00800000;
export const DF_1_GLOBAUDIT = 0x01000000;
export const DF_1_SINGLETON = 0x02000000;
export const DF_1_STUB = 0x04000000;
export const DF_1_PIE = 0x08000000;

// ---- Symbols -------------------------------------------------------------------------------
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

export const STN_UNDEF = 0;

// ---- Symbol versioning ---------------------------------------------------------------------
export const VER_DEF_NONE = 0;
export const VER_DEF_CURRENT = 1;
export const VER_NEED_NONE = 0;
export const VER_NEED_CURRENT = 1;
export const VER_FLG_BASE = 0x1;
export const VER_FLG_WEAK = 0x2;
/** .gnu.version values below VER_NDX_LORESERVE with the meanings "local" and "global". */
export const VER_NDX_LOCAL = 0;
export const VER_NDX_GLOBAL = 1;
export const VER_NDX_LORESERVE = 0xff00;
export const VER_NDX_ELIMINATE = 0xff01;
/** The bit of a .gnu.version entry that marks a non-default (`sym@V`) version. */
export const VERSYM_HIDDEN = 0x8000;
export const VERSYM_VERSION = 0x7fff;

// ---- Notes ---------------------------------------------------------------------------------
export const NT_GNU_ABI_TAG = 1;
export const NT_GNU_HWCAP = 2;
export const NT_GNU_BUILD_ID = 3;
export const NT_GNU_GOLD_VERSION = 4;
export const NT_GNU_PROPERTY_TYPE_0 = 5;

export const ELF_NOTE_OS_LINUX = 0;
export const ELF_NOTE_OS_GNU = 1;
export const ELF_NOTE_OS_SOLARIS2 = 2;
export const ELF_NOTE_OS_FREEBSD = 3;

// ---- Relocation types that bind lazily through the PLT ---------------------------------------
export const R_386_JMP_SLOT = 7;
export const R_X86_64_JUMP_SLOT = 7;
export const R_ARM_JUMP_SLOT = 22;
export const R_AARCH64_JUMP_SLOT = 1026;
export const R_PPC_JMP_SLOT = 21;
export const R_PPC64_JMP_SLOT = 21;
export const R_390_JMP_SLOT = 11;
export const R_RISCV_JUMP_SLOT = 5;
export const R_MIPS_JUMP_SLOT = 127;
export const R_SPARC_JMP_SLOT = 21;
export const R_LARCH_JUMP_SLOT = 5;

/**
 * The relocation type that marks a lazily bound PLT slot on `e_machine`, or null for machines
 * this table does not know (then no relocation counts as PLT-only).
 */
export function jumpSlotType(e_machine: number): number | null {
  switch (e_machine) {
    case EM_386:
      return R_386_JMP_SLOT;
    case EM_X86_64:
      return R_X86_64_JUMP_SLOT;
    case EM_ARM:
      return R_ARM_JUMP_SLOT;
    case EM_AARCH64:
      return R_AARCH64_JUMP_SLOT;
    case EM_PPC:
      return R_PPC_JMP_SLOT;
    case EM_PPC64:
      return R_PPC64_JMP_SLOT;
    case EM_S390:
      return R_390_JMP_SLOT;
    case EM_RISCV:
      return R_RISCV_JUMP_SLOT;
    case EM_MIPS:
      return R_MIPS_JUMP_SLOT;
    case EM_SPARC:
    case EM_SPARC32PLUS:
    case EM_SPARCV9:
      return R_SPARC_JMP_SLOT;
    case EM_LOONGARCH:
      return R_LARCH_JUMP_SLOT;
    default:
      return null;
  }
}
