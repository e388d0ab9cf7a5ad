// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { moduleBoundariesPlugin } from './.ci/moduleBoundaries.mjs';

export default tseslint.config(
  {
    ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', '.tmp/'],
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'error',
      'prefer-const': 'error',
      'no-var': 'error',
      'object-shorthand': ['error', 'always'],
      // Camera URLs, names and headers come from outside and are checked for control
      // characters on purpose, so regular expressions that match them are intended.
      'no-control-regex': 'off',
    },
  },
  {
    // Type-aware checks, limited to the promise rules: a forgotten or misused promise in a
    // long-running process (ffmpeg supervisors, media server, HTTP handlers) ends as an
    // unhandled rejection. The full type-checked preset is left out to keep lint quick.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Modules meet only through their index.ts; src/domain and the kernel import no module.
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    plugins: { psvgw: moduleBoundariesPlugin },
    rules: {
      'psvgw/module-boundaries': 'error',
    },
  },
  {
    // The CLI talks to a terminal; tests and benchmarks print what they measure.
    files: ['src/cli/**', 'tests/**', 'bench/**'],
    rules: {
      'no-console': 'off',
    },
  },
  {
    // Ambient declarations for untyped modules mirror their JavaScript API.
    files: ['**/*.d.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
);
