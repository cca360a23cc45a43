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
  {
    // Core packages run in browsers and in Node alike: their tsconfig includes the DOM lib only for
    // the web-platform APIs both share (performance, TextEncoder, crypto, timers), not for the DOM.
    files: ['packages/{mmu,cpu-x86,devices,perf-model,vm-protocol}/src/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error',
        ...['document', 'window', 'navigator', 'localStorage', 'sessionStorage', 'location', 'HTMLElement', 'Buffer', 'process', 'require', '__dirname', '__filename']
          .map((name) => ({ name, message: 'Core packages use only APIs shared by browsers and Node.' })),
      ],
    },
  },
);
