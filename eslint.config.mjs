// Lint policy: type-aware typescript-eslint, no floating promises, type-only imports, package
// boundaries (no deep imports, no cycles, no import of a package the importer does not declare),
// and a contracts package without I/O. Sources are typed by their package's tsconfig (found by
// the project service), tests by tsconfig.tests.json.
import { readFileSync } from 'node:fs';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;
const readJson = (file) => JSON.parse(readFileSync(`${ROOT}/${file}`, 'utf8'));
/** The npm workspaces: each declares the dependencies its own sources may import. */
const WORKSPACES = readJson('package.json').workspaces;
const WORKSPACE_PACKAGES = WORKSPACES.map((w) => readJson(`${w}/package.json`).name);
const TEST_FILES = ['**/test/**/*.ts', 'system-test/**/*.ts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'var/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tasks/*/src/*', '@tasks/*/dist/*'],
              message: 'Import a package through its entry point.',
            },
            {
              group: ['**/system-test/**'],
              message: 'Shared test helpers live in @tasks/runtime/testing.',
            },
          ],
        },
      ],
      'import-x/no-cycle': 'error',
      'import-x/no-relative-packages': 'error',
      // bench/ and system-test/ have no package of their own: the root's (devDependencies) is
      // theirs, and they may use every workspace (they measure and test them).
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: ROOT, whitelist: WORKSPACE_PACKAGES },
      ],
    },
  },
  // A workspace's sources ship with `npm ci --omit=dev`: only its own dependencies.
  ...WORKSPACES.map((workspace) => ({
    files: [`${workspace}/src/**/*.ts`],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: `${ROOT}/${workspace}`, devDependencies: false, optionalDependencies: false },
      ],
    },
  })),
  // The runtime's test helpers (`@tasks/runtime/testing`) run only under tests: the root's
  // devDependencies are theirs too.
  {
    files: ['runtime/src/testing/**/*.ts'],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: [ROOT, `${ROOT}/runtime`], devDependencies: true },
      ],
    },
  },
  // A workspace's tests may also use the root's devDependencies (jest, fast-check, …), and
  // import their own package by name.
  ...WORKSPACES.map((workspace, i) => ({
    files: [`${workspace}/test/**/*.ts`],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: [ROOT, `${ROOT}/${workspace}`], whitelist: [WORKSPACE_PACKAGES[i]] },
      ],
    },
  })),
  {
    files: ['contracts/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'amqplib',
            'amqp-connection-manager',
            'ioredis',
            'fs',
            'net',
            'http',
            'child_process',
          ].map((name) => ({ name, message: 'contracts has no I/O.' })),
          patterns: [{ group: ['node:*'], message: 'contracts has no I/O.' }],
        },
      ],
    },
  },
  {
    files: TEST_FILES,
    // Tests belong to no package's tsconfig (those build src/ only): tsconfig.tests.json types them.
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: './tsconfig.tests.json',
        tsconfigRootDir: ROOT,
      },
    },
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
