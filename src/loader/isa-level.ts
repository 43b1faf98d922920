// The x86 ISA-level check of glibc 2.33 and later (docs/loader-model.md, "x86 ISA level"): once
// every object of the process is loaded, and before relocation, ld.so compares each object's
// GNU_PROPERTY_X86_ISA_1_NEEDED with the levels the CPU supports and stops at the first object that
// needs more: "OBJ: CPU ISA level is lower than required", exit 127 (for a dlopen, the same words
// from dlerror). glibc before 2.33, musl and other machines check nothing.

import { EM_386, EM_X86_64 } from '../elf/constants.js';
import { compareVersionParts } from './floors.js';
import type { LoaderConfig } from './host-view.js';
import type { LoadedObject, Problem } from './types.js';

export const ISA_LEVEL_MESSAGE = 'CPU ISA level is lower than required';

/**
 * cpu_features->isa_1 for a CPU of ISA level `level`: GNU_PROPERTY_X86_ISA_1_BASELINE (bit 0) up to
 * the level's own bit (V2 bit 1, V3 bit 2, V4 bit 3), as get_isa_level sets them, each only with
 * the ones below.
 */
export function cpuIsaBits(level: number): number {
  return level <= 0 ? 0 : ((1 << Math.min(level, 31)) - 1) >>> 0;
}

/** Whether this host's loader makes the check at all. */
function checksIsaLevel(config: LoaderConfig): boolean {
  if (config.machine !== EM_X86_64 && config.machine !== EM_386) return false;
  if (config.glibcVersion === null || compareVersionParts(config.glibcVersion, [2, 33]) < 0) return false;
  // Level 0 means the CPU could not be read (no /proc/cpuinfo); every x86-64 CPU has the baseline,
  // so rather than refuse every marked object, say nothing.
  return config.isaLevel > 0;
}

/**
 * Objects whose ISA needs the CPU does not meet. ld.so walks l_initfini from the end (dependencies
 * before the objects that need them, the program last), skips itself, and names only the first
 * it finds; pyrelo lists every such object, in reverse load order, which is that order unless a
 * library also needs one loaded after it.
 */
export function isaLevelProblems(
  objects: readonly LoadedObject[],
  config: LoaderConfig,
  only?: ReadonlySet<number>,
): Problem[] {
  if (!checksIsaLevel(config)) return [];
  const cpu = cpuIsaBits(config.isaLevel);
  // glibc 2.39 started reading PT_GNU_PROPERTY (gnu-property.ts).
  const readsPropertySegment = config.glibcVersion !== null && compareVersionParts(config.glibcVersion, [2, 39]) >= 0;
  const problems: Problem[] = [];
  for (const loaded of [...objects].reverse()) {
    // A dlopen checks only the objects it mapped anew (`only`); the others passed at start-up.
    if (only !== undefined && !only.has(loaded.index)) continue;
    const marks = loaded.object?.x86IsaNeeded;
    const needed = (readsPropertySegment ? marks?.withPropertySegment : marks?.fromNotes) ?? 0;
    if (needed === 0 || loaded.foundBy === 'interpreter' || (needed & cpu) >>> 0 === needed) continue;
    const path = loaded.path ?? loaded.name;
    problems.push({ kind: 'isa-level', severity: 'error', object: path, message: `${path}: ${ISA_LEVEL_MESSAGE}` });
  }
  return problems;
}
