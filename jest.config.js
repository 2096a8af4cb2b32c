/** Jest runs the TypeScript sources directly as ES modules (Middy 7 and jose 6 are ESM-only). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // `.js` specifiers point at the `.ts` sources; `*.json.js` modules (libphonenumber-js metadata) are real files.
  moduleNameMapper: { '^(\\.{1,2}/(?!.*\\.json\\.js$).*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Generous: e2e hooks start a server (and a JVM) on a 2-core machine that may be busy; no test asserts a speed.
  testTimeout: 60000,
  maxWorkers: 2,
};
