// Converts between the loader's LoadableObject and the compact stored form of an inventory.

import { dynamicFactsOf, type LoadableObject } from '../loader/loadable.js';
import type { StoredObject } from './format.js';

const NONE = -1;

export function storeObject(object: LoadableObject): StoredObject {
  return {
    header: object.header,
    interpreter: object.interpreter,
    ...dynamicFactsOf(object),
    ...(object.x86IsaNeeded.fromNotes === 0 && object.x86IsaNeeded.withPropertySegment === 0
      ? {}
      : { x86IsaNeeded: [object.x86IsaNeeded.fromNotes, object.x86IsaNeeded.withPropertySegment] as const }),
    ...(object.tls === undefined ? {} : { tls: [object.tls.vaddr, object.tls.memsz, object.tls.align] as const }),
    versionDefinitions: object.versionDefinitions.map((d) => [d.name, d.hash, d.base, d.index] as const),
    versionNeeds: object.versionNeeds.map(
      (n) => [n.file, n.versions.map((v) => [v.name, v.hash, v.weak, v.index] as const)] as const,
    ),
    versions: object.versions.map((v) => [v.index, v.name, v.hash, v.hidden] as const),
    hasVersym: object.hasVersym,
    hasSymbolHash: object.hasSymbolHash,
    definitions: object.definitions.map(
      (d) => [d.name, d.versionIndex ?? NONE, (d.versionHidden ? 1 : 0) | (d.undefinedWithValue ? 2 : 0)] as const,
    ),
    requirements: object.requirements.map(
      (r) =>
        [r.name, r.versionIndex ?? NONE, (r.weak ? 1 : 0) | (r.pltOnly ? 2 : 0) | (r.selfDefined ? 4 : 0)] as const,
    ),
  };
}

export function loadObject(stored: StoredObject): LoadableObject {
  return {
    header: stored.header,
    interpreter: stored.interpreter,
    needed: stored.needed,
    soname: stored.soname,
    rpath: stored.rpath,
    runpath: stored.runpath,
    flags: stored.flags,
    flags1: stored.flags1,
    abiTag: stored.abiTag,
    x86IsaNeeded: { fromNotes: stored.x86IsaNeeded?.[0] ?? 0, withPropertySegment: stored.x86IsaNeeded?.[1] ?? 0 },
    ...(stored.tls === undefined ? {} : { tls: { vaddr: stored.tls[0], memsz: stored.tls[1], align: stored.tls[2] } }),
    versionDefinitions: stored.versionDefinitions.map(([name, hash, base, index]) => ({ name, hash, base, index })),
    versionNeeds: stored.versionNeeds.map(([file, versions]) => ({
      file,
      versions: versions.map(([name, hash, weak, index]) => ({ name, hash, weak, index })),
    })),
    versions: stored.versions.map(([index, name, hash, hidden]) => ({ index, name, hash, hidden })),
    hasVersym: stored.hasVersym,
    hasSymbolHash: stored.hasSymbolHash,
    definitions: stored.definitions.map(([name, versionIndex, bits]) => ({
      name,
      versionIndex: versionIndex === NONE ? null : versionIndex,
      versionHidden: (bits & 1) !== 0,
      undefinedWithValue: (bits & 2) !== 0,
    })),
    requirements: stored.requirements.map(([name, versionIndex, bits]) => ({
      name,
      versionIndex: versionIndex === NONE ? null : versionIndex,
      weak: (bits & 1) !== 0,
      pltOnly: (bits & 2) !== 0,
      selfDefined: (bits & 4) !== 0,
    })),
  };
}
