/** Unit tests: fast, pure, next to the code. */
module.exports = {
  displayName: 'start',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
