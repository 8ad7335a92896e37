/**
 * graphql-ws on `ws`, as graphql-ws's own `useServer` (graphql-ws/use/ws) does it, with three changes:
 *
 * - Backpressure. Sending never waits for the socket: each frame is handed to `ws` and the
 *   subscription's loop goes on. A socket whose unsent bytes (`bufferedAmount`) pass
 *   `maxBufferedBytes` is a slow consumer: it is closed with 4413, so it holds neither memory nor
 *   anyone else's delivery; its client resumes with `afterSeq` / `afterVersion`.
 * - One serialization per payload. A `next` result is serialized to UTF-8 once however many
 *   subscriptions send it (shared live execution hands them the same result object); each socket's
 *   message is that payload behind its subscription's own head, built once per subscription.
 *   Subscriptions' events do not go through graphql-ws's loop at all: the hub (src/live/hub.ts) writes
 *   them with `writeNext`; graphql-ws still sends their `error` and `complete`.
 * - One keep-alive timer for all sockets.
 *
 * Every hook of graphql-ws's server options (onConnect, onSubscribe, onNext, onComplete, onClose, ...)
 * is called as graphql-ws calls it.
 */
import { CloseCode, DEPRECATED_GRAPHQL_WS_PROTOCOL, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { ExecutionResult } from 'graphql';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';

export interface Extra {
  readonly socket: WebSocket;
  /** The upgrade request; the app may drop it (set undefined) once it has read what it needs. */
  request?: IncomingMessage;
}

/** Close code for a socket that does not read fast enough (4413: like HTTP 413, the buffer is too large). */
export const SLOW_CONSUMER_CLOSE_CODE = 4413;
export const SLOW_CONSUMER_REASON = 'Slow consumer: buffer limit exceeded';

/** Counters for tests and metrics. */
export const wsStats = { slowConsumersClosed: 0, framesSent: 0, payloadsSerialized: 0 };

export interface SocketOptions {
  /** Unsent bytes a socket may hold before it is closed with 4413. */
  maxBufferedBytes: number;
  /** Ping interval, as graphql-ws's useServer (12 s). */
  keepAlive?: number;
  /**
   * Told of a frame that `ws` refused (too large, malformed): the peer's fault, which `ws` has already
   * answered with its close code (1009, 1002...). Other socket errors are reported as internal.
   */
  onProtocolError?(err: Error): void;
}

/** The UTF-8 JSON of each `next` payload, made once per result object however many sockets it goes to. */
const payloads = new WeakMap<object, Buffer>();
function payloadOf(result: ExecutionResult): Buffer {
  let bytes = payloads.get(result);
  if (bytes === undefined) {
    const { errors, ...rest } = result;
    bytes = Buffer.from(JSON.stringify(errors ? { ...rest, errors: errors.map((e) => (typeof e.toJSON === 'function' ? e.toJSON() : e)) } : rest));
    payloads.set(result, bytes);
    wsStats.payloadsSerialized++;
  }
  return bytes;
}

/**
 * The start of a subscription's `next` messages, up to its payload: made once per subscription (src/live/hub.ts
 * keeps it), since clients name their subscriptions as they like (graphql-ws's client: a UUID each).
 */
export function nextFrameHead(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}
const FRAME_TAIL = Buffer.from('}');

/** A whole `next` message: the subscription's head, the shared payload bytes, the closing brace: one copy. */
function frameOf(head: Buffer, result: ExecutionResult): Buffer {
  const payload = payloadOf(result);
  return Buffer.concat([head, payload, FRAME_TAIL], head.length + payload.length + 1);
}

/** What onNext hands graphql-ws once it has written the frame itself; `send` drops graphql-ws's copy. */
const SENT = Object.freeze({ __confabSent: 1 });
const SENT_TAIL = '"payload":{"__confabSent":1}}';

export function useServer<P extends Record<string, unknown> = Record<string, unknown>, E extends Record<PropertyKey, unknown> = Record<PropertyKey, never>>(
  options: ServerOptions<P, Extra & Partial<E>>,
  wss: WebSocketServer,
  socketOptions: SocketOptions,
) {
  const isProd = process.env.NODE_ENV === 'production';
  /** The close reason for an internal error: its message outside production. */
  const internalReason = (err: unknown) => (isProd ? 'Internal server error' : limitReason(err instanceof Error ? err.message : String(err)));
  const keepAlive = socketOptions.keepAlive ?? 12_000;
  const limit = socketOptions.maxBufferedBytes;

  /** Writes without waiting; a socket over its limit is closed as a slow consumer. */
  const write = (socket: WebSocket, data: string | Buffer) => {
    if (socket.readyState !== socket.OPEN) return;
    wsStats.framesSent++;
    socket.send(data, TEXT, noop);
    if (socket.bufferedAmount > limit) {
      wsStats.slowConsumersClosed++;
      socket.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON);
      // The close frame waits behind the unsent data; a peer that never reads is cut off after a grace period.
      const timer = setTimeout(() => socket.terminate(), 10_000);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
  };

  const userOnNext = options.onNext;
  const server = makeServer<P, Extra & Partial<E>>({
    ...options,
    onNext: async (ctx, id, payload, args, result) => {
      const replaced = await userOnNext?.(ctx, id, payload, args, result);
      const final = (replaced || result) as ExecutionResult;
      write(ctx.extra.socket, frameOf(nextFrameHead(id), final));
      return SENT as unknown as ExecutionResult;
    },
  });
  wss.options.handleProtocols = handleProtocols;

  wss.once('error', (err) => {
    console.error('Internal error emitted on the WebSocket server. Please check your implementation.', err);
    for (const client of wss.clients) {
      try {
        client.close(CloseCode.InternalServerError, internalReason(err));
      } catch {
        // closing others goes on
      }
    }
  });

  /**
   * Keep-alive as graphql-ws's useServer does it (ping every `keepAlive` ms, terminate a socket that has not
   * answered within the interval), with one timer for all sockets instead of an interval per socket and a
   * timeout per ping: each sweep terminates the sockets still awaiting the previous sweep's pong, then pings
   * the others.
   */
  const alive = new Set<WebSocket>();
  const awaitingPong = new Set<WebSocket>();
  function onPong(this: WebSocket) {
    awaitingPong.delete(this);
  }
  const heartbeat =
    keepAlive > 0 && isFinite(keepAlive)
      ? setInterval(() => {
          for (const socket of alive) {
            if (socket.readyState !== socket.OPEN) continue;
            if (awaitingPong.has(socket)) {
              awaitingPong.delete(socket);
              alive.delete(socket);
              socket.terminate();
              continue;
            }
            awaitingPong.add(socket);
            socket.ping();
          }
        }, keepAlive)
      : null;
  heartbeat?.unref();

  wss.on('connection', (socket, request) => {
    socket.once('error', (err) => {
      if (String((err as { code?: unknown }).code).startsWith('WS_ERR_')) return socketOptions.onProtocolError?.(err);
      console.error('Internal error emitted on a WebSocket socket. Please check your implementation.', err);
      socket.close(CloseCode.InternalServerError, internalReason(err));
    });
    if (heartbeat) {
      alive.add(socket);
      socket.on('pong', onPong);
    }
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: async (data) => {
          if (data.endsWith(SENT_TAIL)) return;
          write(socket, data);
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) => {
          // graphql-ws's handler of a `subscribe` message runs until the subscription ends: only the text goes
          // into that long wait, not the frame's Buffer (held by an async listener, it stayed for the stream's life).
          const handle = async (text: string) => {
            try {
              await cb(text);
            } catch (err) {
              console.error('Internal error occurred during message handling. Please check your implementation.', err);
              socket.close(CloseCode.InternalServerError, internalReason(err));
            }
          };
          socket.on('message', (event) => void handle(String(event)));
        },
      },
      { socket, request } as Extra & Partial<E>,
    );
    socket.once('close', (code, reason) => {
      alive.delete(socket);
      awaitingPong.delete(socket);
      if (!isProd && code === CloseCode.SubprotocolNotAcceptable && socket.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL) {
        console.warn('Client provided the unsupported and deprecated subprotocol "subscriptions-transport-ws".');
      }
      void closed(code, String(reason));
    });
  });

  return {
    /** Writes `result` as a `next` frame after `head` (nextFrameHead of the subscription's id): the hub's delivery. */
    writeNext: (socket: WebSocket, head: Buffer, result: ExecutionResult) => write(socket, frameOf(head, result)),
    dispose: async () => {
      if (heartbeat) clearInterval(heartbeat);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function noop() {}
const TEXT = { binary: false };

/** Close reasons are limited to 123 bytes. */
function limitReason(reason: string): string {
  return Buffer.byteLength(reason) > 123 ? 'Internal server error' : reason;
}
