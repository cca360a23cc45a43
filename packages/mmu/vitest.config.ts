import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: { name: 'mmu', include: ['test/**/*.test.ts', 'src/**/*.test.ts'] },
});
