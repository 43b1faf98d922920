// hwcaps: this machine's CPU as /proc/cpuinfo tells it, against what the real ld.so reports
// (`ld.so --help`, and `ld.so --list-diagnostics` on glibc 2.34+).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpuHwcapsFromCpuInfo, detectCpuHwcaps } from '../../src/loader/hwcaps.js';

const LDSO = '/lib64/ld-linux-x86-64.so.2';
const onX86 = process.arch === 'x64' && existsSync(LDSO);

function ldso(...args: string[]): string {
  return spawnSync(LDSO, args, { encoding: 'utf8' }).stdout ?? '';
}

/** The indented lines of one `ld.so --help` section. */
function helpSection(help: string, heading: RegExp): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l.trim());
  }
  return out;
}

test('glibc-hwcaps subdirectories match `ld.so --help`', { skip: !onX86 }, () => {
  const help = ldso('--help');
  const section = helpSection(help, /^Subdirectories of glibc-hwcaps directories/);
  if (section.length === 0) return; // glibc before 2.33 has no such section
  const searched = section.filter((l) => l.endsWith('(supported, searched)')).map((l) => l.split(' ')[0]);
  assert.deepEqual(detectCpuHwcaps().glibcHwcapsSubdirs, searched);
});

test('platform and legacy subdirectories match `ld.so --help`', { skip: !onX86 }, () => {
  const section = helpSection(ldso('--help'), /^Legacy HWCAP subdirectories/);
  if (section.length === 0) return; // glibc 2.37+ has none
  const cpu = detectCpuHwcaps();
  const platformLine = section.find((l) => l.includes('(AT_PLATFORM'));
  assert.ok(platformLine);
  assert.equal(cpu.platform, platformLine.split(' ')[0]);
  const searched = [...new Set(section.filter((l) => l.endsWith('searched)')).map((l) => l.split(' ')[0]!))];
  assert.deepEqual(cpu.legacyHwcapNames, searched);
});

test('platform, dl_hwcap and the active bitmask match `ld.so --list-diagnostics`', { skip: !onX86 }, () => {
  const diag = ldso('--list-diagnostics');
  if (!diag.includes('dl_platform=')) return; // glibc before 2.34
  const get = (k: string): string | undefined => new RegExp(`^${k}=(.*)$`, 'm').exec(diag)?.[1];
  const cpu = detectCpuHwcaps();
  assert.equal(get('dl_platform'), JSON.stringify(cpu.platform));
  assert.equal(BigInt(get('dl_hwcap')!), cpu.dlHwcap);
  // dl_hwcaps_subdirs lists all known names best first; the active mask marks a tail of them.
  const all = JSON.parse(get('dl_hwcaps_subdirs')!).split(':') as string[];
  const mask = Number(get('dl_hwcaps_subdirs_active'));
  const active = all.filter((_, i) => mask & (1 << (all.length - 1 - i)));
  assert.deepEqual(cpu.glibcHwcapsSubdirs, active);
  assert.equal(cpu.isaLevel, 1 + active.length);
});

test('canned CPUs: ISA levels and the Intel-only haswell platform', () => {
  const base = 'fpu cmov cx8 fxsr mmx sse sse2';
  const v2 = `${base} cx16 lahf_lm popcnt pni ssse3 sse4_1 sse4_2`;
  const v3 = `${v2} avx avx2 bmi1 bmi2 f16c fma abm movbe`;
  const v4 = `${v3} avx512f avx512bw avx512cd avx512dq avx512vl`;
  const cpu = (vendor: string, flags: string) =>
    cpuHwcapsFromCpuInfo('x86_64', `processor\t: 0\nvendor_id\t: ${vendor}\nflags\t\t: ${flags}\n\n`);
  assert.equal(cpu('AuthenticAMD', base).isaLevel, 1);
  assert.deepEqual(cpu('AuthenticAMD', base).glibcHwcapsSubdirs, []);
  assert.deepEqual(cpu('AuthenticAMD', v2).glibcHwcapsSubdirs, ['x86-64-v2']);
  assert.deepEqual(cpu('AuthenticAMD', v3).glibcHwcapsSubdirs, ['x86-64-v3', 'x86-64-v2']);
  assert.equal(cpu('AuthenticAMD', v4).isaLevel, 4);
  assert.equal(cpu('AuthenticAMD', v4).platform, 'x86_64');
  assert.equal(cpu('GenuineIntel', v3).platform, 'haswell');
  assert.equal(cpu('GenuineIntel', v2).platform, 'x86_64');
  const skx = cpu('GenuineIntel', v4);
  assert.equal(skx.platform, 'haswell');
  assert.equal(skx.dlHwcap, 6n);
  assert.deepEqual(skx.legacyHwcapNames, ['haswell', 'tls', 'x86_64', 'avx512_1']);
  assert.equal(cpu('GenuineIntel', `${v4} avx512er avx512pf`).platform, 'xeon_phi');
  // v3 without MOVBE is v2 for glibc.
  assert.equal(cpu('GenuineIntel', v3.replace(' movbe', '')).isaLevel, 2);
});
