/** Shared by the benchmarks (the leading `_` keeps `npm run bench` from running it). */
export { freePort } from '../test/helpers/process.ts';

/** A minimal GraphQL-over-HTTP call against a server started by a benchmark; throws on errors. */
export function graphqlAt(origin: string) {
  return async function gql<T = any>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    const res = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };
}
