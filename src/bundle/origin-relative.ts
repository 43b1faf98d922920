// The one rule for a bundle's search paths: every DT_RUNPATH and DT_RPATH element is relative to
// the object's own folder, so the bundle finds itself wherever it is unpacked. An element naming
// any other folder names one of the build host (docs/loader-model.md, "Bundle rules").

/**
 * `$ORIGIN` or `${ORIGIN}`, alone or followed by `/`. `$ORIGINAL/x` is not: an unbraced token ends
 * only at a character that cannot continue a name, so ld.so reads that as the literal `$ORIGINAL`.
 */
export function isOriginRelative(element: string): boolean {
  return /^(\$ORIGIN|\$\{ORIGIN\})(\/|$)/.test(element);
}

/** The elements of RUNPATH and RPATH that are not `$ORIGIN`-relative, each with its tag. */
export function nonOriginElements(dynamic: {
  readonly runpath: string | null;
  readonly rpath: string | null;
}): { tag: 'RUNPATH' | 'RPATH'; element: string }[] {
  const found: { tag: 'RUNPATH' | 'RPATH'; element: string }[] = [];
  for (const [tag, value] of [
    ['RUNPATH', dynamic.runpath],
    ['RPATH', dynamic.rpath],
  ] as const) {
    for (const element of (value ?? '').split(':').filter((e) => e !== '')) {
      if (!isOriginRelative(element)) found.push({ tag, element });
    }
  }
  return found;
}
