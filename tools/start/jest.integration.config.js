/** The end-to-end walk: `npm start` with real processes, real runsc and real Redis, driven by kubectl ate and HTTP. */
module.exports = {
  displayName: 'start:integration',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.integration-spec.ts'],
  testTimeout: 600000,
};
