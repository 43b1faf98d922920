// Build small ELF files with gcc in a temporary directory, and patch the few
// things no toolchain option produces (a weak Vernaux, an object with both
// DT_RPATH and DT_RUNPATH).
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { execa } from 'execa';

export async function makeTempDir(prefix = 'pyrelo-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface CompileOptions {
  /** Directory the output (and `.build/` with the sources) goes to. */
  dir: string;
  /** Output file, relative to dir or absolute. Parent directories are created. */
  file: string;
  /** C source text. */
  source: string;
  /** Link inputs after `-Wl,--no-as-needed`: `-L…`/`-l…` arguments or full paths of libraries. */
  needed?: string[];
  /** Extra arguments to gcc at link time (e.g. `-Wl,-z,nodefaultlib`). */
  linkArgs?: string[];
  /** Extra compiler flags. */
  cflags?: string[];
  /** DT_RPATH (`-Wl,--disable-new-dtags`). */
  rpath?: string;
  /** DT_RUNPATH (`-Wl,--enable-new-dtags`). With rpath too, both tags are produced (see linkPathArgs). */
  runpath?: string;
  /** Build for i386 (needs gcc-multilib). */
  m32?: boolean;
}

export interface SharedLibraryOptions extends CompileOptions {
  /** DT_SONAME; none when omitted. */
  soname?: string;
  /** Version script text (written next to the source). */
  versionScript?: string;
}

export type ExecutableOptions = CompileOptions;

const DT_RUNPATH = 29;
const DT_AUDIT = 0x6ffffefc;

function outputPath(o: CompileOptions): string {
  return isAbsolute(o.file) ? o.file : resolve(o.dir, o.file);
}

/**
 * gcc cannot emit both DT_RPATH and DT_RUNPATH (new dtags give RUNPATH only).
 * When both are asked for, RPATH comes from `-rpath` with old dtags, and the
 * RUNPATH string is carried by a DT_AUDIT entry (`--audit`) whose tag is then
 * rewritten to DT_RUNPATH.
 */
function linkPathArgs(o: CompileOptions): { args: string[]; retagAudit: string | null } {
  if (o.rpath !== undefined && o.runpath !== undefined) {
    return {
      args: ['-Wl,--disable-new-dtags', `-Wl,-rpath,${o.rpath}`, `-Wl,--audit,${o.runpath}`],
      retagAudit: o.runpath,
    };
  }
  if (o.rpath !== undefined) return { args: ['-Wl,--disable-new-dtags', `-Wl,-rpath,${o.rpath}`], retagAudit: null };
  if (o.runpath !== undefined) return { args: ['-Wl,--enable-new-dtags', `-Wl,-rpath,${o.runpath}`], retagAudit: null };
  return { args: [], retagAudit: null };
}

async function gcc(args: string[], cwd: string): Promise<void> {
  const r = await execa('gcc', args, { cwd, reject: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
  if (r.exitCode !== 0) {
    throw new Error(`gcc ${args.join(' ')} failed (${r.exitCode}):\n${r.stderr}`);
  }
}

async function compile(
  o: CompileOptions,
  kind: 'shared' | 'exec',
  extra: string[],
  scriptText?: string,
): Promise<string> {
  const out = outputPath(o);
  await mkdir(dirname(out), { recursive: true });
  const build = join(o.dir, '.build');
  await mkdir(build, { recursive: true });
  const stem = relative(resolve(o.dir), out).replace(/[^A-Za-z0-9_.-]/g, '_');
  const src = join(build, `${stem}.c`);
  await writeFile(src, o.source);
  const args = ['-g0', '-O0', '-fno-ident', ...(o.m32 ? ['-m32'] : []), ...(o.cflags ?? [])];
  if (kind === 'shared') args.push('-shared', '-fPIC');
  // Dependencies of libraries may be missing at link time on purpose.
  else args.push('-Wl,--allow-shlib-undefined');
  args.push('-o', out, src, ...extra);
  if (scriptText !== undefined) {
    const map = join(build, `${stem}.map`);
    await writeFile(map, scriptText);
    args.push(`-Wl,--version-script,${map}`);
  }
  const paths = linkPathArgs(o);
  args.push(...paths.args, '-Wl,--build-id=none', '-Wl,--no-as-needed', ...(o.needed ?? []), ...(o.linkArgs ?? []));
  await gcc(args, o.dir);
  if (paths.retagAudit !== null) {
    const n = await retagDynamicEntry(out, DT_AUDIT, DT_RUNPATH, paths.retagAudit);
    if (n !== 1) throw new Error(`expected one DT_AUDIT entry to retag in ${out}, found ${n}`);
  }
  return out;
}

/** Build a shared library; returns its absolute path. */
export async function compileSharedLibrary(o: SharedLibraryOptions): Promise<string> {
  const extra = o.soname !== undefined ? [`-Wl,-soname,${o.soname}`] : [];
  return compile(o, 'shared', extra, o.versionScript);
}

/** Build an executable (gcc's default: PIE on Debian); returns its absolute path. */
export async function compileExecutable(o: ExecutableOptions): Promise<string> {
  return compile(o, 'exec', []);
}

let m32Cache: Promise<boolean> | undefined;

/** Whether `gcc -m32` can link a program here (gcc-multilib installed). */
export function canCompile32(): Promise<boolean> {
  m32Cache ??= (async () => {
    const dir = await makeTempDir('pyrelo-m32-');
    try {
      await compileExecutable({ dir, file: 'a', source: 'int main(void){return 0;}\n', m32: true });
      return true;
    } catch {
      return false;
    } finally {
      await removeDir(dir);
    }
  })();
  return m32Cache;
}

/**
 * A 32-bit ELF header (ELFCLASS32, little-endian, ET_DYN, EM_386, no program
 * headers) padded with zeros to 64 bytes: enough for the 64-bit ld.so to see
 * the wrong class and skip the file. Unpadded (52 bytes) the file is shorter
 * than an Elf64_Ehdr and the loader stops with the fatal "file too short"
 * before it looks at the class.
 */
export function elf32HeaderOnly(padTo = 64): Buffer {
  const b = Buffer.alloc(Math.max(52, padTo));
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 1; // ELFCLASS32
  b[5] = 1; // ELFDATA2LSB
  b[6] = 1; // EV_CURRENT
  b.writeUInt16LE(3, 16); // e_type ET_DYN
  b.writeUInt16LE(3, 18); // e_machine EM_386
  b.writeUInt32LE(1, 20); // e_version
  b.writeUInt16LE(52, 40); // e_ehsize
  b.writeUInt16LE(32, 42); // e_phentsize
  b.writeUInt16LE(40, 46); // e_shentsize
  return b;
}

// --- a minimal ELF reader for the patches ------------------------------------

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

interface ElfView {
  is64: boolean;
  le: boolean;
  sections: Section[];
  buf: Buffer;
}

function u16(v: ElfView, off: number): number {
  return v.le ? v.buf.readUInt16LE(off) : v.buf.readUInt16BE(off);
}
function u32(v: ElfView, off: number): number {
  return v.le ? v.buf.readUInt32LE(off) : v.buf.readUInt32BE(off);
}
function word(v: ElfView, off: number): number {
  if (!v.is64) return u32(v, off);
  return Number(v.le ? v.buf.readBigUInt64LE(off) : v.buf.readBigUInt64BE(off));
}
function sword(v: ElfView, off: number): number {
  if (!v.is64) return v.le ? v.buf.readInt32LE(off) : v.buf.readInt32BE(off);
  return Number(v.le ? v.buf.readBigInt64LE(off) : v.buf.readBigInt64BE(off));
}

function readElf(buf: Buffer): ElfView {
  if (buf.length < 52 || buf.toString('latin1', 0, 4) !== '\x7fELF') throw new Error('not an ELF file');
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const v: ElfView = { is64, le, sections: [], buf };
  const shoff = word(v, is64 ? 0x28 : 0x20);
  const shentsize = u16(v, is64 ? 0x3a : 0x2e);
  const shnum = u16(v, is64 ? 0x3c : 0x30);
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    v.sections.push(
      is64
        ? {
            type: u32(v, s + 4),
            offset: word(v, s + 0x18),
            size: word(v, s + 0x20),
            link: u32(v, s + 0x28),
            entsize: word(v, s + 0x38),
          }
        : {
            type: u32(v, s + 4),
            offset: u32(v, s + 0x10),
            size: u32(v, s + 0x14),
            link: u32(v, s + 0x18),
            entsize: u32(v, s + 0x24),
          },
    );
  }
  return v;
}

function cstring(buf: Buffer, off: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end < 0 ? buf.length : end);
}

const SHT_DYNAMIC = 6;
const SHT_GNU_VERNEED = 0x6ffffffe;
export const VER_FLG_WEAK = 2;

/**
 * Set `flags` in vna_flags of every Vernaux named `version` (optionally only
 * under the Verneed of `file`). binutils copies vna_flags from the provider's
 * Verdef vd_flags and never sets VER_FLG_WEAK for a version with symbols, so
 * a weak version need can only be produced this way. Returns how many
 * Vernaux records were patched.
 */
export async function patchVernauxFlags(path: string, version: string, flags: number, file?: string): Promise<number> {
  const buf = await readFile(path);
  const v = readElf(buf);
  let patched = 0;
  for (const sec of v.sections) {
    if (sec.type !== SHT_GNU_VERNEED) continue;
    const strtab = v.sections[sec.link];
    if (!strtab) throw new Error('verneed without string table');
    let vn = sec.offset;
    while (true) {
      const cnt = u16(v, vn + 2);
      const vnFile = cstring(buf, strtab.offset + u32(v, vn + 4));
      let aux = vn + u32(v, vn + 8);
      for (let i = 0; i < cnt; i++) {
        const name = cstring(buf, strtab.offset + u32(v, aux + 8));
        if (name === version && (file === undefined || file === vnFile)) {
          const cur = u16(v, aux + 4);
          if (v.le) buf.writeUInt16LE(cur | flags, aux + 4);
          else buf.writeUInt16BE(cur | flags, aux + 4);
          patched++;
        }
        const next = u32(v, aux + 12);
        if (next === 0) break;
        aux += next;
      }
      const next = u32(v, vn + 12);
      if (next === 0) break;
      vn += next;
    }
  }
  if (patched > 0) await writeFile(path, buf);
  return patched;
}

/**
 * Rewrite the tag of the dynamic entries tagged `fromTag` whose string value
 * is `value` into `toTag`. Returns how many entries were rewritten.
 */
export async function retagDynamicEntry(path: string, fromTag: number, toTag: number, value: string): Promise<number> {
  const buf = await readFile(path);
  const v = readElf(buf);
  const entSize = v.is64 ? 16 : 8;
  let patched = 0;
  for (const sec of v.sections) {
    if (sec.type !== SHT_DYNAMIC) continue;
    const strtab = v.sections[sec.link];
    if (!strtab) throw new Error('dynamic section without string table');
    for (let off = sec.offset; off + entSize <= sec.offset + sec.size; off += entSize) {
      const tag = sword(v, off);
      if (tag === 0) break;
      if (tag !== fromTag) continue;
      const val = word(v, off + entSize / 2);
      if (cstring(buf, strtab.offset + val) !== value) continue;
      if (v.is64) {
        if (v.le) buf.writeBigInt64LE(BigInt(toTag), off);
        else buf.writeBigInt64BE(BigInt(toTag), off);
      } else if (v.le) buf.writeInt32LE(toTag, off);
      else buf.writeInt32BE(toTag, off);
      patched++;
    }
  }
  if (patched > 0) await writeFile(path, buf);
  return patched;
}

const PT_LOAD = 1;

/** One PT_LOAD header of a file, as patchLoadSegment sees it. */
export interface LoadHeaderFields {
  offset: number;
  vaddr: number;
  filesz: number;
  align: number;
  flags: number;
}

/** Where each PT_LOAD header of an ELF64 little-endian file lies, with its fields. */
function loadHeaders(buf: Buffer): { at: number; fields: LoadHeaderFields }[] {
  if (buf.toString('latin1', 0, 4) !== '\x7fELF' || buf[4] !== 2 || buf[5] !== 1)
    throw new Error('patchLoadSegment: ELF64 LSB only');
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const out: { at: number; fields: LoadHeaderFields }[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (buf.readUInt32LE(at) !== PT_LOAD) continue;
    out.push({
      at,
      fields: {
        flags: buf.readUInt32LE(at + 4),
        offset: Number(buf.readBigUInt64LE(at + 8)),
        vaddr: Number(buf.readBigUInt64LE(at + 16)),
        filesz: Number(buf.readBigUInt64LE(at + 32)),
        align: Number(buf.readBigUInt64LE(at + 48)),
      },
    });
  }
  return out;
}

/** The PT_LOAD headers of an ELF64 little-endian file, in program header order. */
export async function readLoadSegments(path: string): Promise<LoadHeaderFields[]> {
  return loadHeaders(await readFile(path)).map((h) => h.fields);
}

/**
 * Rewrite p_offset, p_vaddr and/or p_align of the `index`-th PT_LOAD (counting PT_LOADs only) of an
 * ELF64 little-endian file: a library no linker would lay out, for ld.so's load command checks.
 */
export async function patchLoadSegment(
  path: string,
  index: number,
  fields: Partial<Pick<LoadHeaderFields, 'offset' | 'vaddr' | 'align'>>,
): Promise<void> {
  const buf = await readFile(path);
  const header = loadHeaders(buf)[index];
  if (header === undefined) throw new Error(`${path}: no PT_LOAD number ${index}`);
  if (fields.offset !== undefined) buf.writeBigUInt64LE(BigInt(fields.offset), header.at + 8);
  if (fields.vaddr !== undefined) {
    buf.writeBigUInt64LE(BigInt(fields.vaddr), header.at + 16);
    buf.writeBigUInt64LE(BigInt(fields.vaddr), header.at + 24); // p_paddr follows p_vaddr
  }
  if (fields.align !== undefined) buf.writeBigUInt64LE(BigInt(fields.align), header.at + 48);
  await writeFile(path, buf);
}
