// The ELF reader's public API.

export { ElfFile, isElf } from './elf-file.js';
export { ElfFormatError, type ElfErrorReason } from './errors.js';
export * from './constants.js';
export type * from './types.js';
