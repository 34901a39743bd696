// Lint policy (STYLE.md "Build, lint, format"): type-aware typescript-eslint, no floating
// promises, type-only imports, package boundaries (no deep imports, no cycles), and a contracts
// package without I/O.
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'var/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tasks/*/src/*', '@tasks/*/dist/*'], message: 'Import a package through its entry point.' },
            { group: ['**/system-test/**'], message: 'Shared test helpers live in @tasks/runtime/testing.' },
          ],
        },
      ],
      'import-x/no-cycle': 'error',
      'import-x/no-relative-packages': 'error',
    },
  },
  {
    files: ['contracts/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['amqplib', 'amqp-connection-manager', 'ioredis', 'fs', 'net', 'http', 'child_process'].map(
            (name) => ({ name, message: 'contracts has no I/O.' }),
          ),
          patterns: [{ group: ['node:*'], message: 'contracts has no I/O.' }],
        },
      ],
    },
  },
  {
    files: ['**/test/**/*.ts', 'system-test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'import-x/no-relative-packages': 'off',
    },
  },
);
