/**
 * Keep-alive of the graphql-ws server (src/live/socket.ts): every `keepAlive` ms each socket is pinged, and
 * one that has not answered by the next ping is terminated (a dead peer holds no memory); a peer that
 * answers stays connected however long, and closed sockets leave the sweep.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { useServer } from '../src/live/socket.ts';
import { schema } from '../src/modules/index.ts';

const KEEP_ALIVE = 100;

async function start() {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http });
  const ws = useServer({ schema }, wss, { maxBufferedBytes: 1 << 20, keepAlive: KEEP_ALIVE });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    wss,
    url,
    async stop() {
      await ws.dispose();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** A graphql-ws socket, acknowledged; `autoPong: false` makes it a peer that never answers pings. */
async function connect(url: string, autoPong: boolean) {
  const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong });
  let pings = 0;
  socket.on('ping', () => pings++);
  const closed = new Promise<{ code: number; at: number }>((resolve) => socket.on('close', (code) => resolve({ code, at: Date.now() })));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve());
  });
  return { socket, closed, pings: () => pings };
}

describe('keep-alive', () => {
  let server: Awaited<ReturnType<typeof start>> | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('terminates a peer that does not answer pings within the interval, and keeps one that does', async () => {
    server = await start();
    const dead = await connect(server.url, false);
    const live = await connect(server.url, true);
    const since = Date.now();
    const { code, at } = await dead.closed;
    // Terminated, not closed: no close frame, so the client sees 1006. Pinged at the first sweep, cut at the second.
    expect(code).toBe(1006);
    expect(dead.pings()).toBeGreaterThanOrEqual(1);
    expect(at - since).toBeLessThan(KEEP_ALIVE * 2 + 1000);
    // The live peer answered every ping and is still open several intervals later.
    await new Promise((r) => setTimeout(r, KEEP_ALIVE * 5));
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
    expect(live.pings()).toBeGreaterThanOrEqual(4);
    live.socket.close();
    await live.closed;
  });

  it('a socket closed by its client leaves the sweep; the others are still pinged', async () => {
    server = await start();
    const a = await connect(server.url, true);
    const b = await connect(server.url, true);
    a.socket.close();
    await a.closed;
    const before = b.pings();
    await new Promise((r) => setTimeout(r, KEEP_ALIVE * 3));
    expect(b.pings()).toBeGreaterThan(before);
    expect(b.socket.readyState).toBe(WebSocket.OPEN);
    expect(server.wss.clients.size).toBe(1);
    b.socket.close();
    await b.closed;
  });
});
