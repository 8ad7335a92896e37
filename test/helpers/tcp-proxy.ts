import { connect, createServer, type Server, type Socket } from 'node:net';
import { leftovers } from './leftovers.ts';

export interface TcpProxy {
  /** `redis://` URL (or any scheme) of the proxy's port, which stays the same across down/up. */
  url(scheme: string): string;
  /** Cuts every connection and stops listening: the service looks gone. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

/** A loopback TCP proxy to `port`, to take a real service away from a server under test and bring it back. */
export async function tcpProxy(port: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let ownPort = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(port, host);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        for (const s of [client, upstream]) s.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(ownPort, host, () => {
        ownPort = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const down = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
  };
  await listen();
  leftovers.push(down);
  return { url: (scheme) => `${scheme}://${host}:${ownPort}`, down, up: listen };
}
