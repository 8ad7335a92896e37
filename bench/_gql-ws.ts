/**
 * A graphql-transport-ws subscriber on a bare `ws` socket, for `bench fanout`'s many-rooms and storm sections: no
 * graphql-ws client (its per-client objects and timers), so the client side costs the same per frame as against the
 * raw `ws` floor (a JSON.parse per frame) and thousands fit in one process.
 *
 * connection_init with `{ authorization: 'Bearer <token>' }`, then on connection_ack one subscribe; every `next`
 * payload goes to `next`; a graphql `error`, a `complete`, or the socket closing before `close()` goes to `error`.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export interface RawSubscriber {
  ws: WebSocket;
  /** Closes the socket without reporting it as an error. */
  close(): void;
}

export function rawSubscribe(
  url: string,
  token: string,
  request: { query: string; variables: Record<string, unknown> },
  on: { next(payload: any): void; error(e: Error): void },
): RawSubscriber {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const id = randomUUID();
  let closing = false;
  const fail = (e: Error) => closing || on.error(e);
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; payload?: unknown };
    if (m.type === 'next') on.next(m.payload);
    else if (m.type === 'connection_ack') ws.send(JSON.stringify({ id, type: 'subscribe', payload: request }));
    else if (m.type === 'ping') ws.send('{"type":"pong"}');
    else if (m.type === 'error') fail(new Error(`subscription error: ${JSON.stringify(m.payload)}`));
    else if (m.type === 'complete') fail(new Error('subscription completed by the server'));
  });
  ws.on('error', (e) => fail(e));
  ws.on('close', (code, reason) => fail(new Error(`socket closed: ${code} ${String(reason)}`)));
  return {
    ws,
    close() {
      closing = true;
      ws.terminate();
    },
  };
}

/** Runs `f(0)` … `f(n - 1)` with at most `limit` under way at once; their results in order. */
export async function pool<T>(n: number, limit: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    for (let i = next++; i < n; i = next++) out[i] = await f(i);
  }));
  return out;
}
