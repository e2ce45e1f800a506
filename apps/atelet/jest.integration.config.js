/** Integration tests: real ateom processes driving gVisor (runsc), the real counter image; run as root. */
module.exports = {
  displayName: 'atelet:integration',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.integration-spec.ts'],
  testTimeout: 300000,
};
