/** @packageDocumentation Placeholder until this package's first module lands. */
export const PACKAGE_NAME = '@typevisor/cpu-x86';
