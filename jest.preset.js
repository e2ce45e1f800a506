// Shared Jest settings for every project. Tests are compiled with SWC (fast on 2 cores); type checking is a
// separate `typecheck` target, so a test never passes on code that does not compile.
const nxPreset = require('@nx/jest/preset').default;
const { compilerOptions } = require('./tsconfig.base.json');

const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
    // Rewrite `@substrate/*` imports at compile time, so files Jest loads outside its own resolver
    // (global setup and teardown) find the libraries too.
    baseUrl: __dirname,
    paths: compilerOptions.paths,
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
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|@kubernetes|openid-client|oauth4webapi|jose|uid|file-type|strtok3|token-types|@tokenizer)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  coverageReporters: ['text-summary', 'lcov'],
  reporters: ['default', require.resolve('./tools/jest/summary-reporter.js')],
};
