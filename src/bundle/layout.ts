// Folders of a bundle that more than one part of pyrelo must agree on.

/** With --libc bundle: the shipped glibc and its loader, a folder no RUNPATH names (builder/libc-bundle.ts). */
export const GLIBC_DIR = 'lib/pyrelo-glibc';
/** With --libc bundle: where the interpreter ELF lies; bin/ holds the launcher that starts it. */
export const LIBEXEC_DIR = 'libexec';
