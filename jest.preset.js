// Shared Jest settings for every project. Tests are compiled with SWC (fast on 2 cores); type checking is a
// separate `typecheck` target, so a test never passes on code that does not compile.
const nxPreset = require('@nx/jest/preset').default;

const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.(ts|js|mjs)$': ['@swc/jest', swcOptions],
  },
  // NestJS 12 and a few other dependencies ship ES modules only; compile them to CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|uid|file-type|strtok3|token-types|@tokenizer)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  coverageReporters: ['text-summary', 'lcov'],
  reporters: ['default', require.resolve('./tools/jest/summary-reporter.js')],
};
