/**
 * A client process for `bench fanout`'s reconnect storm. Tells the parent `{ ready }`; on `{ go }` opens COUNT sockets
 * to WS_URL, at most CONCURRENCY handshakes under way at once, and reports `{ done, latencies, errors }`: each client's
 * time from creating its socket to the server's answer. Keeps the sockets open until `{ stop }`.
 *
 * MODE=confab: graphql-transport-ws, authenticated with TOKENS (round robin), subscribing to roomEvents of ROOM_ID
 * with afterSeq AFTER_SEQ: a message with seq AFTER_SEQ + 1 is stored, so the subscription's first `next` (its replay)
 * arrives as soon as the server has set it up: that frame is the acknowledgement.
 * MODE=raw: a bare socket that sends one text frame (the same subscribe frame) on open and waits for one frame back.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { pool, rawSubscribe } from './_gql-ws.ts';

const { MODE, WS_URL: url, COUNT, CONCURRENCY, TOKENS, ROOM_ID, AFTER_SEQ } = process.env as Record<string, string>;
const tokens = JSON.parse(TOKENS ?? '[]') as string[];
const EVENTS = `subscription FanoutStorm($roomId: ID!, $afterSeq: Int) { roomEvents(roomId: $roomId, afterSeq: $afterSeq) { ... on RoomMessageAdded { seq message { content } } } }`;
const request = { query: EVENTS, variables: { roomId: ROOM_ID ?? 'room', afterSeq: Number(AFTER_SEQ ?? 0) } };
const TIMEOUT_MS = 120_000;
const closers: (() => void)[] = [];

/** One client; resolves with its handshake time in ms, or an error message. */
function client(i: number): Promise<number | string> {
  const t = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: number | string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => settle(`no answer in ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);
    if (MODE === 'raw') {
      const ws = new WebSocket(url);
      closers.push(() => ws.terminate());
      ws.on('open', () => ws.send(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload: request })));
      ws.once('message', (data) => {
        JSON.parse(String(data));
        settle(performance.now() - t);
      });
      ws.on('error', (e) => settle(e.message));
      ws.on('close', (code) => settle(`socket closed: ${code}`));
    } else {
      const s = rawSubscribe(url, tokens[i % tokens.length], request, { next: () => settle(performance.now() - t), error: (e) => settle(e.message) });
      closers.push(() => s.close());
    }
  });
}

process.on('message', async (m: { go?: boolean; stop?: boolean }) => {
  if (m.go) {
    const results = await pool(Number(COUNT), Number(CONCURRENCY), client);
    const latencies = results.filter((r): r is number => typeof r === 'number');
    const errors = results.filter((r): r is string => typeof r === 'string');
    process.send!({ done: latencies.length, latencies, errors: errors.length, firstErrors: errors.slice(0, 3) });
  }
  if (m.stop) {
    for (const close of closers) close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
