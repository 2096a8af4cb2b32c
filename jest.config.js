/** Jest runs the TypeScript sources directly as ES modules (Middy 7 and jose 6 are ESM-only). */
const project = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // `.js` specifiers point at the `.ts` sources; `*.json.js` modules (libphonenumber-js metadata) are real files.
  moduleNameMapper: { '^(\\.{1,2}/(?!.*\\.json\\.js$).*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

/**
 * The suites that also run against `npm run start:synth` (the synthesized template and bundles):
 * the same test code, with `startTarget()` starting the synthesized stack. A subset, for CI time:
 * CORS refusal and key and token refusal are also in `verify`; the full CORS and token suites run
 * on `npm start` only.
 */
const SYNTH_SUITES = ['smoke', 'security-headers', 'auth', 'revocation', 'rate-limit', 'stream', 'admin', 'verify'].map(
  (name) => `<rootDir>/test/e2e/${name}.test.ts`,
);

export default {
  projects: [
    {
      ...project,
      displayName: 'local',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/test/synth/'],
    },
    {
      ...project,
      displayName: 'synth',
      // Plus the suites about the synthesized stack itself (rotation through moto).
      testMatch: [...SYNTH_SUITES, '<rootDir>/test/synth/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/synth-global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/helpers/synth-target.ts'],
    },
  ],
  // Generous: e2e hooks start a server (and a JVM) on a 2-core machine that may be busy; no test asserts a speed.
  testTimeout: 60000,
  maxWorkers: 2,
};
