import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the operations the tests use (and a model for client apps): write
 * `graphql(\`...\`)` from test/gql, run `npm run codegen`, get typed variables and results.
 */
const config: CodegenConfig = {
  // schema.dev.graphql adds the dev-only operations (settleDevInvoice), which tests run against the dev Lightning backend.
  schema: ['schema.graphql', 'schema.dev.graphql'],
  documents: ['test/**/*.ts', 'bench/**/*.ts', '!test/gql/**'],
  ignoreNoDocuments: true,
  generates: {
    'test/gql/': {
      preset: 'client',
      // persisted-documents.json: the trusted-documents manifest of these operations (security.trusted_documents).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { documentMode: 'string', useTypeImports: true, enumsAsTypes: true, importExtension: '.ts', scalars: { DateTime: 'string', Date: 'string', JSON: 'unknown' } },
    },
  },
};

export default config;
