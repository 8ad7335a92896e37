import type { CombinedError } from '@urql/core';

/** A message a person can act on: the server's own, with its code when it has one. */
export function errorText(error?: CombinedError | null): string {
  if (!error) return 'Something went wrong.';
  const g = error.graphQLErrors[0];
  if (g) return g.message;
  return error.networkError ? 'The server could not be reached.' : error.message;
}

/** A client-chosen id, so a retried send is not stored twice. */
export const clientId = () => crypto.randomUUID();

export const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
