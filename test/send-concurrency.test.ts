import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { addMember, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`mutation SendConcCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Send = graphql(`mutation SendConcSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq content clientMsgId metadata createdAt } }`);
const Page = graphql(`
  query SendConcPage($id: ID!, $after: Int!) { room(id: $id) { lastSeq messages(afterSeq: $after, first: 100) { edges { node { id seq content metadata createdAt } } } } }
`);

let server: TestServer;
let users: TestUser[];
let outsider: TestUser;
let orgId: string;
let roomId: string;
const SENDERS = 100;
const EACH = 3;

beforeAll(async () => {
  server = await startServer();
  const { org, owner, members } = await orgWithMembers(server, 4);
  users = [owner, ...members];
  orgId = org.id;
  // In the org, not in the rooms.
  outsider = await registerUser(server, { name: 'Outsider' });
  await addMember(server, org.id, owner, outsider);
  roomId = (await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'busy', memberIds: members.map((m) => m.id) } }, { token: owner.token })).createRoom.id;
});

describe('sendMessage under 100 concurrent senders into one room', () => {
  it('acknowledges every message once, with the seqs 1..N and nothing else stored', async () => {
    // 100 senders at once, each sending its messages one after the other (a retry of one of them on the way).
    const acks = (
      await Promise.all(
        Array.from({ length: SENDERS }, async (_, s) => {
          const user = users[s % users.length];
          const mine = [];
          for (let i = 0; i < EACH; i++) {
            // Every other sender attaches JSON: what a batched commit answers must be what is stored.
            const metadata = s % 2 ? { s, i, tags: ['a', 'b'], nested: { ok: true, none: null } } : undefined;
            const input = { roomId, content: `s${s} m${i}`, clientMsgId: `s${s}-${i}`, ...(metadata ? { metadata } : {}) };
            mine.push((await server.ok(Send, { input }, { token: user.token })).sendMessage);
          }
          // A retry with the same clientMsgId is the same message, not a new seq.
          const retry = (await server.ok(Send, { input: { roomId, content: `s${s} m0`, clientMsgId: `s${s}-0`, ...(s % 2 ? { metadata: { s, i: 0, tags: ['a', 'b'], nested: { ok: true, none: null } } } : {}) } }, { token: user.token })).sendMessage;
          expect(retry).toEqual(mine[0]);
          return mine;
        }),
      )
    ).flat();
    const n = SENDERS * EACH;
    expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(new Set(acks.map((a) => a.id)).size).toBe(n);

    const stored = await storedMessages(roomId, users[1].token, n);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const byId = new Map(stored.map((m) => [m.id, m]));
    // The answer of each send, batched or not, is the row as stored: same id, seq, content, JSON and time.
    for (const a of acks) expect(byId.get(a.id)).toEqual({ id: a.id, seq: a.seq, content: a.content, metadata: a.metadata, createdAt: a.createdAt });
    expect(acks.filter((a) => a.metadata).length).toBe(n / 2);
  });
});

/** Every stored message of a room, page by page through the API; the room's lastSeq must be `lastSeq`. */
async function storedMessages(roomId: string, token: string, lastSeq: number) {
  const stored: { id: string; seq: number; content: string | null; metadata?: unknown; createdAt?: unknown }[] = [];
  for (let after = 0, more = true; more; ) {
    const { room } = await server.ok(Page, { id: roomId, after }, { token });
    const page = room!.messages.edges.map((e) => e.node);
    stored.push(...page);
    more = page.length > 0;
    after = page.at(-1)?.seq ?? after;
    if (!more) expect(room!.lastSeq).toBe(lastSeq);
  }
  return stored;
}

/** The server's group-commit counters (GET /metrics). */
async function batchCounts() {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)![1]);
  return { commits: read('confab_room_send_commits'), messages: read('confab_room_send_messages'), fallbacks: read('confab_room_send_fallbacks') };
}

describe('sendMessage group commit: 100 concurrent senders, some duplicates, some refused', () => {
  it('gives every caller its own answer and stores each valid message once, seqs 1..N', async () => {
    const members = users.slice(1);
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'mixed', memberIds: members.map((m) => m.id) } }, { token: users[0].token });
    const room = createRoom.id;
    const before = await batchCounts();

    type Ack = { id: string; seq: number; content: string | null; clientMsgId: string | null };
    const stored: Ack[] = []; // everything acknowledged as stored, duplicates once
    const results = await Promise.all(
      Array.from({ length: SENDERS }, async (_, s) => {
        const user = users[s % users.length];
        const send = (input: Record<string, unknown>, as = user) => server.gql(Send, { input: { roomId: room, ...input } as never }, { token: as.token });
        switch (s % 10) {
          case 0: {
            // The same clientMsgId twice at once (lands in one batch, or in two): one message, both get it.
            const [a, b] = await Promise.all([send({ content: `dup ${s}`, clientMsgId: `dup-${s}` }), send({ content: `dup ${s}`, clientMsgId: `dup-${s}` })]);
            expect(a.errors).toBeUndefined();
            expect(b.data).toEqual(a.data);
            stored.push(a.data!.sendMessage);
            return 'dup';
          }
          case 1: {
            const answers = await Promise.all([
              send({ content: '   ' }),
              send({ content: 'x'.repeat(4001) }),
              send({ content: 'big metadata', metadata: { blob: 'y'.repeat(9000) } }),
              send({ content: 'valid between invalid ones' }),
            ]);
            for (const bad of answers.slice(0, 3)) expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
            expect(answers[3].errors).toBeUndefined();
            stored.push(answers[3].data!.sendMessage);
            return 'invalid';
          }
          case 2: {
            // Not a member of the room: refused before it reaches a batch.
            const r = await send({ content: 'let me in' }, outsider);
            expect(r.errors?.[0].extensions?.code).toBe('NOT_FOUND');
            return 'outsider';
          }
          case 3: {
            // A room that is not there (an id of another type's shape): refused before it reaches a batch.
            const r = await send({ roomId: Buffer.from('Room:nope').toString('base64'), content: 'anyone?' });
            expect(r.errors?.[0].extensions?.code).toBe('NOT_FOUND');
            return 'missing';
          }
          default: {
            // Three in a row with a clientMsgId, then a retry of the first: seqs in submission order.
            const mine: Ack[] = [];
            for (let i = 0; i < 3; i++) {
              const r = await send({ content: `s${s} m${i}`, clientMsgId: `s${s}-${i}` });
              expect(r.errors).toBeUndefined();
              mine.push(r.data!.sendMessage);
            }
            expect(mine[0].seq).toBeLessThan(mine[1].seq);
            expect(mine[1].seq).toBeLessThan(mine[2].seq);
            const retry = await send({ content: `s${s} m0`, clientMsgId: `s${s}-0` });
            expect(retry.data!.sendMessage).toEqual(mine[0]);
            stored.push(...mine);
            return 'ok';
          }
        }
      }),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(60);

    const n = stored.length;
    expect(n).toBe(60 * 3 + 10 + 10);
    expect(new Set(stored.map((a) => a.id)).size).toBe(n);
    expect(stored.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));

    const rows = await storedMessages(room, users[1].token, n);
    expect(rows.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const byId = new Map(rows.map((m) => [m.id, m]));
    for (const a of stored) expect(byId.get(a.id)).toMatchObject({ seq: a.seq, content: a.content });

    // The sends shared transactions (group commit), none of which failed.
    const after = await batchCounts();
    expect(after.messages - before.messages).toBe(n);
    expect(after.commits - before.commits).toBeLessThan(n);
    expect(after.fallbacks).toBe(before.fallbacks);
  });
});
