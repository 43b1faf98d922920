// hwcaps: this machine's CPU as /proc/cpuinfo tells it, against what the real ld.so reports
// (`ld.so --help`, and `ld.so --list-diagnostics` on glibc 2.34+).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpuHwcapsFromCpuInfo, detectCpuHwcaps } from '../../src/inventory/hwcaps.js';
import { runningGlibc, skipBeforeGlibc } from '../support/running-glibc.js';

const LDSO = '/lib64/ld-linux-x86-64.so.2';
const onX86 = process.arch === 'x64' && existsSync(LDSO);
const notX86 = onX86 ? false : `needs x86-64 with ${LDSO}`;

/** ld.so's output for `args`; a run that fails is a test failure, never an empty answer. */
function ldso(...args: string[]): string {
  const run = spawnSync(LDSO, args, { encoding: 'utf8' });
  assert.equal(run.error, undefined, `${LDSO} ${args.join(' ')} did not start: ${run.error?.message}`);
  assert.equal(run.status, 0, `${LDSO} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

/** The indented lines of one `ld.so --help` section; fails when the heading is not there. */
function helpSection(help: string, heading: RegExp): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  assert.ok(start >= 0, `\`ld.so --help\` has no section ${heading}:\n${help}`);
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l.trim());
  }
  assert.ok(out.length > 0, `\`ld.so --help\` section ${heading} is empty`);
  return out;
}

/** The glibc-hwcaps subdirectories ld.so searches, best first, in its own words ("x86-64-v3 (supported, searched)"). */
function searchedHwcapsSubdirs(): string[] {
  const section = helpSection(ldso('--help'), /^Subdirectories of glibc-hwcaps directories/);
  return section.filter((l) => l.endsWith('(supported, searched)')).map((l) => l.split(' ')[0]!);
}

test('glibc-hwcaps subdirectories match `ld.so --help`', { skip: notX86 }, (t) => {
  if (skipBeforeGlibc(t, 2, 33, 'glibc-hwcaps subdirectories')) return;
  assert.deepEqual(detectCpuHwcaps().glibcHwcapsSubdirs, searchedHwcapsSubdirs());
});

test('platform and legacy subdirectories match `ld.so --help`', { skip: notX86 }, (t) => {
  const glibc = runningGlibc();
  if (glibc !== null && (glibc[0] > 2 || glibc[1] >= 37)) {
    t.skip(`glibc ${glibc.join('.')} has no legacy hwcaps subdirectories (removed in 2.37)`);
    return;
  }
  if (skipBeforeGlibc(t, 2, 33, 'hwcaps sections in `ld.so --help`')) return;
  const section = helpSection(ldso('--help'), /^Legacy HWCAP subdirectories/);
  const cpu = detectCpuHwcaps();
  const platformLine = section.find((l) => l.includes('(AT_PLATFORM'));
  assert.ok(platformLine);
  assert.equal(cpu.platform, platformLine.split(' ')[0]);
  const searched = [...new Set(section.filter((l) => l.endsWith('searched)')).map((l) => l.split(' ')[0]!))];
  assert.deepEqual(cpu.legacyHwcapNames, searched);
});

test('platform, dl_hwcap and the ISA level match `ld.so --list-diagnostics`', { skip: notX86 }, (t) => {
  if (skipBeforeGlibc(t, 2, 34, '`ld.so --list-diagnostics`')) return;
  const diag = ldso('--list-diagnostics');
  const get = (k: string): string => {
    const value = new RegExp(`^${k.replace(/\./g, '\\.')}=(.*)$`, 'm').exec(diag)?.[1];
    assert.ok(value !== undefined, `\`ld.so --list-diagnostics\` prints no ${k}`);
    return value;
  };
  const cpu = detectCpuHwcaps();
  assert.equal(get('dl_platform'), JSON.stringify(cpu.platform));
  assert.equal(BigInt(get('dl_hwcap')), cpu.dlHwcap);
  // The subdirectories come from ld.so's own words in --help, not from a decoding of
  // dl_hwcaps_subdirs_active, whose bit i belongs to the i-th name of dl_hwcaps_subdirs.
  assert.deepEqual(cpu.glibcHwcapsSubdirs, searchedHwcapsSubdirs());
  // cpu_features->isa_1 is what ld.so compares GNU_PROPERTY_X86_ISA_1_NEEDED with: one bit per level
  // (GNU_PROPERTY_X86_ISA_1_BASELINE = bit 0 … V4 = bit 3), each set only when the ones below are.
  const isa1 = Number(get('x86.cpu_features.isa_1'));
  assert.equal(cpu.isaLevel, isa1.toString(2).replace(/0/g, '').length);
  assert.equal(isa1, 2 ** cpu.isaLevel - 1, `isa_1 ${isa1.toString(16)} is not a run of low bits`);
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
