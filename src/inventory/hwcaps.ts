// docs/loader.md section 3.
// What the CPU of this machine makes ld.so search: glibc-hwcaps subdirectories, the x86 ISA level,
// $PLATFORM and the pre-2.37 legacy hwcap subdirectories.
//
// Mirrors glibc's x86 code: get_isa_level (sysdeps/x86/get-isa-level.h), _dl_hwcaps_subdirs_active
// (sysdeps/x86_64/dl-hwcaps-subdirs.c) and the dl_platform / dl_hwcap setup at the end of
// init_cpu_features (sysdeps/x86/cpu-features.c). The CPU features come from /proc/cpuinfo, whose
// flags the kernel already clears when the OS does not enable them (e.g. AVX without XSAVE).

import { readFileSync } from 'node:fs';
import { arch } from 'node:process';

export interface CpuHwcaps {
  /** 'x86_64', 'aarch64', or Node's process.arch for anything else. */
  machine: string;
  /** Active glibc-hwcaps subdirectories, best first (x86-64: a tail of v4, v3, v2). */
  glibcHwcapsSubdirs: string[];
  /** x86 ISA level: 0 none, 1 baseline, 2 x86-64-v2, 3 x86-64-v3, 4 x86-64-v4; 0 off x86. */
  isaLevel: number;
  /** $PLATFORM as ld.so sees it (GLRO(dl_platform)): 'haswell' / 'xeon_phi' on some Intel CPUs, else AT_PLATFORM. */
  platform: string;
  /** Legacy subdirectories a glibc before 2.37 searches: the platform, 'tls', then the hwcap names set. */
  legacyHwcapNames: string[];
  /** GLRO(dl_hwcap) & HWCAP_IMPORTANT, the legacy hwcap bits ld.so.cache entries are filtered by. */
  dlHwcap: bigint;
}

/** HWCAP_X86_64 and HWCAP_X86_AVX512_1 of sysdeps/x86/dl-hwcap.h; names from _dl_x86_hwcap_flags. */
const HWCAP_X86_64 = 1n << 1n;
const HWCAP_X86_AVX512_1 = 1n << 2n;
/** HWCAP_ATOMICS of the arm64 kernel's AT_HWCAP (bit 8), the one bit aarch64's HWCAP_IMPORTANT keeps. */
const AARCH64_HWCAP_ATOMICS = 1n << 8n;

/**
 * The features get_isa_level requires at each level, as /proc/cpuinfo names them. `pni` is SSE3,
 * `lahf_lm` LAHF64_SAHF64, `cx16` CMPXCHG16B, `abm` LZCNT. BMI1/BMI2 joined the v3 test in later
 * glibc (they are part of the x86-64-v3 definition); every CPU with AVX2 has them anyway.
 */
const ISA_LEVEL_FLAGS: readonly (readonly string[])[] = [
  ['cmov', 'cx8', 'fpu', 'fxsr', 'mmx', 'sse', 'sse2'],
  ['cx16', 'lahf_lm', 'popcnt', 'pni', 'ssse3', 'sse4_1', 'sse4_2'],
  ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe'],
  ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'],
];

/** The x86-64 glibc-hwcaps subdirectory for ISA levels 2..4 (index = level). */
const X86_64_SUBDIRS: readonly string[] = ['', '', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4'];

/** Fields of the first processor block of /proc/cpuinfo. */
export interface CpuInfo {
  vendor: string;
  flags: Set<string>;
}

export function parseCpuInfo(text: string): CpuInfo {
  let vendor = '';
  let flags = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+?)\s*:\s?(.*)$/.exec(line);
    if (!m) {
      // A blank line ends the first processor; all processors report the same features.
      if (line.trim() === '' && flags.size > 0) break;
      continue;
    }
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'vendor_id') vendor = value.trim();
    // x86 says "flags", arm64 says "Features".
    else if (key === 'flags' || key === 'Features') flags = new Set(value.trim().split(/\s+/));
  }
  return { vendor, flags };
}

/** get_isa_level: each level needs the previous one. */
export function isaLevelFromFlags(flags: ReadonlySet<string>): number {
  let level = 0;
  for (const needed of ISA_LEVEL_FLAGS) {
    if (!needed.every((f) => flags.has(f))) break;
    level++;
  }
  return level;
}

/** The x86-64 part of init_cpu_features that sets dl_platform and dl_hwcap (Intel only). */
function x86Platform(info: CpuInfo): { platform: string; dlHwcap: bigint } {
  const has = (f: string): boolean => info.flags.has(f);
  let dlHwcap = HWCAP_X86_64;
  let platform: string | null = null;
  if (info.vendor === 'GenuineIntel') {
    if (has('avx512cd')) {
      if (has('avx512er')) {
        if (has('avx512pf')) platform = 'xeon_phi';
      } else if (has('avx512bw') && has('avx512dq') && has('avx512vl')) {
        dlHwcap |= HWCAP_X86_AVX512_1;
      }
    }
    if (platform === null && ['avx2', 'fma', 'bmi1', 'bmi2', 'abm', 'movbe', 'popcnt'].every(has)) {
      platform = 'haswell';
    }
  }
  // Otherwise dl_platform stays the kernel's AT_PLATFORM, "x86_64".
  return { platform: platform ?? 'x86_64', dlHwcap };
}

/** Computes CpuHwcaps from /proc/cpuinfo text for a machine. Exposed for tests with canned CPUs. */
export function cpuHwcapsFromCpuInfo(machine: string, cpuinfo: string): CpuHwcaps {
  const info = parseCpuInfo(cpuinfo);
  if (machine === 'x86_64') {
    const isaLevel = isaLevelFromFlags(info.flags);
    const glibcHwcapsSubdirs: string[] = [];
    for (let level = 4; level >= 2; level--) {
      if (isaLevel >= level) glibcHwcapsSubdirs.push(X86_64_SUBDIRS[level]!);
    }
    const { platform, dlHwcap } = x86Platform(info);
    // _dl_important_hwcaps order as `ld.so --help` lists it: platform, tls, then hwcap names.
    const legacy = [platform, 'tls', 'x86_64'];
    if (dlHwcap & HWCAP_X86_AVX512_1) legacy.push('avx512_1');
    return {
      machine,
      glibcHwcapsSubdirs,
      isaLevel,
      platform,
      legacyHwcapNames: [...new Set(legacy)],
      dlHwcap,
    };
  }
  // aarch64 has no glibc-hwcaps subdirectories (glibc 2.31-2.41 define none for it) and no ISA
  // level; $PLATFORM is AT_PLATFORM, "aarch64". The legacy hwcap mask, HWCAP_IMPORTANT, is
  // HWCAP_ATOMICS alone (docs/loader.md section 3), which arm64's cpuinfo calls "atomics".
  const atomics = machine === 'aarch64' && info.flags.has('atomics');
  return {
    machine,
    glibcHwcapsSubdirs: [],
    isaLevel: 0,
    platform: machine,
    legacyHwcapNames: atomics ? [machine, 'tls', 'atomics'] : [machine, 'tls'],
    dlHwcap: atomics ? AARCH64_HWCAP_ATOMICS : 0n,
  };
}

function nodeArchToMachine(a: string): string {
  if (a === 'x64') return 'x86_64';
  if (a === 'arm64') return 'aarch64';
  return a;
}

/**
 * The CPU qemu-user shows aarch64 programs when it runs them on another machine: its default
 * "max" CPU, which has LSE atomics (its ld.so reports dl_hwcap_important=0x100 in the lab's
 * bookworm-arm64 root; test/loader/arm64-roots.test.ts compares with `ld.so --help` there).
 */
const EMULATED_CPUINFO: Readonly<Record<string, string>> = { aarch64: 'Features\t: fp asimd atomics\n' };

/**
 * What this machine's CPU activates, from /proc/cpuinfo, for programs of `machine` (default: this
 * machine's own). A root of another machine can only run here under an emulator (the lab's arm64
 * roots under qemu-aarch64): it sees the emulator's CPU, not this one.
 */
export function detectCpuHwcaps(machine: string = nodeArchToMachine(arch)): CpuHwcaps {
  if (machine !== nodeArchToMachine(arch)) return cpuHwcapsFromCpuInfo(machine, EMULATED_CPUINFO[machine] ?? '');
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // No /proc (odd containers): report a CPU with no optional features.
  }
  return cpuHwcapsFromCpuInfo(machine, cpuinfo);
}

/** _dl_x86_hwcap_flags: the legacy hwcap bits that HWCAP_IMPORTANT keeps, in bit order. */
const X86_IMPORTANT_HWCAPS: readonly (readonly [bigint, string])[] = [
  [HWCAP_X86_64, 'x86_64'],
  [HWCAP_X86_AVX512_1, 'avx512_1'],
];

/**
 * The legacy hwcaps subdirectories a glibc before 2.37 searches in every directory, after the
 * glibc-hwcaps ones and before the directory itself, best first. _dl_important_hwcaps() takes the
 * names [hwcap bits (ascending)…, platform, "tls"] and lists every combination from all names down
 * to one, each path naming the names in reverse order (so "tls" first). Duplicates are kept, as
 * glibc keeps them (on x86_64 the hwcap and the platform are both "x86_64").
 */
export function legacyHwcapsSubdirs(cpu: CpuHwcaps): string[] {
  const names: string[] = [];
  if (cpu.machine === 'x86_64') {
    for (const [bit, name] of X86_IMPORTANT_HWCAPS) if ((cpu.dlHwcap & bit) !== 0n) names.push(name);
  }
  if (cpu.machine === 'aarch64' && (cpu.dlHwcap & AARCH64_HWCAP_ATOMICS) !== 0n) names.push('atomics');
  names.push(cpu.platform, 'tls');
  const all = (1 << names.length) - 1;
  const dirs: string[] = [];
  for (let entry = 0; entry < all; entry += 1) {
    const included = all - entry;
    const parts: string[] = [];
    for (let n = names.length - 1; n >= 0; n -= 1) if ((included & (1 << n)) !== 0) parts.push(names[n]!);
    dirs.push(parts.join('/'));
  }
  return dirs;
}
