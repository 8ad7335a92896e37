import { decodeGlobalID } from '@pothos/plugin-relay';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const CreateRoom = graphql(`mutation ReportsCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Send = graphql(`mutation ReportsSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`);
const Delete = graphql(`mutation ReportsDelete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }`);
const ReportDoc = graphql(`
  mutation ReportsReport($input: ReportMessageInput!) {
    reportMessage(input: $input) {
      id content reason status createdAt resolvedAt note
      author { id } filedBy { id } resolvedBy { id } room { id } message { id content }
    }
  }
`);
const Resolve = graphql(`
  mutation ReportsResolve($input: ResolveReportInput!) {
    resolveReport(input: $input) { id status note resolvedAt resolvedBy { id } message { id } }
  }
`);
const Queue = graphql(`
  query ReportsQueue($orgId: ID!, $status: ReportStatus) {
    org(id: $orgId) {
      reports(first: 50, status: $status) { edges { node { id status content reason room { id } message { id } author { id } filedBy { id } } } }
    }
  }
`);
const ReportNode = graphql(`query ReportsNode($id: ID!) { node(id: $id) { id ... on Report { status reason } } }`);
const RoomQuery = graphql(`query ReportsRoom($id: ID!) { room(id: $id) { id bans(first: 10) { edges { node { user { id } reason expiresAt } } } } }`);
const Notifications = graphql(`query ReportsNotifications { me { notifications(first: 20) { edges { node { topic payload } } } } }`);
const Events = graphql(`
  subscription ReportsEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq }
      ... on RoomMessageDeleted { message { id deleted } }
      ... on RoomMemberLeft { userId reason }
    }
  }
`);
const CreateWebhook = graphql(`mutation ReportsWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`);

let server: TestServer;
let receiver: WebhookReceiver;
let orgId: string;
/** Org OWNER, and an org ADMIN who is in none of the rooms. */
let owner: TestUser, admin: TestUser;
/** Org members: the author of reported messages and two who report them. */
let author: TestUser, reporter: TestUser, second: TestUser;
/** An org member outside the room, and someone in another org. */
let outsider: TestUser, stranger: TestUser;
let roomId: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  server = await startServer({ overrides: { webhooks: { allowPrivate: true, pollIntervalMs: 100, backoffBaseMs: 100 } } });
  const o = await orgWithMembers(server, 4);
  [owner, orgId] = [o.owner, o.org.id];
  [author, reporter, second, outsider] = o.members;
  admin = await registerUser(server, { name: 'Admin' });
  await addMember(server, orgId, owner, admin, 'ADMIN');
  stranger = await registerUser(server, { name: 'Stranger' });
  await createOrg(server, stranger, 'Elsewhere');
  roomId = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'reported', memberIds: [reporter.id, second.id] } }, as(author))).createRoom.id;
});

const as = (u: TestUser) => ({ token: u.token });
const raw = (gid: string) => decodeGlobalID(gid).id;
const say = async (u: TestUser, content = 'something rude', room = roomId) => (await server.ok(Send, { input: { roomId: room, content } }, as(u))).sendMessage;
const report = (u: TestUser, messageId: string, reason = 'rude') => server.gql(ReportDoc, { input: { messageId, reason } }, as(u));
const resolve = (u: TestUser, reportId: string, action: 'DISMISS' | 'DELETE_MESSAGE' | 'BAN_AUTHOR', extra: object = {}) =>
  server.gql(Resolve, { input: { reportId, action, ...extra } }, as(u));
async function refusal(res: Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[] }>) {
  const { errors } = await res;
  expect(errors?.length, JSON.stringify(errors)).toBe(1);
  return [errors![0].extensions?.code, errors![0].extensions?.reason];
}

describe('reportMessage', () => {
  it("puts the message in the org admins' queue, notifies them, and answers a second report with the first", async () => {
    const m = await say(author, 'you are all idiots');
    const { data, errors } = await report(reporter, m.id, '  insulting  ');
    expect(errors).toBeUndefined();
    const r = data!.reportMessage;
    expect(r).toMatchObject({
      content: 'you are all idiots', reason: 'insulting', status: 'OPEN', resolvedAt: null, note: null,
      author: { id: author.id }, filedBy: { id: reporter.id }, resolvedBy: null, room: { id: roomId }, message: { id: m.id, content: 'you are all idiots' },
    });
    expect((await server.ok(ReportDoc, { input: { messageId: m.id, reason: 'again' } }, as(reporter))).reportMessage).toMatchObject({ id: r.id, reason: 'insulting' });

    // The admins' queue: the room is not shown to an admin outside it; the copied content is.
    const queue = (await server.ok(Queue, { orgId, status: 'OPEN' }, as(admin))).org!.reports.edges.map((e) => e.node);
    expect(queue.find((q) => q.id === r.id)).toEqual({ id: r.id, status: 'OPEN', content: 'you are all idiots', reason: 'insulting', room: null, message: null, author: { id: author.id }, filedBy: { id: reporter.id } });
    // The reporter sees their own report; another member does not, nor the queue.
    expect((await server.ok(ReportNode, { id: r.id }, as(reporter))).node).toMatchObject({ id: r.id, status: 'OPEN' });
    const hidden = await server.gql(ReportNode, { id: r.id }, as(second));
    expect([hidden.data?.node, hidden.errors?.[0].extensions?.code]).toEqual([null, 'NOT_FOUND']);
    expect(await refusal(server.gql(Queue, { orgId }, as(second)))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(server.gql(Queue, { orgId }, as(stranger)))).toEqual(['NOT_FOUND', undefined]);

    for (const u of [owner, admin]) {
      const notes = (await server.ok(Notifications, {}, as(u))).me!.notifications.edges.map((e) => e.node);
      expect(notes).toContainEqual({ topic: 'report', payload: { reportId: r.id, roomId, messageId: m.id } });
    }
    expect((await server.ok(Notifications, {}, as(reporter))).me!.notifications.edges).toEqual([]);
    const [audit] = await db.auditEntry.findMany({ where: { action: 'report.create', targetId: raw(r.id) } });
    expect(audit).toMatchObject({ actorId: raw(reporter.id), targetType: 'Report', data: { roomId: raw(roomId), messageId: raw(m.id) } });
  });

  it('refuses your own message, a deleted one, a bad reason, and people who cannot read it', async () => {
    const m = await say(author);
    expect(await refusal(report(author, m.id))).toEqual(['BAD_USER_INPUT', undefined]);
    expect(await refusal(report(reporter, m.id, '   '))).toEqual(['BAD_USER_INPUT', undefined]);
    expect(await refusal(report(reporter, m.id, 'x'.repeat(1001)))).toEqual(['BAD_USER_INPUT', undefined]);
    expect(await refusal(report(outsider, m.id))).toEqual(['NOT_FOUND', undefined]);
    expect(await refusal(report(stranger, m.id))).toEqual(['NOT_FOUND', undefined]);
    // An org admin outside the room cannot read it either.
    expect(await refusal(report(admin, m.id))).toEqual(['NOT_FOUND', undefined]);
    await server.ok(Delete, { input: { messageId: m.id } }, as(author));
    expect(await refusal(report(reporter, m.id))).toEqual(['GONE', undefined]);
    expect(await db.report.count({ where: { messageId: raw(m.id) } })).toBe(0);
  });

  it('allows 20 reports a minute per person', async () => {
    const room = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'flood', memberIds: [outsider.id] } }, as(author))).createRoom.id;
    const messages = [];
    for (let i = 0; i < 21; i++) messages.push(await say(author, `m${i}`, room));
    const results = await Promise.all(messages.map((m) => report(outsider, m.id)));
    expect(results.filter((r) => !r.errors)).toHaveLength(20);
    expect(results.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code)).toEqual(['RATE_LIMITED']);
  });
});

describe('resolveReport', () => {
  it('dismisses once: a second resolution is a CONFLICT; only org admins resolve', async () => {
    const m = await say(author);
    const r = (await server.ok(ReportDoc, { input: { messageId: m.id, reason: 'meh' } }, as(reporter))).reportMessage;
    expect(await refusal(resolve(reporter, r.id, 'DISMISS'))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(resolve(author, r.id, 'DISMISS'))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(resolve(stranger, r.id, 'DISMISS'))).toEqual(['NOT_FOUND', undefined]);
    expect(await refusal(resolve(admin, r.id, 'DISMISS', { banExpiresAt: new Date(Date.now() + 60_000).toISOString() }))).toEqual(['BAD_USER_INPUT', undefined]);
    const { data } = await resolve(admin, r.id, 'DISMISS', { note: 'fine' });
    expect(data!.resolveReport).toMatchObject({ id: r.id, status: 'DISMISSED', note: 'fine', resolvedBy: { id: admin.id }, message: null });
    expect(data!.resolveReport.resolvedAt).toEqual(expect.any(String));
    expect(await refusal(resolve(owner, r.id, 'DELETE_MESSAGE'))).toEqual(['CONFLICT', undefined]);
    // The message is untouched.
    expect((await db.roomMessage.findUniqueOrThrow({ where: { id: raw(m.id) } })).deletedAt).toBeNull();
    expect((await db.auditEntry.findMany({ where: { action: 'report.resolve', targetId: raw(r.id) } })).map((a) => a.data)).toEqual([
      { action: 'DISMISS', status: 'DISMISSED', note: 'fine', reportIds: [raw(r.id)] },
    ]);
  });

  it('two resolutions at once: exactly one wins', async () => {
    const m = await say(author);
    const r = (await server.ok(ReportDoc, { input: { messageId: m.id, reason: 'race' } }, as(reporter))).reportMessage;
    const results = await Promise.all([resolve(admin, r.id, 'DISMISS'), resolve(owner, r.id, 'DELETE_MESSAGE')]);
    const codes = results.map((res) => res.errors?.[0].extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['CONFLICT', 'OK']);
    const winner = results.find((res) => !res.errors)!.data!.resolveReport;
    const stored = await db.report.findUniqueOrThrow({ where: { id: raw(r.id) } });
    expect(stored.status).toBe(winner.status);
    expect((await db.roomMessage.findUniqueOrThrow({ where: { id: raw(m.id) } })).deletedAt !== null).toBe(winner.status === 'MESSAGE_DELETED');
    expect(await db.auditEntry.count({ where: { action: 'report.resolve', targetId: raw(r.id) } })).toBe(1);
  });

  it('DELETE_MESSAGE deletes it as deleteMessage does and resolves every open report of it', async () => {
    const m = await say(author, 'delete me');
    const sub = subscribe(server.ws(as(second)), Events, { roomId, afterSeq: m.seq - 1 });
    expect((await sub.next()).data?.roomEvents).toEqual({ __typename: 'RoomMessageAdded', seq: m.seq });
    const a = (await server.ok(ReportDoc, { input: { messageId: m.id, reason: 'one' } }, as(reporter))).reportMessage;
    const b = (await server.ok(ReportDoc, { input: { messageId: m.id, reason: 'two' } }, as(second))).reportMessage;
    const { data } = await resolve(admin, a.id, 'DELETE_MESSAGE');
    expect(data!.resolveReport.status).toBe('MESSAGE_DELETED');
    expect((await sub.next()).data?.roomEvents).toEqual({ __typename: 'RoomMessageDeleted', message: { id: m.id, deleted: true } });
    sub.close();
    expect((await server.ok(ReportNode, { id: b.id }, as(second))).node).toMatchObject({ status: 'MESSAGE_DELETED' });
    expect(await refusal(resolve(admin, b.id, 'DISMISS'))).toEqual(['CONFLICT', undefined]);
    expect((await db.auditEntry.findMany({ where: { action: 'room.message.delete', targetId: raw(m.id) } })).map((e) => e.actorId)).toEqual([raw(admin.id)]);
    // The report keeps what was said.
    const queue = (await server.ok(Queue, { orgId, status: 'MESSAGE_DELETED' }, as(owner))).org!.reports.edges.map((e) => e.node);
    expect(queue.filter((q) => q.id === a.id || q.id === b.id).map((q) => [q.content, q.message])).toEqual([['delete me', null], ['delete me', null]]);
  });

  it('BAN_AUTHOR bans the author from the room and deletes the message; not an author who ranks as high', async () => {
    const room = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'bans', memberIds: [reporter.id, second.id, owner.id] } }, as(author))).createRoom.id;
    const m = await say(author, 'banworthy', room);
    const sub = subscribe(server.ws(as(author)), Events, { roomId: room, afterSeq: m.seq - 1 });
    expect((await sub.next()).data?.roomEvents).toEqual({ __typename: 'RoomMessageAdded', seq: m.seq });
    const r = (await server.ok(ReportDoc, { input: { messageId: m.id, reason: 'ban them' } }, as(reporter))).reportMessage;
    const banExpiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const { data, errors } = await resolve(admin, r.id, 'BAN_AUTHOR', { note: 'enough', banExpiresAt });
    expect(errors).toBeUndefined();
    expect(data!.resolveReport.status).toBe('USER_BANNED');
    // Their feed hears the deletion and their own removal, then ends.
    const heard = [(await sub.next()).data?.roomEvents, (await sub.next()).data?.roomEvents];
    expect(heard).toEqual([{ __typename: 'RoomMessageDeleted', message: { id: m.id, deleted: true } }, { __typename: 'RoomMemberLeft', userId: author.id, reason: 'BANNED' }]);
    await sub.ended;
    expect(await refusal(server.gql(RoomQuery, { id: room }, as(author)))).toEqual(['NOT_FOUND', undefined]);
    const actions = await db.auditEntry.findMany({ where: { orgId: raw(orgId), actorId: raw(admin.id), createdAt: { gte: new Date(Date.now() - 60_000) } }, orderBy: { createdAt: 'asc' } });
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['report.resolve', 'room.message.delete', 'room.member.ban']));
    const ban = await db.roomBan.findUniqueOrThrow({ where: { roomId_userId: { roomId: raw(room), userId: raw(author.id) } } });
    expect([ban.reason, ban.expiresAt?.toISOString(), ban.createdById]).toEqual(['enough', banExpiresAt, raw(admin.id)]);

    // An ADMIN's message: another ADMIN cannot ban its author this way; the OWNER can.
    const m2 = await say(second, 'by second', room);
    const other = await registerUser(server, { name: 'Other admin' });
    await addMember(server, orgId, owner, other, 'ADMIN');
    const r2 = (await server.ok(ReportDoc, { input: { messageId: m2.id, reason: 'x' } }, as(reporter))).reportMessage;
    await db.membership.update({ where: { orgId_userId: { orgId: raw(orgId), userId: raw(second.id) } }, data: { role: 'ADMIN' } });
    expect(await refusal(resolve(other, r2.id, 'BAN_AUTHOR'))).toEqual(['FORBIDDEN', 'RANK']);
    expect(await db.report.findUniqueOrThrow({ where: { id: raw(r2.id) } })).toMatchObject({ status: 'OPEN' });
    expect((await resolve(owner, r2.id, 'BAN_AUTHOR')).errors).toBeUndefined();
    await db.membership.update({ where: { orgId_userId: { orgId: raw(orgId), userId: raw(second.id) } }, data: { role: 'MEMBER' } });
  });
});

describe('webhooks', () => {
  it('tells the org of reports made and resolved', async () => {
    const path = '/report-hooks';
    await server.ok(CreateWebhook, { input: { orgId, url: `${receiver.url}${path}`, events: ['MESSAGE_REPORTED', 'REPORT_RESOLVED'] } }, as(owner));
    const m = await say(author, 'hooked');
    const r = (await server.ok(ReportDoc, { input: { messageId: m.id, reason: 'hook' } }, as(reporter))).reportMessage;
    await server.ok(Resolve, { input: { reportId: r.id, action: 'DISMISS', note: 'ok' } }, as(admin));
    const hooks = await receiver.waitFor(2, (h) => h.path === path);
    const [made, done] = ['MESSAGE_REPORTED', 'REPORT_RESOLVED'].map((t) => hooks.find((h) => h.body.type === t)!.body.data);
    expect(made).toEqual({ orgId, reportId: r.id, roomId, messageId: m.id, authorId: author.id, reporterId: reporter.id, reason: 'hook', createdAt: r.createdAt });
    expect(done).toEqual({
      orgId, reportId: r.id, reportIds: [r.id], roomId, messageId: m.id, action: 'DISMISS', status: 'DISMISSED', resolvedById: admin.id, note: 'ok', resolvedAt: expect.any(String),
    });
  });
});
