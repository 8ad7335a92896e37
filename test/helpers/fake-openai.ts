import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { leftovers } from './leftovers.ts';

/** What the fake does with the next requests; change it between tests. */
export interface FakeBehavior {
  /** Words of the reply, streamed one chunk each (default: "Hello from the fake"). */
  reply?: string[];
  /** Answer every request with this HTTP status and an OpenAI-style error body. */
  status?: number;
  /** Break the stream (destroy the socket) after this many content chunks. */
  failAfterChunks?: number;
  /** Pause between chunks, in ms (slow responses; cancellation). */
  delayMs?: number;
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Base64 image `POST /images/generations` answers with (default: a 1×1 PNG). */
  imageBase64?: string;
  /** Stream these tool calls (after any reply words) instead of finishing with "stop". */
  toolCalls?: FakeToolCall[];
  /** Answers for the next chat requests, one each (taken from the front); when empty, the rest of the behavior answers. */
  script?: FakeTurn[];
}

/** A tool call the fake asks for; `arguments` is sent as JSON text in a few pieces, as OpenAI does. */
export interface FakeToolCall {
  name: string;
  arguments: unknown;
}

export type FakeTurn = Pick<FakeBehavior, 'reply' | 'toolCalls' | 'usage'>;

/** The 1×1 PNG the fake generates unless told otherwise. */
export const FAKE_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export interface FakeRequest {
  path: string;
  authorization?: string;
  body: any;
}

export interface FakeOpenAI {
  baseUrl: string;
  requests: FakeRequest[];
  behavior: FakeBehavior;
  close(): Promise<void>;
}

/**
 * A small OpenAI-compatible server on loopback: `POST /chat/completions` streamed as SSE chunks (with
 * a usage chunk when asked) or whole, with configurable errors, slowness and mid-stream failure; and
 * `POST /images/generations` (base64). Vision requests are chat completions with image parts.
 */
export async function startFakeOpenAI(behavior: FakeBehavior = {}): Promise<FakeOpenAI> {
  const requests: FakeRequest[] = [];
  const fake = { behavior } as FakeOpenAI;
  const server = createServer(async (req, res) => {
    const body = await readJson(req);
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
    if (req.url?.endsWith('/chat/completions') && req.method === 'POST') return completions(fake.behavior, body, res);
    if (req.url?.endsWith('/images/generations') && req.method === 'POST') return images(fake.behavior, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  leftovers.push(close);
  return Object.assign(fake, { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests, close });
}

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function completions(b: FakeBehavior, body: any, res: ServerResponse) {
  if (b.status) {
    res.writeHead(b.status, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ error: { message: `fake failure ${b.status}`, type: 'server_error', code: null } }));
  }
  const turn = body?.stream ? b.script?.shift() : undefined;
  if (turn) b = { ...b, reply: turn.toolCalls && !turn.reply ? [] : turn.reply, toolCalls: turn.toolCalls, usage: turn.usage };
  const words = b.reply ?? (b.toolCalls ? [] : ['Hello', ' from', ' the', ' fake']);
  const usage = b.usage ?? { prompt_tokens: 11, completion_tokens: words.length };
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: body?.model ?? 'fake' };
  if (!body?.stream) {
    if (b.delayMs) await sleep(b.delayMs);
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(
      JSON.stringify({
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        created: 1,
        model: base.model,
        choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      }),
    );
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  for (let i = 0; i < words.length; i++) {
    if (b.failAfterChunks !== undefined && i >= b.failAfterChunks) {
      await sleep(50); // let the chunks already written reach the client, then break the connection
      return res.destroy();
    }
    if (b.delayMs) await sleep(b.delayMs);
    if (res.destroyed) return;
    send({ ...base, choices: [{ index: 0, delta: { content: words[i] }, finish_reason: null }] });
  }
  for (const [index, call] of (b.toolCalls ?? []).entries()) {
    const args = JSON.stringify(call.arguments);
    const cut = Math.ceil(args.length / 2);
    send({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, id: `call_${index}_${call.name}`, type: 'function', function: { name: call.name, arguments: '' } }] }, finish_reason: null }] });
    for (const piece of [args.slice(0, cut), args.slice(cut)]) send({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish_reason: null }] });
  }
  send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: b.toolCalls?.length ? 'tool_calls' : 'stop' }] });
  if (body?.stream_options?.include_usage) send({ ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
  res.end('data: [DONE]\n\n');
}

function images(b: FakeBehavior, res: ServerResponse) {
  if (b.status) {
    res.writeHead(b.status, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ error: { message: `fake failure ${b.status}`, type: 'server_error', code: null } }));
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ created: 1, data: [{ b64_json: b.imageBase64 ?? FAKE_PNG }] }));
}
