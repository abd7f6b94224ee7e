// Lint rules for every project. typescript-eslint's recommended set finds
// bugs; Prettier owns the layout, so eslint-config-prettier goes last and
// turns off every rule that would argue with it. Module boundaries keep the
// dependency graph one-way: apps use libs, libs use libs, nothing uses an
// app, and every import of a lib goes through its `@platform/*` alias.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const DEEP_IMPORT_MESSAGE =
  'Import a lib through its public alias (`@platform/<lib>`) only; export what you need from its index.ts.';
/** A module path that reaches past a lib's index: `@platform/<lib>/...`. */
const DEEP_IMPORT = '/^@platform\\u002F[^\\u002F]+\\u002F/';

export default tseslint.config(
  {
    // Anchored at the workspace root, like .gitignore: a source folder
    // named data or tmp inside a project is still linted.
    ignores: [
      '**/node_modules',
      'dist',
      'libs/*/dist',
      'coverage',
      'data',
      'tmp',
      '.nx',
      'bench/results',
    ],
  },
  ...nx.configs['flat/base'],
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // The lazy-loading check is for front-end routes. In a Nest app a
          // dynamic import() of a lib (a spec after jest.resetModules(), an
          // optional feature) would otherwise fail every static import of
          // that lib elsewhere in the project.
          checkDynamicDependenciesExceptions: ['@platform/*'],
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:lib'],
            },
            {
              sourceTag: 'type:lib',
              onlyDependOnLibsWithTags: ['type:lib'],
            },
            {
              sourceTag: 'type:plugin',
              onlyDependOnLibsWithTags: ['type:lib'],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: ['type:lib'],
            },
            // Shared libs are the bottom layer: they may not reach up into
            // a service's own code, whatever its scope.
            {
              sourceTag: 'scope:shared',
              onlyDependOnLibsWithTags: ['scope:shared'],
            },
          ],
        },
      ],
      // The boundary rule above passes `@platform/<lib>/src/...`, which
      // reaches past a lib's index into code it does not export.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@platform/*/*'],
              message: DEEP_IMPORT_MESSAGE,
            },
          ],
        },
      ],
      // no-restricted-imports checks only import and export statements, so
      // the same deep paths are banned in import(), require(), import types
      // and `import x = require()`.
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression[source.value=${DEEP_IMPORT}]`,
          message: DEEP_IMPORT_MESSAGE,
        },
        {
          selector: `CallExpression[callee.name='require'][arguments.0.value=${DEEP_IMPORT}]`,
          message: DEEP_IMPORT_MESSAGE,
        },
        {
          selector: `TSImportType[argument.literal.value=${DEEP_IMPORT}]`,
          message: DEEP_IMPORT_MESSAGE,
        },
        {
          selector: `TSExternalModuleReference[expression.value=${DEEP_IMPORT}]`,
          message: DEEP_IMPORT_MESSAGE,
        },
      ],
      // A `let` assigned once, after a closure that reads it was built, is
      // the only way to hand that closure a value made later.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Unused arguments named with a leading underscore are deliberate
      // (a Nest hook's signature, a callback's position).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests drive raw broker clients loaded with require(), which come
    // without types, and reach into payloads the code under test builds.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Jest configs read the workspace's tsconfig by relative path, which is
    // a file, not another project's code.
    files: ['**/jest.config.ts', '**/jest.*.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Node scripts in CommonJS: the tools and the benchmark.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  prettier,
);
