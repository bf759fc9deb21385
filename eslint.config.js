// Lint rules: strict type-checked TypeScript, plus the determinism fence around contracts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      complexity: ['error', 25],
      'no-console': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // Tests, the CLI and the bench talk to people: console output is their job.
    files: ['src/**/*.test.ts', 'web/test/**', 'src/cli/**', 'src/bench/**', 'src/testing/**'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // node:test's describe/it return promises the runner itself awaits.
    files: ['src/**/*.test.ts', 'web/test/**'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    // Contracts are deterministic: no clock, randomness, I/O or storage reachable from them.
    files: ['src/contracts/**/*.ts'],
    ignores: ['src/contracts/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'net', 'http', 'https', 'child_process', 'crypto', 'worker_threads'], message: 'Contracts may not do I/O or read the clock: use the transaction context.' },
          { group: ['**/storage/**', '**/peer/**', '**/ordering/**', '**/gateway/**', '**/api/**'], message: 'Contracts see only the transaction context.' },
        ],
      }],
      'no-restricted-globals': ['error', 'Date', 'setTimeout', 'setInterval', 'setImmediate', 'fetch', 'process', 'performance', 'crypto'],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Contracts must be deterministic.' }],
    },
  },
);
