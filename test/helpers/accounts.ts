import type { Client } from 'graphql-ws';
import type { Auth } from './client.ts';
import type { TestServer } from './server.ts';

export interface OpenSocket {
  client: Client;
  /** Settles with the close code and reason when the server closes the socket. */
  closed: Promise<{ code: number; reason: string }>;
  /** Settles once the server acknowledged the connection (its credentials checked). */
  acknowledged: Promise<void>;
}

/** A graphql-ws connection opened at once (not lazily), reporting when it is acknowledged and when it closes. */
export function connectSocket(server: TestServer, auth: Auth & { connectionParams?: Record<string, unknown> } = {}): OpenSocket {
  let onClosed!: (c: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  let onOpen!: () => void;
  const acknowledged = new Promise<void>((resolve) => (onOpen = resolve));
  const client = server.ws(auth, {
    lazy: false,
    onNonLazyError: () => undefined,
    on: {
      connected: () => onOpen(),
      closed: (event) => {
        const e = event as { code: number; reason: string };
        onClosed({ code: e.code, reason: String(e.reason) });
      },
    },
  });
  return { client, closed, acknowledged };
}

/** One operation over the socket: its result (data and errors). */
export function overSocket(client: Client, doc: unknown, variables?: Record<string, unknown>) {
  return new Promise<{ data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }>((resolve, reject) => {
    let result: { data?: any; errors?: any[] } = {};
    client.subscribe(
      { query: String(doc), variables },
      {
        next: (r) => (result = r as typeof result),
        error: (err) => (Array.isArray(err) ? resolve({ errors: err }) : reject(err instanceof Error ? err : new Error(JSON.stringify(err)))),
        complete: () => resolve(result),
      },
    );
  });
}
