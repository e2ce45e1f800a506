// Runs the workspace's TypeScript sources directly under Node, compiled on load with SWC and the same
// options Jest uses (legacy decorators with metadata for NestJS, `@substrate/*` paths rewritten):
//   node -r ./tools/scripts/swc-register.js apps/ateapi/src/main.ts
// Tests start services this way as real child processes they can SIGKILL; `npm start` runs them so too.
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { transformSync } = require('@swc/core');

const root = resolve(__dirname, '../..');
const { compilerOptions } = require(resolve(root, 'tsconfig.base.json'));

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
      baseUrl: root,
      paths: compilerOptions.paths,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
