// @ts-check
import { existsSync } from 'node:fs';
import js from '@eslint/js';
import graphqlPlugin from '@graphql-eslint/eslint-plugin';
import regexp from 'eslint-plugin-regexp';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The server's code: src/, test/, bench/, scripts/ and the top-level config files. web/ is a separate
 * package with its own build; generated code (Prisma clients, Pothos types, test/gql) is not ours to fix.
 * Regular expressions that can backtrack super-linearly are errors: user input reaches many of them.
 */
const NODE_GLOBALS = ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'fetch', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'structuredClone', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'performance', 'queueMicrotask'];

/** Object types that are not cached entities (Apollo/urql keep them inline): results, pages and events. */
const NOT_ENTITIES = ['Payload', 'Connection', 'Edge', 'Event', 'Added', 'Updated', 'Deleted', 'Changed', 'Removed', 'Cleared', 'Delta', 'Done', 'Failed', 'Progress', 'Joined', 'Left', 'Change', 'Debited', 'Edited', 'Created', 'Read', 'Received', 'Pruned']
/**
 * Value objects: always read inside the entity that owns them, never on their own (docs/api/conventions.md). NostrChallenge
 * is a mutation's one-time result, never cached, whose name the issue gave without a Payload suffix.
 */
export const VALUE_TYPES = ['Trust', 'ReactionSummary', 'RoomMessageEdit', 'OrgUsage', 'Typing', 'CostBreakdown', 'CostBreakdownPart', 'UploadHeader', 'NostrChallenge'];

/**
 * The public schema's conventions (docs/api/conventions.md), checked on the committed schema.graphql and
 * schema.dev.graphql. Each rule names the convention it holds.
 */
const SCHEMA_RULES = {
  // Types are PascalCase, fields and arguments camelCase, enum values UPPER_CASE; inputs end in Input.
  '@graphql-eslint/naming-convention': ['error', {
    types: 'PascalCase',
    FieldDefinition: 'camelCase',
    InputValueDefinition: 'camelCase',
    Argument: 'camelCase',
    EnumValueDefinition: 'UPPER_CASE',
    InputObjectTypeDefinition: { style: 'PascalCase', suffix: 'Input' },
    allowLeadingUnderscore: false,
  }],
  // One `input: <MutationName>Input!` argument per mutation.
  '@graphql-eslint/input-name': ['error', { checkInputType: true, caseSensitiveInputType: false, checkQueries: false, checkMutations: true }],
  // Every type, field, argument, input field and enum value says what it is.
  '@graphql-eslint/require-description': ['error', {
    types: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true, rootField: true,
  }],
  '@graphql-eslint/description-style': ['error', { style: 'block' }],
  '@graphql-eslint/no-hashtag-description': 'error',
  // Every cached type has `id: ID!` (Apollo's and urql's default cache keys).
  '@graphql-eslint/strict-id-in-types': ['error', {
    acceptedIdNames: ['id'], acceptedIdTypes: ['ID'],
    exceptions: { types: ['PageInfo', 'Query', 'Mutation', 'Subscription', ...VALUE_TYPES], suffixes: NOT_ENTITIES },
  }],
  // Lists that grow are Relay connections, with Relay's edge and PageInfo shapes.
  '@graphql-eslint/relay-connection-types': 'error',
  '@graphql-eslint/relay-edge-types': ['error', { withEdgeSuffix: true, shouldImplementNode: false, listTypeCanWrapOnlyEdgeType: false }],
  '@graphql-eslint/relay-page-info': 'error',
  '@graphql-eslint/no-typename-prefix': 'error',
  '@graphql-eslint/no-unreachable-types': 'error',
  '@graphql-eslint/unique-enum-value-names': 'error',
};

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'web/', 'src/generated/', 'test/gql/', 'bench/tmp/', 'coverage/', 'test-results/', 'data/', 'docs/'] },
  {
    files: ['schema.graphql', 'schema.dev.graphql'],
    languageOptions: { parser: graphqlPlugin.parser, parserOptions: { graphQLConfig: { schema: ['schema.graphql', 'schema.dev.graphql'].filter((file) => existsSync(file)) } } },
    plugins: { '@graphql-eslint': graphqlPlugin },
    rules: SCHEMA_RULES,
  },
  { files: ['**/*.{js,mjs,cjs,ts}'], extends: [js.configs.recommended, tseslint.configs.recommended, regexp.configs.recommended] },
  {
    // Plain JS (scripts/, bench's .mjs, this file) runs on Node; TypeScript checks the globals of .ts files.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: Object.fromEntries(NODE_GLOBALS.map((name) => [name, 'readonly'])) },
  },
  {
    files: ['**/*.{js,mjs,cjs,ts}'],
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
