// What the system says about an ELF file built for another machine or ELF class, when that file is
// the one being started or opened (docs/loader.md section 7, "A file of another machine"):
//
// - a program: the kernel's ELF loader does not take it (elf_check_arch) and no other binary
//   format handler does, so execve fails with ENOEXEC: `Exec format error` (bash prints
//   `cannot execute binary file: Exec format error`, dash and Python `Exec format error`);
// - a library opened by path (dlopen, Python importing an extension module): ld.so's open_verify
//   skips a file of another machine as it would while searching, so what is left is
//   `cannot open shared object file: No such file or directory`, although the file is there; a
//   file of the other ELF class gives `wrong ELF class: ELFCLASS32` (or 64).
//
// Measured with the real loaders (test/loader/foreign-machine.test.ts): glibc 2.36's x86_64 ld.so
// opening an aarch64 library, and the arm64 root's ld.so (under qemu) an x86_64 one, say the
// same words; an aarch64 program run where no binfmt_misc handler takes it fails with ENOEXEC.
//
// Not modelled: a 32-bit program of the machine's own family (i386 on x86_64, arm on aarch64),
// which the kernel may run in compat mode with a 32-bit loader pyrelo does not check.

import { EM_386, EM_AARCH64, EM_ARM, EM_X86_64, ET_EXEC } from '../elf/constants.js';

const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [EM_X86_64, 'x86_64'],
  [EM_AARCH64, 'aarch64'],
  [EM_386, 'i386'],
  [EM_ARM, 'arm'],
  [8, 'mips'],
  [20, 'ppc'],
  [21, 'ppc64'],
  [22, 's390'],
  [243, 'riscv'],
  [258, 'loongarch'],
]);

/** A machine's name as uname -m spells it (x86_64, aarch64), else `e_machine N`. */
export function machineName(e_machine: number): string {
  return MACHINE_NAMES.get(e_machine) ?? `e_machine ${e_machine}`;
}

/** The 32-bit machine a 64-bit kernel of `hostMachine` may also execute (compat mode). */
const COMPAT_MACHINE: ReadonlyMap<number, number> = new Map([
  [EM_X86_64, EM_386],
  [EM_AARCH64, EM_ARM],
]);

export interface ForeignFile {
  readonly e_machine: number;
  readonly e_type: number;
  readonly elfClass: 32 | 64;
  /** Whether the file has a PT_INTERP (a dynamically linked program); null when it could not be read. */
  readonly hasInterpreter: boolean | null;
}

export interface HostMachine {
  readonly machine: number;
  readonly elfClass: 32 | 64;
}

/** Whether the kernel starts this file (a program) or only ld.so ever opens it (a library). */
export function isProgram(file: ForeignFile): boolean {
  return file.e_type === ET_EXEC || file.hasInterpreter === true;
}

/** The system's words for starting or opening `file` on a host of `host`'s machine (see above). */
export function foreignFileWords(file: ForeignFile, host: HostMachine): string {
  const what = `${machineName(file.e_machine)}${file.elfClass === host.elfClass ? '' : ` (ELFCLASS${file.elfClass})`}`;
  const hostName = machineName(host.machine);
  if (isProgram(file)) {
    if (COMPAT_MACHINE.get(host.machine) === file.e_machine) {
      return (
        `wrong ELF class: ELFCLASS${file.elfClass} (a 32-bit program for ${what}: the kernel of this ${hostName} ` +
        'host may run it in compat mode with its own 32-bit loader, which pyrelo does not check)'
      );
    }
    return `Exec format error (a program for ${what}: the kernel of this ${hostName} host does not execute it)`;
  }
  if (file.elfClass !== host.elfClass) return `wrong ELF class: ELFCLASS${file.elfClass}`;
  return (
    'cannot open shared object file: No such file or directory ' +
    `(a library for ${what}: this ${hostName} host's ld.so skips it)`
  );
}
