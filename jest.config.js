/** Three tiers: unit (pure, no servers), int (real NATS/Postgres), e2e (running services over HTTP). */
const base = {
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: {
    '^@devpie/client-events$': '<rootDir>/common-events/src/index.ts',
    '^@devpie/client-events/(.*)$': '<rootDir>/common-events/src/$1',
    '^@devpie/http-kit$': '<rootDir>/common-http/src/index.ts',
  },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
};
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.test.ts'] },
    { ...base, displayName: 'int', testMatch: ['<rootDir>/**/*.int.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/**/*.e2e.test.ts'] },
  ],
  testTimeout: 30000,
};
