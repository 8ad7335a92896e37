import { Client, fetchExchange } from '@urql/core';
import { graphql } from './gql';
import { trustedDocumentsExchange } from './trusted';

/** What a sign-in gives: kept in localStorage so a reload stays signed in. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
  user: { id: string; name: string; email: string };
}

const KEY = 'confab.auth';
const listeners = new Set<() => void>();
let current: Session | null = JSON.parse(localStorage.getItem(KEY) ?? 'null');

export const RefreshDoc = graphql(`
  mutation WebRefresh($input: RefreshAccessTokenInput!) {
    refreshAccessToken(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id name email } }
  }
`);

/** The signed-in session, or null. */
export const getSession = () => current;

/** Replaces the session (null signs out) and tells every listener (the app re-creates its client). */
export function setSession(next: Session | null) {
  current = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  for (const l of listeners) l();
}

export function onSessionChange(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** True when the access token ends within `marginMs` (refresh before the server refuses it). */
export function expiresSoon(s: Session, marginMs = 10_000) {
  return new Date(s.accessTokenExpiresAt).getTime() - Date.now() < marginMs;
}

// Refreshing goes through a bare client (no auth exchange) so that it cannot wait on itself.
const bare = new Client({ url: '/graphql', exchanges: [trustedDocumentsExchange, fetchExchange], requestPolicy: 'network-only' });
let refreshing: Promise<Session | null> | null = null;

/**
 * A fresh access token: refreshed once however many callers ask at the same time (the refresh token
 * rotates, so two parallel refreshes would revoke the login). A refused refresh signs out.
 */
export function ensureFresh(force = false): Promise<Session | null> {
  const s = current;
  if (!s || (!force && !expiresSoon(s))) return Promise.resolve(s);
  refreshing ??= bare
    .mutation(RefreshDoc, { input: { refreshToken: s.refreshToken } })
    .toPromise()
    .then((r) => {
      const p = r.data?.refreshAccessToken;
      const code = r.error?.graphQLErrors[0]?.extensions?.code;
      if (p) setSession({ ...p, user: p.user });
      else if (code) setSession(null); // refused: the login is over; a network error keeps it for a retry
      return getSession();
    })
    .finally(() => (refreshing = null));
  return refreshing;
}
