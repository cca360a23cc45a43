import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'docs/api/**', 'guest/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Hot-loop code uses bitwise ops and numeric switch fallthrough on purpose.
      'no-fallthrough': 'off',
      'no-case-declarations': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: ['@typevisor/*/src/*', '@typevisor/*/internal/*', '../../*/src/*'], message: 'Import a package through its public entry only.' }] }],
    },
  },
);
