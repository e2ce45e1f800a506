// Root ESLint flat config: type-aware async rules, import hygiene, and Nx module boundaries.
import nx from '@nx/eslint-plugin';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';

/** Module-boundary rules; `forTests` additionally lets test files use the test harness library. */
function boundaries(forTests) {
  const testUtil = forTests ? ['type:test-util'] : [];
  const testing = forTests ? ['scope:testing'] : [];
  const layer = (sourceTag, allowed) => ({ sourceTag, onlyDependOnLibsWithTags: [...allowed, ...testUtil] });
  const scope = (name) => ({
    sourceTag: `scope:${name}`,
    onlyDependOnLibsWithTags: [
      `scope:${name}`,
      'scope:shared',
      ...testing,
      ...(name === 'tools' ? ['scope:testing'] : []),
    ],
  });
  return {
    enforceBuildableLibDependency: true,
    allow: [],
    depConstraints: [
      layer('type:app', ['type:feature', 'type:data-access', 'type:util', 'type:contracts']),
      layer('type:feature', ['type:data-access', 'type:util', 'type:contracts']),
      layer('type:data-access', ['type:util', 'type:contracts']),
      layer('type:util', ['type:util', 'type:contracts']),
      layer('type:contracts', ['type:contracts']),
      layer('type:test-util', ['type:util', 'type:contracts', 'type:data-access']),
      // Benchmarks start real components with the test harness, like integration tests do.
      layer('type:bench', [
        'type:feature',
        'type:data-access',
        'type:util',
        'type:contracts',
        'type:test-util',
      ]),
      // Shared libs never reach into an app's scope; an app uses its own scope and shared libs.
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', ...testing] },
      { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:shared', 'scope:testing'] },
      ...['ateapi', 'atecontroller', 'atenet', 'atelet', 'ateom', 'kubectl-ate', 'tools'].map(scope),
    ],
  };
}

export default [
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '**/generated/**',
      '.nx/**',
      '.tools/**',
      'tmp/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
    },
  },
  {
    // Tests may also use the test harness library (type:test-util); production code may not.
    files: ['**/*.spec.ts', '**/*.integration-spec.ts', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(true)],
    },
  },
  prettier,
];
