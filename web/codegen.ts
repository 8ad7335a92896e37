import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Every operation in src/ is typed from the server's committed schema (../schema.graphql). Each document
 * also carries its sha256 (`__meta__.hash`) and src/gql/persisted-documents.json lists them all: the build
 * ships that manifest, so a Confab running trusted documents accepts this client's operations by hash.
 */
const config: CodegenConfig = {
  // schema.dev.graphql: settleDevInvoice, which the client offers only when the server runs the dev Lightning backend.
  schema: ['../schema.graphql', '../schema.dev.graphql'],
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string', Date: 'string', JSON: 'unknown' } },
    },
  },
};

export default config;
