/** @packageDocumentation Placeholder until the machine lands. */
export const PACKAGE_NAME = '@typevisor/vm-driver';
