// Parses GNU readelf (binutils 2.40) output into the shapes the ELF reader returns, so that tests
// can hold the reader against an independent implementation on the machine's real files.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ElfFile, jumpSlotType, SHN_ABS, SHN_COMMON, SHN_UNDEF } from '../../src/elf/index.js';

export function haveReadelf(): boolean {
  try {
    execFileSync('readelf', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(args: string[]): string {
  return execFileSync('readelf', ['-W', ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

export interface ReadelfDynamic {
  /** Entries before the first DT_NULL. */
  count: number;
  needed: string[];
  soname: string | null;
  rpath: string | null;
  runpath: string | null;
  flags1: string[];
}

export function readelfDynamic(path: string): ReadelfDynamic | null {
  const out = run(['-d', path]);
  if (!out.includes('Dynamic section at offset')) return null;
  const r: ReadelfDynamic = { count: 0, needed: [], soname: null, rpath: null, runpath: null, flags1: [] };
  for (const line of out.split('\n')) {
    const m = /^\s*0x[0-9a-f]+ \((\w+)\)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const [, tag, rest] = m as unknown as [string, string, string];
    if (tag === 'NULL') break;
    r.count++;
    const bracket = /\[(.*)\]$/.exec(rest)?.[1] ?? null;
    if (tag === 'NEEDED') r.needed.push(bracket ?? '');
    else if (tag === 'SONAME') r.soname = bracket;
    else if (tag === 'RPATH') r.rpath = bracket;
    else if (tag === 'RUNPATH') r.runpath = bracket;
    else if (tag === 'FLAGS_1')
      r.flags1 = rest
        .replace(/^Flags:\s*/, '')
        .trim()
        .split(/\s+/)
        .filter((s) => s !== '');
  }
  return r;
}

export interface ReadelfSymbol {
  index: number;
  value: number;
  size: number;
  type: string;
  bind: string;
  vis: string;
  ndx: string;
  name: string;
  /** The version suffix as readelf prints it: '', '@@V', '@V' or '@V (n)'. */
  version: string;
}

/**
 * How readelf finds the dynamic symbols and relocations: through the section headers, or (-D)
 * through the dynamic segment, as the loader does, for images without section headers.
 */
export type ReadelfView = 'sections' | 'dynamic';

export function readelfDynSyms(path: string, view: ReadelfView = 'sections'): ReadelfSymbol[] {
  const out = run(view === 'dynamic' ? ['-D', '-s', path] : ['--dyn-syms', path]);
  const syms: ReadelfSymbol[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+): ([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+) ?(.*)$/.exec(line);
    if (m === null) continue;
    const [, idx, value, size, type, bind, vis, ndx, rest] = m as unknown as string[];
    const full = rest ?? '';
    const at = full.indexOf('@');
    syms.push({
      index: Number(idx),
      value: parseInt(value ?? '0', 16),
      size: (size ?? '').startsWith('0x') ? parseInt(size ?? '0', 16) : Number(size),
      type: type ?? '',
      bind: bind ?? '',
      vis: vis ?? '',
      ndx: ndx ?? '',
      name: at < 0 ? full : full.slice(0, at),
      version: at < 0 ? '' : full.slice(at),
    });
  }
  return syms;
}

export interface ReadelfVersions {
  defs: { flags: string; index: number; cnt: number; names: string[] }[];
  needs: { version: number; file: string; cnt: number; aux: { name: string; flags: string; other: number }[] }[];
}

export function readelfVersions(path: string): ReadelfVersions {
  const out = run(['-V', path]);
  const r: ReadelfVersions = { defs: [], needs: [] };
  for (const line of out.split('\n')) {
    let m = /Rev: \d+\s+Flags: (.*?)\s+Index: (\d+)\s+Cnt: (\d+)\s+Name: (.*)$/.exec(line);
    if (m !== null) {
      r.defs.push({ flags: m[1] ?? '', index: Number(m[2]), cnt: Number(m[3]), names: [m[4] ?? ''] });
      continue;
    }
    m = /Parent \d+: (.*)$/.exec(line);
    if (m !== null) {
      r.defs.at(-1)?.names.push(m[1] ?? '');
      continue;
    }
    m = /Version: (\d+)\s+File: (.*?)\s+Cnt: (\d+)$/.exec(line);
    if (m !== null) {
      r.needs.push({ version: Number(m[1]), file: m[2] ?? '', cnt: Number(m[3]), aux: [] });
      continue;
    }
    m = /Name: (.*?)\s+Flags: (.*?)\s+Version: (\d+)$/.exec(line);
    if (m !== null) r.needs.at(-1)?.aux.push({ name: m[1] ?? '', flags: m[2] ?? '', other: Number(m[3]) });
  }
  return r;
}

export function readelfInterpreter(path: string): string | null {
  const m = /\[Requesting program interpreter: (.*)\]/.exec(run(['-l', path]));
  return m === null ? null : (m[1] ?? null);
}

export function readelfAbiTag(path: string): string | null {
  const m = /NT_GNU_ABI_TAG \(ABI version tag\)\s+OS: (\w+), ABI: ([\d.]+)/.exec(run(['-n', path]));
  return m === null ? null : `${m[1]} ${m[2]}`;
}

/** Symbol index -> true while only relocations of type `jumpSlot` name it (from r_info). */
export function readelfSymbolRefs(
  path: string,
  is64: boolean,
  jumpSlot: number,
  view: ReadelfView = 'sections',
): Map<number, boolean> {
  const out = run(view === 'dynamic' ? ['-D', '-r', path] : ['-r', path]);
  const refs = new Map<number, boolean>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+)\s+([0-9a-f]+)\s+R_/.exec(line);
    if (m === null) continue;
    const info = BigInt(`0x${m[2]}`);
    const sym = Number(is64 ? info >> 32n : info >> 8n);
    const type = Number(is64 ? info & 0xffffffffn : info & 0xffn);
    if (sym === 0) continue;
    refs.set(sym, (refs.get(sym) ?? true) && type === jumpSlot);
  }
  return refs;
}

// ---- the reader against readelf, for one file ----------------------------------------------

const TYPES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS', '7', '8', '9', 'IFUNC'];
const BINDS: Record<number, string> = { 0: 'LOCAL', 1: 'GLOBAL', 2: 'WEAK', 10: 'UNIQUE' };
const VIS = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'];
const FLAGS_1 = [
  'NOW',
  'GLOBAL',
  'GROUP',
  'NODELETE',
  'LOADFLTR',
  'INITFIRST',
  'NOOPEN',
  'ORIGIN',
  'DIRECT',
  'TRANS',
  'INTERPOSE',
  'NODEFLIB',
  'NODUMP',
  'CONFALT',
  'ENDFILTEE',
  'DISPRELDNE',
  'DISPRELPND',
  'NODIRECT',
  'IGNMULDEF',
  'NOKSYMS',
  'NOHDR',
  'EDITED',
  'NORELOC',
  'SYMINTPOSE',
  'GLOBAUDIT',
  'SINGLETON',
  'STUB',
  'PIE',
];

function flagNames(flags: number, names: readonly string[]): string[] {
  return names.filter((_, bit) => (flags & (2 ** bit)) !== 0);
}

function verFlags(flags: number): string {
  const n = flagNames(flags, ['BASE', 'WEAK']);
  return n.length === 0 ? 'none' : n.join(' | ');
}

function ndxName(shndx: number): string {
  if (shndx === SHN_UNDEF) return 'UND';
  if (shndx === SHN_ABS) return 'ABS';
  if (shndx === SHN_COMMON) return 'COM';
  return String(shndx);
}

/**
 * Asserts that every accessor agrees with readelf on `path`. With view 'dynamic' (a file without
 * section headers), the version tables are compared only through the symbols' version names:
 * readelf -V finds the tables by section alone.
 */
export function compareWithReadelf(path: string, view: ReadelfView = 'sections'): void {
  const f = ElfFile.open(path);
  try {
    assert.equal(f.interpreter(), readelfInterpreter(path), `${path}: interpreter`);
    const tag = f.abiTag();
    assert.equal(
      tag === null ? null : `${tag.os === 0 ? 'Linux' : tag.os} ${tag.major}.${tag.minor}.${tag.patch}`,
      readelfAbiTag(path),
      `${path}: ABI tag`,
    );

    const rd = readelfDynamic(path);
    const dyn = f.dynamic();
    if (rd === null) {
      assert.equal(dyn, null, `${path}: no dynamic section`);
      return;
    }
    assert.ok(dyn !== null);
    assert.equal(dyn.entries.length, rd.count, `${path}: dynamic entries`);
    assert.deepEqual(dyn.needed, rd.needed, `${path}: DT_NEEDED`);
    assert.equal(dyn.soname, rd.soname, `${path}: DT_SONAME`);
    assert.equal(dyn.rpath, rd.rpath, `${path}: DT_RPATH`);
    assert.equal(dyn.runpath, rd.runpath, `${path}: DT_RUNPATH`);
    assert.deepEqual(flagNames(dyn.flags1, FLAGS_1), rd.flags1, `${path}: DT_FLAGS_1`);

    const defs = f.versionDefinitions();
    const needs = f.versionNeeds();
    if (view === 'sections') {
      const rv = readelfVersions(path);
      assert.deepEqual(
        defs.map((v) => ({ flags: verFlags(v.vd_flags), index: v.vd_ndx, cnt: v.vd_cnt, names: v.names })),
        rv.defs,
        `${path}: verdef`,
      );
      assert.deepEqual(
        needs.map((v) => ({
          version: v.vn_version,
          file: v.vn_file,
          cnt: v.aux.length,
          aux: v.aux.map((a) => ({ name: a.vna_name, flags: verFlags(a.vna_flags), other: a.vna_other })),
        })),
        rv.needs,
        `${path}: verneed`,
      );
    }

    const defNames = new Map(defs.map((v) => [v.vd_ndx, v.names[0] ?? '']));
    const needNames = new Map(needs.flatMap((v) => v.aux.map((a) => [a.vna_other, a.vna_name] as const)));
    const mine = f.dynamicSymbols().map((s) => {
      let version = '';
      const vi = s.versionIndex;
      if (vi !== null && vi > 1) {
        const def = s.st_shndx !== SHN_UNDEF ? defNames.get(vi) : undefined;
        // readelf leaves out the version of the symbol that names the version itself.
        if (def !== undefined)
          version = def === s.name && !s.versionHidden ? '' : `${s.versionHidden ? '@' : '@@'}${def}`;
        else if (needNames.has(vi)) version = `@${needNames.get(vi) ?? ''} (${vi})`;
      }
      return {
        index: s.index,
        value: s.st_value,
        size: s.st_size,
        type: TYPES[s.type] ?? String(s.type),
        bind: BINDS[s.binding] ?? String(s.binding),
        vis: VIS[s.visibility] ?? '',
        ndx: ndxName(s.st_shndx),
        // readelf shows an unnamed STT_SECTION symbol under its section's name.
        name: s.type === 3 && s.name === '' ? (f.sectionHeaders()[s.st_shndx]?.name ?? '') : s.name,
        version,
      };
    });
    assert.deepEqual(mine, readelfDynSyms(path, view), `${path}: dynamic symbols`);

    const jump = jumpSlotType(f.header.e_machine) ?? -1;
    const refs = readelfSymbolRefs(path, f.header.e_ident.class === 64, jump, view);
    assert.deepEqual(
      f.symbolReferences(),
      [...refs].sort((a, b) => a[0] - b[0]).map(([symbolIndex, pltOnly]) => ({ symbolIndex, pltOnly })),
      `${path}: relocations`,
    );
  } finally {
    f.close();
  }
}
