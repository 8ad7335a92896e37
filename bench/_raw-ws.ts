/**
 * The floor for `bench fanout`: a bare `ws` server (no GraphQL) in its own process. `POST /send` with a JSON body
 * `{ content, seq }` writes one frame shaped like Confab's graphql-ws `next` for roomEvents (same size) to every
 * connected client: serialized once, sent to each socket. Answers the POST once every socket has been written to.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2]);
const clients = new Set<WebSocket>();
const http = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const { content, seq } = JSON.parse(body) as { content: string; seq: number };
    const frame = JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', type: 'next', payload: { data: { roomEvents: { seq, message: { content } } } } });
    for (const ws of clients) ws.send(frame);
    res.end('ok');
  });
});
const wss = new WebSocketServer({ server: http });
wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('close', () => clients.delete(ws));
});
http.listen(port, '127.0.0.1', () => process.send?.('ready'));
