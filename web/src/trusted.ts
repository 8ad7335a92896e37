import { makeOperation, mapExchange, type Exchange } from '@urql/core';

import { serverFeatures } from './server';

/**
 * Does the server run trusted documents only? Then every operation goes by its hash, which codegen
 * put in the document (`__meta__.hash`).
 */
const trustedDocumentsOnly = serverFeatures.has('trusted-documents');

/** A document's sha256 as codegen computed it (`sha256:<hex>`), bare. */
function hashOf(doc: unknown): string | undefined {
  const hash = (doc as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  return typeof hash === 'string' ? hash.replace(/^sha256:/, '') : undefined;
}

/**
 * Sends operations by hash (Apollo's `extensions.persistedQuery`) instead of their text when the
 * server runs trusted documents only: urql's fetch body then leaves the query out, and the
 * subscription exchange sends `query: ""` with the same extensions over graphql-ws.
 */
export const trustedDocumentsExchange: Exchange = mapExchange({
  onOperation(operation) {
    const sha256Hash = trustedDocumentsOnly ? hashOf(operation.query) : undefined;
    if (!sha256Hash) return operation;
    return makeOperation(operation.kind, { ...operation, extensions: { ...operation.extensions, persistedQuery: { version: 1, sha256Hash } } }, operation.context);
  },
});
