// Parses GNU readelf (binutils 2.40) output into the shapes the ELF reader returns, so that tests
// can hold the reader against an independent implementation on the machine's real files.

import { execFileSync } from 'node:child_process';

export function haveReadelf(): boolean {
  try {
    execFileSync('readelf', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(args: string[]): string {
  return execFileSync('readelf', ['-W', ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
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
    else if (tag === 'FLAGS_1') r.flags1 = rest.replace(/^Flags:\s*/, '').trim().split(/\s+/).filter((s) => s !== '');
  }
  return r;
}

export interface ReadelfSymbol {
  index: number; value: number; size: number; type: string; bind: string; vis: string; ndx: string; name: string;
  /** The version suffix as readelf prints it: '', '@@V', '@V' or '@V (n)'. */
  version: string;
}

export function readelfDynSyms(path: string): ReadelfSymbol[] {
  const out = run(['--dyn-syms', path]);
  const syms: ReadelfSymbol[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+): ([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+) ?(.*)$/.exec(line);
    if (m === null) continue;
    const [, idx, value, size, type, bind, vis, ndx, rest] = m as unknown as string[];
    const full = rest ?? '';
    const at = full.indexOf('@');
    syms.push({
      index: Number(idx), value: parseInt(value ?? '0', 16),
      size: (size ?? '').startsWith('0x') ? parseInt(size ?? '0', 16) : Number(size),
      type: type ?? '', bind: bind ?? '', vis: vis ?? '', ndx: ndx ?? '',
      name: at < 0 ? full : full.slice(0, at), version: at < 0 ? '' : full.slice(at),
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
export function readelfSymbolRefs(path: string, is64: boolean, jumpSlot: number): Map<number, boolean> {
  const out = run(['-r', path]);
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
