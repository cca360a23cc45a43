import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Tests run against each package's TypeScript source, not its build output, so `vitest` works on a
 * fresh clone without a build. The same map is in tsconfig.base.json `paths` for the type checker.
 */
export const workspaceAliases = [
  { find: /^@typevisor\/devices\/testing$/, replacement: `${root}packages/devices/src/testing/index.ts` },
  { find: /^@typevisor\/vm-driver\/node$/, replacement: `${root}packages/vm-driver/src/node/index.ts` },
  { find: /^@typevisor\/(mmu|cpu-x86|devices|perf-model|vm-protocol|vm-driver|vm-manager)$/, replacement: `${root}packages/$1/src/index.ts` },
];
