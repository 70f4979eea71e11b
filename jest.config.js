/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.m?[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  // @statelyai/inspect is ESM-only: ts-jest transpiles it to CommonJS for the inspector-feed test.
  transformIgnorePatterns: ['/node_modules/(?!(@statelyai/inspect)/)'],
  testTimeout: 120000,
  setupFiles: ['<rootDir>/test/setup-env.js'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
