import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { authExchange } from '@urql/exchange-auth';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { ensureFresh, expiresSoon, getSession, setSession } from './auth';
import { trustedDocumentsExchange } from './trusted';

/** The GraphQL endpoint on the same origin (Confab serves this app and the API on one port). */
const httpUrl = '/graphql';
const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

export interface Clients {
  urql: Client;
  ws: WsClient;
}

/**
 * One urql client per signed-in user (recreated on sign-in/out so no cache leaks between users):
 * queries and mutations over HTTP with the access token (refreshed before it expires, and once more
 * when the server says UNAUTHENTICATED), subscriptions over graphql-ws, which reconnects by itself.
 */
export function createClients(): Clients {
  let lastClose = 0;
  const ws = createWsClient({
    url: wsUrl(),
    lazy: true,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: { closed: (event) => void (lastClose = (event as CloseEvent | undefined)?.code ?? 0) },
    // The server closes a socket with 4403 when its access token expires: reconnect at once with a fresh one
    // (connectionParams below), so live events are not missed for the usual back-off; else back off as
    // graphql-ws does (1 s, 2 s, 4 s… plus 0.3–3 s at random).
    retryWait: async (retries) => {
      if (lastClose === 4403 && retries === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** retries + 300 + Math.floor(Math.random() * 2700)));
    },
    // Called for every (re)connection, so a reconnect after the token expired sends a fresh one.
    connectionParams: async () => {
      const s = await ensureFresh();
      return s ? { authorization: `Bearer ${s.accessToken}` } : {};
    },
  });
  const urql = new Client({
    url: httpUrl,
    // Queries as JSON POSTs: the server's CSRF prevention refuses GETs without a preflight header.
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange,
      authExchange(async (utils) => ({
        addAuthToOperation(operation) {
          const s = getSession();
          return s ? utils.appendHeaders(operation, { Authorization: `Bearer ${s.accessToken}` }) : operation;
        },
        willAuthError: () => {
          const s = getSession();
          return !!s && expiresSoon(s);
        },
        didAuthError: (error) => error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED'),
        async refreshAuth() {
          if (!(await ensureFresh(true))) setSession(null);
        },
      })),
      trustedDocumentsExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { urql, ws };
}
