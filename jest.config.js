/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.m?[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  // jose and @statelyai/inspect are ESM-only: ts-jest transpiles them to CommonJS (allowJs in tsconfig.jest.json).
  transformIgnorePatterns: ['/node_modules/(?!(jose|@statelyai/inspect)/)'],
  testTimeout: 120000,
  setupFiles: ['<rootDir>/test/setup-env.js'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
