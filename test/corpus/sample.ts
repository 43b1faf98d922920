// The corpus sample CI runs (test/corpus/corpus-sample.test.ts): numpy (OpenBLAS in numpy.libs),
// pandas (extensions that call libm without NEEDing it: libm comes from the interpreter's global
// scope) and pillow (image libraries in pillow.libs), with their dependencies, pinned as in the
// corpus lock and downloaded into a wheelhouse of their own.

import { pinOfWheel, type CorpusLock } from './corpus-lock.js';

export const SAMPLE_PROJECTS = ['numpy', 'pandas', 'pillow'];
/** Their dependencies (pandas: python-dateutil and six; tzdata where pandas asks for it). */
const SAMPLE_DEPENDENCIES = ['python-dateutil', 'six', 'tzdata', 'pytz'];

/**
 * The sample bundle's smoke command: each project imported and used, so that an agent's verified
 * run (test/corpus/corpus-service.test.ts) loads their extension modules and bundled libraries.
 */
export const SAMPLE_SMOKE =
  'bin/python3 -c "import numpy, pandas, PIL.Image; ' +
  "frame = pandas.DataFrame({'x': numpy.arange(4.0)}); " +
  "image = PIL.Image.new('RGB', (2, 2)); " +
  "print('corpus-sample', float(frame.x.sum()), image.size)\"";

/** The pins of the sample's wheels, as the corpus bundle holding pandas resolved them. */
export function sampleRequirements(lock: CorpusLock): string[] {
  const wanted = new Set([...SAMPLE_PROJECTS, ...SAMPLE_DEPENDENCIES]);
  const bundle = lock.bundles.find((b) => b.projects.includes('pandas'));
  return (bundle?.requirements ?? []).filter((r) => wanted.has(r.split('==')[0]!));
}

/** The wheel files of those pins. */
export function sampleWheels(lock: CorpusLock): string[] {
  const pins = new Set(sampleRequirements(lock));
  return lock.wheels.filter((w) => {
    const p = pinOfWheel(w);
    return pins.has(`${p.name}==${p.version}`);
  });
}
