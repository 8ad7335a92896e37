import { decodeGlobalID } from '@pothos/plugin-relay';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { schema } from '../src/modules/index.ts';
import { graphql } from './gql/index.ts';
import { addMember, createApiKey, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation AuditCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation AuditSend($input: SendMessageInput!) { sendMessage(input: $input) { id } }
`);
const Pin = graphql(`
  mutation AuditPin($input: PinMessageInput!) { pinMessage(input: $input) { id } }
`);
const Archive = graphql(`
  mutation AuditArchive($input: ArchiveRoomInput!) { archiveRoom(input: $input) { id } }
`);
const Unarchive = graphql(`
  mutation AuditUnarchive($input: UnarchiveRoomInput!) { unarchiveRoom(input: $input) { id } }
`);
const Log = graphql(`
  query AuditLog($id: ID!, $first: Int, $after: String, $action: String, $actorId: ID, $targetId: ID) {
    org(id: $id) {
      auditLog(first: $first, after: $after, action: $action, actorId: $actorId, targetId: $targetId) {
        edges { cursor node { id action actor { id name } apiKeyId targetType targetId data createdAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);
const Node = graphql(`
  query AuditNode($id: ID!) { node(id: $id) { id ... on AuditEntry { action targetId } } }
`);

let server: TestServer;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let orgId: string;
let roomId: string;
let messageId: string;

beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 1);
  owner = o.owner;
  [member] = o.members;
  orgId = o.org.id;
  admin = await registerUser(server, { name: 'Admin' });
  await addMember(server, orgId, owner, admin, 'ADMIN');
  // The org's admin made the room (its OWNER): they archive and unarchive it.
  roomId = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'audited', memberIds: [owner.id, member.id] } }, { token: admin.token })).createRoom.id;
  messageId = (await server.ok(Send, { input: { roomId, content: 'hello' } }, { token: member.token })).sendMessage.id;
  await server.ok(Archive, { input: { roomId } }, { token: admin.token });
  await server.ok(Unarchive, { input: { roomId } }, { token: admin.token });
  // The owner, made a MODERATOR of the room (setRoomMemberRole's effect), pins.
  await db.roomMember.update({ where: { roomId_userId: { roomId: raw(roomId), userId: raw(owner.id) } }, data: { role: 'MODERATOR' } });
  await server.ok(Pin, { input: { messageId } }, { token: owner.token });
});

const raw = (id: string) => String(decodeGlobalID(id).id);

const log = async (who: TestUser, vars: { first?: number; after?: string; action?: string; actorId?: string; targetId?: string } = {}) =>
  (await server.ok(Log, { id: orgId, first: 10, ...vars }, { token: who.token })).org!.auditLog;
const actions = (l: Awaited<ReturnType<typeof log>>) => l.edges.map((e) => e.node.action);

describe('Org.auditLog', () => {
  it('lists who did what to what, newest first, to the org\'s OWNERs and ADMINs', async () => {
    for (const who of [owner, admin]) {
      const l = await log(who);
      expect(actions(l)).toEqual(['room.message.pin', 'room.unarchive', 'room.archive']);
      expect(l.edges[0].node).toMatchObject({ actor: { id: owner.id, name: owner.name }, apiKeyId: null, targetType: 'RoomMessage', targetId: messageId });
      expect(l.edges[2].node).toMatchObject({ actor: { id: admin.id }, targetType: 'Room', targetId: roomId, data: null });
      const times = l.edges.map((e) => Date.parse(e.node.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    }
  });

  it('narrows by action, actor and target, and pages', async () => {
    expect(actions(await log(owner, { action: 'room.archive' }))).toEqual(['room.archive']);
    expect(actions(await log(owner, { actorId: admin.id }))).toEqual(['room.unarchive', 'room.archive']);
    expect(actions(await log(owner, { actorId: member.id }))).toEqual([]);
    expect(actions(await log(owner, { targetId: roomId }))).toEqual(['room.unarchive', 'room.archive']);
    expect(actions(await log(owner, { targetId: messageId, actorId: owner.id }))).toEqual(['room.message.pin']);
    expect(actions(await log(owner, { action: 'room.delete' }))).toEqual([]);

    const page1 = await log(owner, { first: 2 });
    expect(actions(page1)).toEqual(['room.message.pin', 'room.unarchive']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await log(owner, { first: 2, after: page1.pageInfo.endCursor! });
    expect(actions(page2)).toEqual(['room.archive']);
    expect(page2.pageInfo.hasNextPage).toBe(false);

    // A malformed filter is BAD_USER_INPUT.
    expect(await server.errorCode(Log, { id: orgId, actorId: roomId }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Log, { id: orgId, targetId: 'not an id' }, { token: owner.token })).toBe('BAD_USER_INPUT');
  });

  it('is FORBIDDEN to members and API keys, and the org NOT_FOUND to outsiders', async () => {
    const res = await server.gql(Log, { id: orgId, first: 10 }, { token: member.token });
    expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['org.auditLog', 'FORBIDDEN']]);
    const key = await createApiKey(server, owner, orgId, ['READ', 'WRITE']);
    const byKey = await server.gql(Log, { id: orgId, first: 10 }, { apiKey: key.key });
    expect(byKey.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['org.auditLog', 'FORBIDDEN']]);
    const stranger = await registerUser(server);
    await createOrg(server, stranger);
    expect(await server.errorCode(Log, { id: orgId }, { token: stranger.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Log, { id: orgId })).toBe('UNAUTHENTICATED');
  });

  it('node(id) shows an entry to the org\'s OWNERs and ADMINs only', async () => {
    const [entry] = (await log(owner, { action: 'room.archive' })).edges;
    expect((await server.ok(Node, { id: entry.node.id }, { token: admin.token })).node).toEqual({ id: entry.node.id, action: 'room.archive', targetId: roomId });
    const stranger = await registerUser(server);
    await createOrg(server, stranger);
    for (const who of [member, stranger]) {
      const res = await server.gql(Node, { id: entry.node.id }, { token: who.token });
      expect(res.data?.node ?? null).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    }
  });

  it('is append-only: no mutation changes entries, and the database refuses an UPDATE', async () => {
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    expect(mutations.filter((m) => /audit/i.test(m))).toEqual([]);
    const [entry] = (await log(owner, { action: 'room.archive' })).edges;
    const id = raw(entry.node.id);
    await expect(db.$executeRawUnsafe(`UPDATE "AuditEntry" SET "action" = 'room.tampered' WHERE "id" = '${id}'`)).rejects.toThrow();
    await expect(db.auditEntry.update({ where: { id }, data: { action: 'room.tampered' } })).rejects.toThrow();
    expect(actions(await log(owner, { action: 'room.archive' }))).toEqual(['room.archive']);
    expect(await db.auditEntry.count({ where: { action: 'room.tampered' } })).toBe(0);
  });
});
