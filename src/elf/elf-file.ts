// One ELF file. The ident, header and program headers are parsed when the file is opened (they
// are all the loader needs to reject most files); everything else is parsed on first use and
// memoized, each table with one positional read.

import { closeSync, openSync, readSync } from 'node:fs';
import { AddressMap } from './address-map.js';
import { ELFMAG, PT_INTERP, PT_TLS } from './constants.js';
import type { Decoder } from './decoder.js';
import { buildDynamicInfo, parseDynamicTable, readDynamicStrings, type DynamicTable } from './dynamic.js';
import { parseHeader } from './header.js';
import { parseX86IsaNeeded, type X86IsaNeeded } from './gnu-property.js';
import { parseAbiTag } from './notes.js';
import { parseProgramHeaders } from './program-headers.js';
import { parseSymbolReferences } from './relocations.js';
import { parseSectionHeaders, parseUnnamedSectionHeaders, type RawSection } from './section-headers.js';
import { BufferSource, FdSource, type ByteSource } from './source.js';
import type { StringTable } from './strings.js';
import { countDynamicSymbols, DynamicSymbolTable, type DynamicContext } from './symbols.js';
import type {
  AbiTag,
  DynamicInfo,
  ElfHeader,
  ElfSymbol,
  ProgramHeader,
  SectionHeader,
  SymbolReference,
  VersionDefinition,
  VersionNeed,
} from './types.js';
import { parseVersionDefinitions, parseVersionNeeds } from './versions.js';

const EMPTY_TAGS: ReadonlyMap<number, number> = new Map();

/** The kernel's PATH_MAX: the longest PT_INTERP segment execve accepts, NUL included. */
const PATH_MAX = 4096;

/** interpreterRefusal's rule, on the segment's bytes. */
function interpreterSegmentRefusal(segment: Buffer): string | null {
  if (segment.length < 2) return 'its PT_INTERP is empty';
  if (segment.length > PATH_MAX) return `its PT_INTERP is ${segment.length} bytes, longer than PATH_MAX (${PATH_MAX})`;
  if (segment[segment.length - 1] !== 0) return 'its PT_INTERP does not end with a NUL';
  return null;
}

export class ElfFile {
  readonly path: string;
  readonly size: number;
  readonly header: ElfHeader;
  readonly programHeaders: readonly ProgramHeader[];

  private readonly source: ByteSource;
  private readonly d: Decoder;
  private readonly map: AddressMap;
  private readonly ctx: DynamicContext;

  // Memoized lazy results; `undefined` means "not computed yet".
  private _sections: readonly SectionHeader[] | undefined;
  private _unnamedSections: readonly RawSection[] | undefined;
  private _dynTable: DynamicTable | null | undefined;
  private _strings: StringTable | undefined;
  private _dynamic: DynamicInfo | null | undefined;
  private _interp: string | null | undefined;
  private _interpRefusal: string | null = null;
  private _symCount: number | undefined;
  private _symbols: readonly ElfSymbol[] | undefined;
  private _symbolTable: DynamicSymbolTable | undefined;
  private _verdefs: readonly VersionDefinition[] | undefined;
  private _verneeds: readonly VersionNeed[] | undefined;
  private _abiTag: AbiTag | null | undefined;
  private _x86IsaNeeded: X86IsaNeeded | undefined;
  private _refs: readonly SymbolReference[] | undefined;

  private constructor(source: ByteSource) {
    this.source = source;
    this.path = source.name;
    this.size = source.size;
    const { header, decoder } = parseHeader(source);
    this.header = header;
    this.d = decoder;
    this.programHeaders = parseProgramHeaders(source, decoder, header);
    this.map = new AddressMap(source.name, this.programHeaders);
    // The context reads the dynamic table lazily through a getter, so building it costs nothing.
    const tags = (): ReadonlyMap<number, number> => this.dynamicTable()?.tags ?? EMPTY_TAGS;
    this.ctx = {
      source,
      d: decoder,
      header,
      map: this.map,
      get tags() {
        return tags();
      },
      strings: () => this.strings(),
      sectionHeaders: () =>
        this._sections ?? (this._unnamedSections ??= parseUnnamedSectionHeaders(this.source, this.d, this.header)),
    };
  }

  /**
   * Opens `path` and parses its ident, header and program headers. Filesystem errors
   * (ENOENT, EACCES, EISDIR...) propagate unchanged; malformed content raises ElfFormatError.
   * The descriptor stays open for the lazy accessors until close().
   */
  static open(path: string): ElfFile {
    const source = FdSource.open(path);
    try {
      return new ElfFile(source);
    } catch (e) {
      source.close();
      throw e;
    }
  }

  /** An ELF image in memory (tests, fuzzing). The bytes are used in place, not copied. */
  static fromBuffer(name: string, bytes: Uint8Array): ElfFile {
    return new ElfFile(new BufferSource(name, bytes));
  }

  /** [] when the file has no section header table (e_shoff == 0, as after sstrip). */
  sectionHeaders(): readonly SectionHeader[] {
    return (this._sections ??= parseSectionHeaders(this.source, this.d, this.header));
  }

  /**
   * The PT_INTERP path (up to its first NUL, or the whole segment when it has none), or null.
   * Whether the kernel accepts it is interpreterRefusal's question: ld.so never reads a library's.
   */
  interpreter(): string | null {
    if (this._interp === undefined) {
      const p = this.programHeaders.find((ph) => ph.p_type === PT_INTERP);
      if (p === undefined) {
        this._interp = null;
      } else {
        const buf = this.source.read(p.p_offset, p.p_filesz, 'PT_INTERP');
        const end = buf.indexOf(0);
        this._interp = buf.toString('utf8', 0, end < 0 ? buf.length : end);
        this._interpRefusal = interpreterSegmentRefusal(buf);
      }
    }
    return this._interp;
  }

  /**
   * Why execve refuses this file's PT_INTERP with ENOEXEC ("Exec format error"), or null: the
   * kernel's ELF loader (binfmt_elf) takes a segment of 2 to PATH_MAX bytes whose last byte is NUL,
   * before it opens the path (docs/loader.md section 9).
   */
  interpreterRefusal(): string | null {
    this.interpreter();
    return this._interpRefusal;
  }

  /**
   * The PT_TLS header (the object's TLS initialization image and block), or null. The ELF spec
   * allows one; should a file have more, this is the one ld.so keeps: _dl_map_object_from_fd skips
   * an empty one (p_memsz 0) and lets a later one overwrite an earlier one.
   */
  tlsSegment(): ProgramHeader | null {
    return this.programHeaders.findLast((ph) => ph.p_type === PT_TLS && ph.p_memsz !== 0) ?? null;
  }

  /** The decoded dynamic section, or null when there is no PT_DYNAMIC (static executables). */
  dynamic(): DynamicInfo | null {
    if (this._dynamic === undefined) {
      const t = this.dynamicTable();
      this._dynamic = t === null ? null : buildDynamicInfo(t, () => this.strings());
    }
    return this._dynamic;
  }

  /** The dynamic symbol table, index 0 (the null symbol) included so that symbols[i].index === i. */
  dynamicSymbols(): readonly ElfSymbol[] {
    return (this._symbols ??= this.dynamicSymbolTable().all());
  }

  /**
   * The dynamic symbol table read but not decoded: single symbols and lookups by name through
   * DT_GNU_HASH / DT_HASH, still usable after close().
   */
  dynamicSymbolTable(): DynamicSymbolTable {
    return (this._symbolTable ??= new DynamicSymbolTable(this.ctx, this.symbolCount()));
  }

  versionDefinitions(): readonly VersionDefinition[] {
    return (this._verdefs ??= parseVersionDefinitions(this.ctx));
  }

  versionNeeds(): readonly VersionNeed[] {
    return (this._verneeds ??= parseVersionNeeds(this.ctx));
  }

  /** NT_GNU_ABI_TAG from the PT_NOTE segments, found as glibc's open_verify finds it. */
  abiTag(): AbiTag | null {
    if (this._abiTag === undefined) this._abiTag = parseAbiTag(this.source, this.d, this.programHeaders);
    return this._abiTag;
  }

  /** GNU_PROPERTY_X86_ISA_1_NEEDED (0 = none), found as ld.so finds it (gnu-property.ts). */
  x86IsaNeeded(): X86IsaNeeded {
    return (this._x86IsaNeeded ??= parseX86IsaNeeded(
      this.source,
      this.d,
      this.programHeaders,
      this.header.e_ident.class,
      this.header.e_machine,
    ));
  }

  /** Dynamic symbols named by DT_RELA/DT_REL/DT_JMPREL relocations, by ascending index. */
  symbolReferences(): readonly SymbolReference[] {
    return (this._refs ??= parseSymbolReferences(this.ctx, () => this.symbolCount()));
  }

  /** Releases the file descriptor. Idempotent; memoized results stay readable. */
  close(): void {
    this.source.close();
  }

  private dynamicTable(): DynamicTable | null {
    if (this._dynTable === undefined) this._dynTable = parseDynamicTable(this.source, this.d, this.programHeaders);
    return this._dynTable;
  }

  private strings(): StringTable {
    return (this._strings ??= readDynamicStrings(this.source, this.map, this.ctx.tags));
  }

  private symbolCount(): number {
    return (this._symCount ??= countDynamicSymbols(this.ctx));
  }
}

/** True when the file starts with "\x7fELF". One 4-byte read; filesystem errors propagate. */
export function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(ELFMAG.length);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return n === ELFMAG.length && buf.equals(ELFMAG);
  } finally {
    closeSync(fd);
  }
}
