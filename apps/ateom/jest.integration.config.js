/** Integration tests: real gVisor sandboxes (runsc), network namespaces and iproute2; run as root. */
module.exports = {
  displayName: 'ateom:integration',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.integration-spec.ts'],
  testTimeout: 120000,
};
