/** Unit tests: fast, pure, next to the code. */
module.exports = {
  displayName: 'snapshot-store',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
