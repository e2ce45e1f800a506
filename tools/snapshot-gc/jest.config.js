/** Unit tests: fast, pure, next to the code. */
module.exports = {
  displayName: 'snapshot-gc',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
