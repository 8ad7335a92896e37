// @ts-check
import js from '@eslint/js';
import regexp from 'eslint-plugin-regexp';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The server's code: src/, test/, bench/, scripts/ and the top-level config files. web/ is a separate
 * package with its own build; generated code (Prisma clients, Pothos types, test/gql) is not ours to fix.
 * Regular expressions that can backtrack super-linearly are errors: user input reaches many of them.
 */
const NODE_GLOBALS = ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'fetch', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'structuredClone', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'performance', 'queueMicrotask'];

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'web/', 'src/generated/', 'test/gql/', 'bench/tmp/', 'coverage/', 'test-results/', 'data/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  regexp.configs.recommended,
  {
    // Plain JS (scripts/, bench's .mjs, this file) runs on Node; TypeScript checks the globals of .ts files.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: Object.fromEntries(NODE_GLOBALS.map((name) => [name, 'readonly'])) },
  },
  {
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',
      // `any` is how tests read untyped results and how the code meets Pothos/shield/Prisma generics: ~150 lines of churn for no safety.
      '@typescript-eslint/no-explicit-any': 'off',
      // Topic registries are interfaces that each module extends by declaration merging, and empty by design.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'always' }],
      // `const { secret: _secret, ...rest } = row` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `cond && f()` and `ok ? resolve(x) : reject(e)` as statements are idiomatic here; comma sequences are still refused.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
    },
  },
);
