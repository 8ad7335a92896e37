import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * A trusted-documents manifest: hash → document, as graphql-codegen's client preset writes it
 * (`persisted-documents.json`, `presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' } }`).
 */
export type TrustedDocuments = ReadonlyMap<string, string>;

/**
 * The manifest at `path`, plus the documents of clients the app ships itself (the web client at /app,
 * src/modules/web): those keep working when an operator turns trusted documents on.
 */
export function loadTrustedDocuments(path: string, shipped: Record<string, string>[] = []): TrustedDocuments {
  const manifest = readManifest(resolve(path));
  return new Map([...shipped, manifest].flatMap((docs) => Object.entries(docs)).map(([hash, doc]) => [bareHash(hash), doc]));
}

/** A manifest file (hash → document text, as codegen writes it), read and checked. */
export function readManifest(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the trusted documents manifest ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!isManifest(parsed)) throw new Error(`The trusted documents manifest ${file} must be a JSON object of hash → document`);
  return parsed;
}

/** A JSON object of hash → document text. */
const isManifest = (x: unknown): x is Record<string, string> =>
  !!x && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every((v) => typeof v === 'string');

/** codegen writes `sha256:<hex>` (and puts that in each document's `__meta__.hash`); Apollo clients send the bare hex. */
const bareHash = (hash: string) => hash.replace(/^sha256:/i, '').toLowerCase();

/** The hash a client sends: Apollo's `extensions.persistedQuery.sha256Hash`, or a `documentId`. */
function documentHash(params: { extensions?: unknown; documentId?: unknown }): string | undefined {
  const ext = params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined;
  const hash = ext?.persistedQuery?.sha256Hash ?? params.documentId;
  return typeof hash === 'string' ? bareHash(hash) : undefined;
}

/** Refusals: FORBIDDEN for a document sent as text (the server runs trusted documents only), BAD_USER_INPUT for an unknown hash. */
const onlyTrusted = () =>
  new GraphQLError('This server runs trusted documents only: send the operation by its hash (extensions.persistedQuery.sha256Hash)', {
    extensions: { code: 'FORBIDDEN', reason: 'TRUSTED_DOCUMENTS_ONLY', http: { status: 403 } },
  });
const unknownHash = () =>
  new GraphQLError('No trusted document has this hash', { extensions: { code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } } });

/** GraphQL over HTTP: only the manifest's documents, by hash. */
export function useTrustedDocuments(docs: TrustedDocuments): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: false,
    extractPersistedOperationId: (params) => documentHash(params as { extensions?: unknown; documentId?: unknown }) ?? null,
    getPersistedOperation: (hash) => docs.get(hash) ?? null,
    customErrors: { persistedQueryOnly: onlyTrusted, keyNotFound: onlyTrusted, notFound: unknownHash },
  }) as Plugin;
}

/** The same rule for a graphql-ws subscribe message: its document's text, or the refusal. */
export function trustedSocketQuery(docs: TrustedDocuments, payload: { query?: unknown; extensions?: unknown; documentId?: unknown }): string | GraphQLError {
  const hash = documentHash(payload);
  if (hash === undefined || (typeof payload.query === 'string' && payload.query.trim())) return onlyTrusted();
  return docs.get(hash) ?? unknownHash();
}
