/**
 * A client process for `bench fanout`'s idle mode (so the subscribers' sockets are spread over processes, each
 * under its file-descriptor limit). Opens SOCKETS graphql-ws connections with SUBS roomEvents subscriptions in all
 * (spread evenly), each socket authenticated with one of TOKENS; tells the parent `{ ready }`, then reports
 * `{ received, content }` for each content every subscription has received.
 * RAW=1 (the idle floor): SOCKETS bare `ws` sockets to WS_URL (bench/_raw-ws.ts) instead, each a "subscription"
 * (SUBS = SOCKETS), counting the frames the floor server writes to all of them.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const { WS_URL, TOKENS, ROOM_ID, SOCKETS, SUBS, RAW } = process.env as Record<string, string>;
const tokens = JSON.parse(TOKENS ?? '[]') as string[];
const sockets = Number(SOCKETS);
const subs = Number(SUBS);
const EVENTS = `subscription FanoutIdle($roomId: ID!) { roomEvents(roomId: $roomId) { ... on RoomMessageAdded { seq message { content } } } }`;
const counts = new Map<string, number>();
const clients: Client[] = [];
const rawSockets: WebSocket[] = [];

function onContent(content: string) {
  const n = (counts.get(content) ?? 0) + 1;
  counts.set(content, n);
  if (n === subs) process.send!({ received: n, content });
}

/** One socket with its subscriptions; resolves once connected (retried when a loaded server misses the init window). */
function open(s: number, attempt = 1): Promise<void> {
  const client = createClient({ url: WS_URL, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tokens[s % tokens.length]}` }, retryAttempts: 0, lazy: false, keepAlive: 0 });
  return new Promise<void>((resolve, reject) => {
    let connected = false;
    const off = client.on('connected', () => {
      off();
      connected = true;
      clients.push(client);
      resolve();
    });
    client.on('closed', (e) => {
      if (connected) return process.send!({ error: `socket ${s} closed after connecting: ${(e as { code?: number }).code}` });
      const code = (e as { code?: number }).code;
      if (attempt < 5) open(s, attempt + 1).then(resolve, reject);
      else reject(new Error(`socket ${s} closed ${code} ${(e as { reason?: string }).reason}`));
    });
    // Subscriptions s, s + sockets, s + 2·sockets… ride on socket s.
    for (let k = s; k < subs; k += sockets) {
      client.subscribe<{ roomEvents: { message: { content: string } } }>({ query: EVENTS, variables: { roomId: ROOM_ID } }, {
        next: (r) => r.data && onContent(r.data.roomEvents.message.content),
        error: (e) => process.send!({ error: String((e as Error)?.message ?? JSON.stringify(e)) }),
        complete: () => {},
      });
    }
  });
}

/** A bare socket to the floor server; resolves once open. */
function openRaw(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(WS_URL);
    rawSockets.push(ws);
    ws.on('open', () => resolve());
    ws.on('error', reject);
    ws.on('message', (data) => onContent((JSON.parse(String(data)) as any).payload.data.roomEvents.message.content));
  });
}

const BATCH = RAW === '1' ? 100 : 25;
for (let i = 0; i < sockets; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, sockets - i) }, (_, j) => (RAW === '1' ? openRaw() : open(i + j))));
process.send!({ ready: sockets });
process.on('message', (m: { stop?: boolean }) => {
  if (!m.stop) return;
  for (const ws of rawSockets) ws.terminate();
  Promise.all(clients.map((c) => c.dispose())).finally(() => process.exit(0));
});
// The parent gone (a failed benchmark): nothing left to report to.
process.on('disconnect', () => process.exit(0));
