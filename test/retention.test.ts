import { decodeGlobalID } from '@pothos/plugin-relay';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { runRetentionPass } from '../src/modules/retention/retention.service.ts';
import { graphql } from './gql/index.ts';
import { uploadFile } from './helpers/attachments.ts';
import { subscribe, type LiveSubscription } from './helpers/client.ts';
import { orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const UpdateOrg = graphql(`mutation RetentionUpdateOrg($input: UpdateOrgInput!) { updateOrg(input: $input) { id retentionDays } }`);
const CreateRoom = graphql(`mutation RetentionCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Send = graphql(`mutation RetentionSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`);
const RoomQuery = graphql(`
  query RetentionRoom($id: ID!) {
    room(id: $id) {
      lastSeq prunedThroughSeq unreadCount
      messages(first: 100) { edges { node { seq content parent { id } attachments { id } } } }
    }
  }
`);
const Events = graphql(`
  subscription RetentionEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomHistoryPruned { throughSeq }
      ... on RoomMessageAdded { seq message { parent { id } } }
    }
  }
`);

const DAY = 86_400_000;
let server: TestServer;
let dir: string;
const as = (u: TestUser) => ({ token: u.token });
const raw = (id: string) => decodeGlobalID(id).id;
const storedFiles = async () => (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.endsWith('.part'));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-retention-'));
  // The server's default keeps messages forever; the worker's own timer stays out of the way (passes are run here).
  server = await startServer({ overrides: { storage: { dir }, retention: { roomMessagesDays: 0, intervalMs: 3_600_000 } } });
});
afterAll(() => server.stop());

/** An org keeping messages `retentionDays` (null: the server's default), with a room whose messages 1..n exist; `old` seqs are `age` days old. */
async function roomWith(n: number, retentionDays: number | null, old: number[], age = 40) {
  const { org, owner, members } = await orgWithMembers(server, 1);
  const [member] = members;
  if (retentionDays !== null) await server.ok(UpdateOrg, { input: { orgId: org.id, retentionDays } }, as(owner));
  const roomId = (await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'history', memberIds: [member.id] } }, as(owner))).createRoom.id;
  const ids: string[] = [];
  for (let seq = 1; seq <= n; seq++) ids.push((await server.ok(Send, { input: { roomId, content: `m${seq}` } }, as(owner))).sendMessage.id);
  const past = new Date(Date.now() - age * DAY);
  await db.room.update({ where: { id: raw(roomId) }, data: { createdAt: new Date(past.getTime() - DAY) } });
  await db.roomMessage.updateMany({ where: { roomId: raw(roomId), seq: { in: old } }, data: { createdAt: past } });
  return { org, owner, member, roomId, ids };
}

const seqsOf = async (roomId: string, u: TestUser) => (await server.ok(RoomQuery, { id: roomId }, as(u))).room!.messages.edges.map((e) => e.node.seq);
const audits = (orgId: string) => db.auditEntry.findMany({ where: { orgId: raw(orgId), action: 'org.retention.prune' } });

/** Events until (and with) the first that `stop` accepts. */
async function until(sub: LiveSubscription<any>, stop: (e: any) => boolean) {
  const seen = [];
  for (;;) {
    const e = (await sub.next()).data!.roomEvents;
    seen.push(e);
    if (stop(e)) return seen;
  }
}

describe('a retention pass', () => {
  it('deletes the old prefix of a room with its files, sets prunedThroughSeq, keeps replies, audits', async () => {
    const { org, owner, member, roomId, ids } = await roomWith(0, 30, []);
    const fileId = await uploadFile(server, owner.token, org.id, 'old.txt', 'text/plain', Buffer.from('old bytes'));
    await server.ok(Send, { input: { roomId, content: 'm1', attachmentIds: [fileId] } }, as(owner));
    for (const content of ['m2', 'm3', 'm4']) ids.push((await server.ok(Send, { input: { roomId, content } }, as(owner))).sendMessage.id);
    // m5 replies to m2 (pruned); m5 itself is old, but m4 is not: pruning stops at the first message kept.
    await server.ok(Send, { input: { roomId, content: 'm5', parentId: ids[0] } }, as(owner));
    await server.ok(Send, { input: { roomId, content: 'm6' } }, as(owner));
    const past = new Date(Date.now() - 40 * DAY);
    await db.room.update({ where: { id: raw(roomId) }, data: { createdAt: past } });
    await db.roomMessage.updateMany({ where: { roomId: raw(roomId), seq: { in: [1, 2, 3, 5] } }, data: { createdAt: past } });
    expect(await storedFiles()).toHaveLength(1);
    expect((await server.ok(RoomQuery, { id: roomId }, as(member))).room!.unreadCount).toBe(6);

    const live = subscribe(server.ws(as(member)), Events, { roomId, afterSeq: 6 });
    // Live once it hears a message sent after it started.
    await server.ok(Send, { input: { roomId, content: 'm7' } }, as(owner));
    expect((await live.next()).data!.roomEvents).toMatchObject({ __typename: 'RoomMessageAdded', seq: 7 });

    const pass = await runRetentionPass(server.app.services);
    expect(pass).toMatchObject({ messages: 3, rooms: 1, attachments: 1 });
    expect((await live.next()).data!.roomEvents).toEqual({ __typename: 'RoomHistoryPruned', throughSeq: 3 });
    live.close();

    const { room } = await server.ok(RoomQuery, { id: roomId }, as(member));
    expect(room).toMatchObject({ lastSeq: 7, prunedThroughSeq: 3, unreadCount: 4 });
    expect(room!.messages.edges.map((e) => e.node.seq)).toEqual([4, 5, 6, 7]);
    expect(room!.messages.edges[1].node.parent).toBeNull();
    expect(await storedFiles()).toEqual([]);
    expect(await db.attachment.count({ where: { id: raw(fileId) } })).toBe(0);

    const [entry] = await audits(org.id);
    expect(entry).toMatchObject({ actorId: null, apiKeyId: null, targetType: 'Org', targetId: raw(org.id), data: { messages: 3, rooms: 1, attachments: 1 } });

    // Nothing more to do: no second entry.
    expect((await runRetentionPass(server.app.services)).messages).toBe(0);
    expect(await audits(org.id)).toHaveLength(1);
  });

  it('keeps messages of orgs without a retention; the server default applies to orgs without their own setting', async () => {
    const forever = await roomWith(3, null, [1, 2, 3]);
    const own = await roomWith(3, 60, [1, 2, 3]);
    await runRetentionPass(server.app.services);
    expect(await seqsOf(forever.roomId, forever.owner)).toEqual([1, 2, 3]);
    expect(await seqsOf(own.roomId, own.owner)).toEqual([1, 2, 3]);
    // A server default of 10 days: the org without a setting loses its 40-day-old messages, the one keeping 60 days does not.
    const services = server.app.services;
    await runRetentionPass({ ...services, config: { ...services.config, retention: { ...services.config.retention, roomMessagesDays: 10 } } });
    expect(await seqsOf(forever.roomId, forever.owner)).toEqual([]);
    expect(await seqsOf(own.roomId, own.owner)).toEqual([1, 2, 3]);
  });

  it('two passes at once (two instances) delete each message once and audit once', async () => {
    const { org, roomId, owner } = await roomWith(6, 30, [1, 2, 3, 4]);
    const passes = await Promise.all([runRetentionPass(server.app.services), runRetentionPass(server.app.services)]);
    expect(passes[0].messages + passes[1].messages).toBe(4);
    expect(await seqsOf(roomId, owner)).toEqual([5, 6]);
    const entries = await audits(org.id);
    expect(entries).toHaveLength(1);
    expect(entries[0].data).toMatchObject({ messages: 4 });
  });
});

describe('resuming below prunedThroughSeq', () => {
  it('delivers RoomHistoryPruned first, then the stored messages after it; a resume above it sees no such event', async () => {
    const { roomId, member } = await roomWith(6, 30, [1, 2, 3]);
    await runRetentionPass(server.app.services);

    const fromStart = subscribe(server.ws(as(member)), Events, { roomId, afterSeq: 0 });
    const seen = await until(fromStart, (e) => e.seq === 6);
    expect(seen.map((e) => e.__typename === 'RoomHistoryPruned' ? `pruned:${e.throughSeq}` : e.seq)).toEqual(['pruned:3', 4, 5, 6]);
    fromStart.close();

    const fromTwo = subscribe(server.ws(as(member)), Events, { roomId, afterSeq: 2 });
    expect((await fromTwo.next()).data!.roomEvents).toEqual({ __typename: 'RoomHistoryPruned', throughSeq: 3 });
    fromTwo.close();

    const fromFour = subscribe(server.ws(as(member)), Events, { roomId, afterSeq: 4 });
    expect(await until(fromFour, (e) => e.seq === 6)).toMatchObject([{ seq: 5 }, { seq: 6 }]);
    fromFour.close();
  });
});

describe('the worker', () => {
  let quick: TestServer;
  beforeAll(async () => {
    // A second instance on the same database (the process has one database client), whose worker runs every 100 ms.
    quick = await startServer({ database: server.database, overrides: { storage: { dir }, retention: { roomMessagesDays: 1, intervalMs: 100 } } });
  });
  afterAll(() => quick.stop());

  it('prunes on its interval with the server default', async () => {
    const { org, owner, members } = await orgWithMembers(quick, 1);
    const roomId = (await quick.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'timer', memberIds: [members[0].id] } }, as(owner))).createRoom.id;
    for (const content of ['a', 'b']) await quick.ok(Send, { input: { roomId, content } }, as(owner));
    const live = subscribe(quick.ws(as(owner)), Events, { roomId, afterSeq: 2 });
    await quick.ok(Send, { input: { roomId, content: 'c' } }, as(owner));
    expect((await live.next()).data!.roomEvents).toMatchObject({ seq: 3 });
    const past = new Date(Date.now() - 2 * DAY);
    await db.room.update({ where: { id: raw(roomId) }, data: { createdAt: past } });
    await db.roomMessage.updateMany({ where: { roomId: raw(roomId), seq: { in: [1, 2] } }, data: { createdAt: past } });
    expect((await live.next(5000)).data!.roomEvents).toEqual({ __typename: 'RoomHistoryPruned', throughSeq: 2 });
    live.close();
  });
});
