import { configDefaults, defineProject } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: {
    name: 'vm-driver',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // The Debian kernel boot is its own project, vm-driver-debian (root vitest.config.ts), run after the rest.
    exclude: [...configDefaults.exclude, 'test/debian-kernel.test.ts'],
  },
});
