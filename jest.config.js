/** @type {import('jest').Config} */
// Type checking is `tsc --noEmit` in `npm test`; tests only transpile, which keeps the suite fast.
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};

module.exports = {
  // Per test; generous so that a machine 3× slower than a quiet 2-core one (CI is shared) still passes.
  testTimeout: 180000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/reporters/summary-line.js'],
  projects: [
    { ...base, displayName: 'local', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'] },
    // The core SDK suite once more with LanceDB on s3+ddb:// (s3rver + dynalite), as the Lambdas store it.
    {
      ...base,
      displayName: 's3-storage',
      roots: ['<rootDir>/test/sdk'],
      testMatch: ['**/*.test.ts'],
      setupFiles: ['<rootDir>/test/helpers/s3-storage-env.js'],
    },
  ],
};
