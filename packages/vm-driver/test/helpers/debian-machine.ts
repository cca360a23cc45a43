// What the Debian boot test takes from the packages. The test loads it as one esbuild bundle
// (see bundle.ts) so that the interpreter runs at full speed.
export { Machine, MachineCounter } from '../../src/index.js';
export { MemoryBlockBackend } from '@typevisor/devices';
