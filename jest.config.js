/**
 * Three jest projects (docs/CONTRIBUTING.md): unit (no I/O), integration (real RabbitMQ and Redis on
 * 127.0.0.1, each file in its own prefix), system (every service as a real process).
 * Tests import packages from source; system tests start the built services (npm test builds).
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const moduleNameMapper = {
  '^@tasks/contracts$': '<rootDir>/contracts/src/index.ts',
  '^@tasks/client$': '<rootDir>/client/src/index.ts',
  '^@tasks/runtime$': '<rootDir>/runtime/src/index.ts',
  '^@tasks/runtime/testing$': '<rootDir>/runtime/src/testing/index.ts',
  '^@tasks/runtime/handler$': '<rootDir>/runtime/src/handler.ts',
};
const packages = '<rootDir>/{contracts,client,cli,runtime,launcher,services/*}';
const common = { rootDir: __dirname, transform, moduleNameMapper, testEnvironment: 'node' };

module.exports = {
  // A failed system test can leave a child's socket open; the run must still end, with its verdict.
  forceExit: true,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [`${packages}/test/**/*.test.ts`],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: [`${packages}/test/**/*.int.test.ts`],
      slowTestThreshold: 30,
    },
    {
      ...common,
      displayName: 'system',
      testMatch: ['<rootDir>/system-test/**/*.test.ts'],
      slowTestThreshold: 60,
    },
  ],
};
