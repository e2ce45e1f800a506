/** Tests of the image builder: real tar, gzip and (when installed) umoci. */
module.exports = {
  displayName: 'images',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  testTimeout: 120000,
};
