// Which of a bundle's ELF files are libraries its interpreter loads (dlopened into the process, see
// bundle-rules.ts) and which are programs that start on their own. A file without PT_INTERP is a
// library anyway. One with a PT_INTERP is not a program for that alone: ld.so reads PT_INTERP for
// the main program only and ignores it in every object it maps for DT_NEEDED or dlopen
// (docs/loader-model.md, "Bundle rules"). Many libraries carry one: libc.so.6 (it prints its
// version when run), Qt's libQt5Core (an empty one, in opencv-python's wheel), libraries that can
// be run to print their version. So a file with a PT_INTERP is a library of the bundle when:
// - it lies outside bin/ and libexec/, where a bundle keeps its programs;
// - dlopen would map it: ET_DYN without DF_1_PIE (dlopen refuses an executable, PIE or not);
// - it is named as a library: a DT_SONAME, or a file name ending in .so or .so.N (an extension
//   module has no DT_SONAME). A PIE program an old linker left without DF_1_PIE has neither.

import { basename, relative, sep } from 'node:path';
import { DF_1_PIE, ET_DYN } from '../elf/constants.js';
import { ElfFile } from '../elf/elf-file.js';
import { ElfFormatError } from '../elf/errors.js';
import { LIBEXEC_DIR } from '../bundle/layout.js';

const PROGRAM_DIRS = new Set(['bin', LIBEXEC_DIR]);
const LIBRARY_NAME = /\.so(\.\d+)*$/;

/** Whether `localFile`, a file of the bundle at `root`, is a library its interpreter loads. */
export function isBundleLibrary(root: string, localFile: string): boolean {
  const first = relative(root, localFile).split(sep)[0] ?? '';
  if (PROGRAM_DIRS.has(first)) return false;
  let elf: ElfFile;
  try {
    elf = ElfFile.open(localFile);
  } catch (error) {
    // The check says why.
    if (error instanceof ElfFormatError || (error as NodeJS.ErrnoException).code !== undefined) return false;
    throw error;
  }
  try {
    if (elf.header.e_type !== ET_DYN) return false;
    const dynamic = elf.dynamic();
    if (dynamic === null || (dynamic.flags1 & DF_1_PIE) !== 0) return false;
    return dynamic.soname !== null || LIBRARY_NAME.test(basename(localFile));
  } catch (error) {
    if (error instanceof ElfFormatError) return false;
    throw error;
  } finally {
    elf.close();
  }
}
