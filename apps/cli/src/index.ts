export const PACKAGE_NAME = '@typevisor/cli';
