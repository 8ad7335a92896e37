import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Every operation in src/ is typed from the server's committed schema (../schema.graphql). Each document
 * also carries its sha256 (`__meta__.hash`) and src/gql/persisted-documents.json lists them all: the build
 * ships that manifest, so a Confab running trusted documents accepts this client's operations by hash.
 */
const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string', JSON: 'unknown' } },
    },
  },
};

export default config;
