import { defineConfig } from 'vitest/config';
import { workspaceAliases } from './vitest.shared.js';

export default defineConfig({
  test: {
    projects: [
      'packages/*', 'apps/*', 'bench',
      { test: { name: 'repo', testTimeout: 120_000, include: ['scripts/test/**/*.test.ts'] } },
      // Boots Debian's stock kernel: half a minute or more of one core. A later group than every other project
      // (groupOrder 0), so it starts when they have finished instead of competing for a 2-core
      // machine's cores (both slow down and time out). Its timeouts are set in the test.
      {
        resolve: { alias: workspaceAliases },
        test: { name: 'vm-driver-debian', root: 'packages/vm-driver', include: ['test/debian-kernel.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
