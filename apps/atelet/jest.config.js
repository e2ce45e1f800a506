/** Unit tests: fast, pure, next to the code. */
module.exports = {
  displayName: 'atelet',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // Some specs spawn tar and gzip; on a shared 2-core machine the default 5 s is too tight.
  testTimeout: 30000,
};
