// The dependency rules of DEVELOPERS.md, as data: which workspace package may import which.
// Dependencies point down the table; anything else needs a written reason at the import site.

/** @type {Record<string, { dir: string, core: boolean, mayImport: string[] }>} */
export const PACKAGES = {
  '@typevisor/mmu': { dir: 'packages/mmu', core: true, mayImport: [] },
  '@typevisor/cpu-x86': { dir: 'packages/cpu-x86', core: true, mayImport: ['@typevisor/mmu'] },
  '@typevisor/devices': { dir: 'packages/devices', core: true, mayImport: ['@typevisor/mmu'] },
  '@typevisor/perf-model': { dir: 'packages/perf-model', core: true, mayImport: [] },
  '@typevisor/vm-protocol': { dir: 'packages/vm-protocol', core: true, mayImport: [] },
  '@typevisor/vm-driver': {
    dir: 'packages/vm-driver',
    core: false,
    mayImport: ['@typevisor/cpu-x86', '@typevisor/mmu', '@typevisor/devices', '@typevisor/perf-model'],
  },
  '@typevisor/vm-manager': { dir: 'packages/vm-manager', core: false, mayImport: ['@typevisor/vm-protocol', '@typevisor/vm-driver'] },
  '@typevisor/cli': {
    dir: 'apps/cli',
    core: false,
    mayImport: [
      '@typevisor/mmu', '@typevisor/cpu-x86', '@typevisor/devices', '@typevisor/perf-model',
      '@typevisor/vm-protocol', '@typevisor/vm-driver', '@typevisor/vm-manager',
    ],
  },
};

/** A comment on the import line (or the line above) that documents a sideways dependency. */
export const ALLOW_MARKER = 'typevisor-allow-import:';
