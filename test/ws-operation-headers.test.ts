import { beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { graphql } from './gql/index.ts';
import { registerUser, type TestUser } from './helpers/fixtures.ts';
import { leftovers } from './helpers/leftovers.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Me = graphql(`
  query WsHeadersMe { me { email } }
`);

/**
 * GraphiQL (and other tools) send headers with each operation (`extensions.headers`) rather than in
 * connectionParams; on a connection without credentials those authenticate the one operation.
 */
describe('graphql-ws operations authenticated by their own extensions.headers', () => {
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await startServer();
    user = await registerUser(server);
  });

  const run = (headers?: Record<string, string>) => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    leftovers.push(() => client.dispose() as Promise<void>);
    return client.iterate({ query: String(Me), extensions: headers ? { headers } : undefined }).next();
  };

  it('a valid Authorization header authenticates the operation', async () => {
    const { value } = await run({ Authorization: `Bearer ${user.token}` });
    expect(value?.data).toEqual({ me: { email: user.email } });
  });

  it('without headers the operation stays anonymous', async () => {
    const { value } = await run();
    expect(value?.data).toEqual({ me: null });
  });

  it('bad credentials are refused with UNAUTHENTICATED', async () => {
    const errors = await run({ authorization: 'Bearer nope' }).then(
      () => [],
      (e: unknown) => e as { extensions?: { code?: string } }[],
    );
    expect(errors[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
