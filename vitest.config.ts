import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'bench', { test: { name: 'repo', testTimeout: 120_000, include: ['scripts/test/**/*.test.ts'] } }],
  },
});
