import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../vitest.shared.js';

export default defineProject({
  resolve: {
    alias: [
      // The suite's shared pieces live with `typevisor bench` in the CLI (bench/build.mjs maps the same name).
      { find: /^@typevisor\/cli\/bench$/, replacement: fileURLToPath(new URL('../apps/cli/src/bench/index.ts', import.meta.url)) },
      ...workspaceAliases,
    ],
  },
  test: { name: 'bench', testTimeout: 120_000, hookTimeout: 120_000, include: ['test/**/*.test.ts'] },
});
