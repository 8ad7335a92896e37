/**
 * The floor for `bench fanout`: a bare `ws` server (no GraphQL, no auth, no database) in its own process.
 *
 * - `POST /send` with a JSON body `{ content, seq }` writes one frame shaped like Confab's graphql-ws `next` for
 *   roomEvents (same size) to every connected client that did not name a room: serialized once, sent to each socket.
 *   With `shape: 'inbox'` the frame is shaped like Confab's `next` for `inbox`'s InboxMessageAdded as the web client
 *   selects it (`bench inbox`: cursor, seq, counts, the content as snippet, room and author ids of the same length).
 *   With `{ room, content, seq }` it writes the frame to the sockets of that room only (a client joins room R by
 *   connecting to `/?room=R`), as Confab routes a message to its room's subscribers. Answers the POST once every
 *   socket has been written to.
 * - A text frame from a client is answered with one such frame (the reconnect storm's floor: the same round trip as
 *   a subscribe answered by its first `next`).
 * - Run with `--expose-gc`, an IPC message `{ gc: true }` is answered `{ heapKb }`: the heap in use after a full GC
 *   (the idle floor's live objects).
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2]);
const clients = new Set<WebSocket>();
const rooms = new Map<string, Set<WebSocket>>();
const SUBSCRIPTION_ID = '00000000-0000-4000-8000-000000000000';
const frameOf = (content: string, seq: number) =>
  JSON.stringify({ id: SUBSCRIPTION_ID, type: 'next', payload: { data: { roomEvents: { seq, message: { content } } } } });
// Relay global ids of a 25-character cuid (`Room:<cuid>` in base64, as Confab's), an inbox cursor of today's length.
const globalId = (type: string) => Buffer.from(`${type}:c${'0'.repeat(24)}`).toString('base64');
const ROOM_ID = globalId('Room');
const AUTHOR_ID = globalId('User');
const inboxFrameOf = (content: string, seq: number) =>
  JSON.stringify({
    id: SUBSCRIPTION_ID,
    type: 'next',
    payload: {
      data: {
        inbox: {
          __typename: 'InboxMessageAdded',
          cursor: Buffer.from(`0.${Date.now()}`).toString('base64url'),
          seq,
          unreadCount: seq,
          mentionCount: 0,
          snippet: content,
          room: { id: ROOM_ID },
          author: { id: AUTHOR_ID, name: 'Sender' },
        },
      },
    },
  });
const http = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const { room, content, seq, shape } = JSON.parse(body) as { room?: string; content: string; seq: number; shape?: 'inbox' };
    const frame = shape === 'inbox' ? inboxFrameOf(content, seq) : frameOf(content, seq);
    for (const ws of room === undefined ? clients : (rooms.get(room) ?? [])) ws.send(frame);
    res.end('ok');
  });
});
const wss = new WebSocketServer({ server: http });
let answers = 0;
wss.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://x').searchParams.get('room');
  const set = room === null ? clients : (rooms.get(room) ?? rooms.set(room, new Set()).get(room)!);
  set.add(ws);
  ws.on('close', () => set.delete(ws));
  ws.on('message', () => ws.send(frameOf('storm', ++answers)));
});
process.on('message', (m: { gc?: boolean }) => {
  if (!m.gc) return;
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  process.send!({ heapKb: gc ? process.memoryUsage().heapUsed / 1024 : undefined });
});
// Ended by its parent (SIGTERM), or when the parent is gone (the IPC channel closes).
process.on('disconnect', () => process.exit(0));
http.listen(port, '127.0.0.1', () => process.send?.('ready'));
