import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { insertMessage } from '../src/modules/threads/thread-messages.service.ts';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { subscribe, type LiveSubscription } from './helpers/client.ts';
import { addMember, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/**
 * threadEvents resumes like roomEvents: with `afterSeq`, the stored messages after it first, then live events,
 * no gap and no duplicate; it carries ThreadUpdated, and ends after ThreadDeleted.
 */
const Events = graphql(`
  subscription ThreadEventsResume($threadId: ID!, $afterSeq: Int) {
    threadEvents(threadId: $threadId, afterSeq: $afterSeq) {
      __typename
      ... on ThreadMessageAdded { message { id seq role status content } }
      ... on ThreadUpdated { thread { id title status messageCount } }
      ... on ThreadDeleted { threadId }
    }
  }
`);
const Append = graphql(`
  mutation ThreadEventsAppend($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { message { id seq } } }
`);
const UpdateThread = graphql(`mutation ThreadEventsUpdate($input: UpdateThreadInput!) { updateThread(input: $input) { id title } }`);
const DeleteThread = graphql(`mutation ThreadEventsDelete($input: DeleteThreadInput!) { deleteThread(input: $input) { deletedId } }`);
const CreateProject = graphql(`mutation ThreadEventsCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const DeleteProject = graphql(`mutation ThreadEventsDeleteProject($input: DeleteProjectInput!) { deleteProject(input: $input) { deletedId } }`);
const Messages = graphql(`query ThreadEventsMessages($id: ID!) { thread(id: $id) { messageCount messages(first: 2) { totalCount edges { node { id seq } } } } }`);

// The union's members, read loosely (each test checks the shape it expects).
type Event = any;

let server: TestServer;
let owner: TestUser;
let orgId: string;
beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server);
  owner = o.owner;
  orgId = o.org.id;
});

const auth = () => ({ token: owner.token });
const append = async (threadId: string, content: string) =>
  (await server.ok(Append, { input: { threadId, role: 'USER', content } }, auth())).appendThreadMessage.message;

/** The next events up to and including the first that `last` accepts (deltas and completions skipped unless asked). */
async function until(sub: LiveSubscription<any>, last: (e: Event) => boolean, keep = (e: Event) => e.__typename !== 'AssistantDelta' && e.__typename !== 'AssistantDone') {
  const got: Event[] = [];
  for (;;) {
    const e = (await sub.next()).data!.threadEvents as Event;
    if (keep(e)) got.push(e);
    if (last(e)) return got;
  }
}
const seqs = (events: Event[]) => events.filter((e) => e.__typename === 'ThreadMessageAdded').map((e) => e.message.seq);

/** Subscribes without a cursor, and waits until the stream is live (a message sent meanwhile is heard). */
async function live(threadId: string, who = owner) {
  const sub = subscribe(server.ws({ token: who.token }), Events, { threadId });
  for (let i = 0; ; i++) {
    const m = await append(threadId, `ping ${i}`);
    const e = await sub.next(1000).catch((err) => (i < 10 ? undefined : Promise.reject(err)));
    if (!e) continue;
    // Pings sent before the subscription was live are not replayed: skip to the one that was heard last.
    if ((e.data!.threadEvents as Event).message.id !== m.id) await until(sub, (x) => x.__typename === 'ThreadMessageAdded' && x.message.id === m.id);
    return sub;
  }
}

describe('threadEvents(afterSeq)', () => {
  it('numbers messages 1, 2, 3… per thread, across sends, appends and first messages', async () => {
    const t = await createThread(server, owner.token, orgId);
    const a = await append(t.id, 'one');
    const r = await send(server, auth(), t.id, 'two');
    const b = await append(t.id, 'three');
    expect([a.seq, r.userMessage.seq, r.assistantMessage.seq, b.seq]).toEqual([1, 2, 3, 4]);
    const { thread } = await server.ok(Messages, { id: t.id }, auth());
    expect(thread!.messageCount).toBe(4);
    expect(thread!.messages.totalCount).toBe(4);
    expect(thread!.messages.edges.map((e) => e.node.seq)).toEqual([1, 2]);
  });

  it('after a disconnect, gets exactly the messages missed, then live ones', async () => {
    const t = await createThread(server, owner.token, orgId);
    const first = live(t.id);
    const sub = await first;
    const before = await send(server, auth(), t.id, 'before the break');
    const seen = await until(sub, (e) => e.__typename === 'ThreadMessageAdded' && e.message.id === before.assistantMessage.id);
    const lastSeen = seqs(seen).at(-1)!;
    expect(lastSeen).toBe(before.assistantMessage.seq);
    sub.close();

    // While away: an appended message and a whole turn.
    const away = [await append(t.id, 'while away')];
    const turn = await send(server, auth(), t.id, 'also while away');
    away.push(turn.userMessage, turn.assistantMessage);

    const resumed = subscribe(server.ws(auth()), Events, { threadId: t.id, afterSeq: lastSeen });
    const replayed = await until(resumed, (e) => e.__typename === 'ThreadMessageAdded' && e.message.id === turn.assistantMessage.id);
    expect(replayed.map((e) => [e.message.id, e.message.seq])).toEqual(away.map((m) => [m.id, m.seq]));
    // The reply is replayed as stored: complete.
    expect(replayed.at(-1)!.message).toMatchObject({ role: 'ASSISTANT', status: 'COMPLETE', content: expect.stringContaining('also while away') });

    const now = await append(t.id, 'live again');
    const after = await until(resumed, (e) => e.__typename === 'ThreadMessageAdded' && e.message.id === now.id);
    expect(seqs(after)).toEqual([now.seq]);
    await resumed.expectSilence(100);
  });

  it('afterSeq 0 replays the whole thread; the last seq replays nothing', async () => {
    const t = await createThread(server, owner.token, orgId);
    const stored = [await append(t.id, 'a'), await append(t.id, 'b'), await append(t.id, 'c')];
    const all = subscribe(server.ws(auth()), Events, { threadId: t.id, afterSeq: 0 });
    expect(seqs(await until(all, (e) => e.message?.seq === 3))).toEqual([1, 2, 3]);
    const none = subscribe(server.ws(auth()), Events, { threadId: t.id, afterSeq: 3 });
    await none.expectSilence(200);
    const d = await append(t.id, 'd');
    expect(seqs(await until(none, (e) => e.message?.id === d.id))).toEqual([4]);
    expect(seqs(await until(all, (e) => e.message?.id === d.id))).toEqual([4]);
    expect(stored.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('concurrent writers: every seq once, in order', async () => {
    const t = await createThread(server, owner.token, orgId);
    const sub = subscribe(server.ws(auth()), Events, { threadId: t.id, afterSeq: 0 });
    const written = await Promise.all(Array.from({ length: 12 }, (_, i) => append(t.id, `m${i}`)));
    expect(written.map((m) => m.seq!).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(seqs(await until(sub, (e) => e.message?.seq === 12))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await sub.expectSilence(100);
  });

  it('refills from the database a message whose event was lost (a live seq that jumps ahead)', async () => {
    const t = await createThread(server, owner.token, orgId);
    const sub = await live(t.id);
    const rawId = (gid: string) => Buffer.from(gid, 'base64').toString().split(':')[1];
    const thread = await db.thread.findUniqueOrThrow({ where: { id: rawId(t.id) } });
    // Two messages stored, only the second announced (the first's event lost on the way, as in Redis trouble).
    const data = { role: 'USER' as const, content: 'stored quietly', metadata: null, clientMsgId: null };
    const [lost, heard] = await db.$transaction(async (tx) => [
      await insertMessage(tx, { threadId: thread.id, sessionId: thread.currentSessionId!, authorId: rawId(owner.id), data }),
      await insertMessage(tx, { threadId: thread.id, sessionId: thread.currentSessionId!, authorId: rawId(owner.id), data: { ...data, content: 'announced' } }),
    ]);
    server.app.services.pubsub.publish('thread:event', thread.id, { type: 'ThreadMessageAdded', messageId: heard.id, seq: heard.seq });
    const got = await until(sub, (e) => e.__typename === 'ThreadMessageAdded' && e.message.seq === heard.seq);
    expect(got.map((e) => [e.message.seq, e.message.content])).toEqual([
      [lost.seq, 'stored quietly'],
      [heard.seq, 'announced'],
    ]);
    // The lost event arriving late is not a duplicate.
    server.app.services.pubsub.publish('thread:event', thread.id, { type: 'ThreadMessageAdded', messageId: lost.id, seq: lost.seq });
    await sub.expectSilence(200);
  });

  it('refuses a negative afterSeq, another type of ID, outsiders and members without access, with any cursor', async () => {
    const t = await createThread(server, owner.token, orgId);
    await append(t.id, 'secret');
    const rejection = (who: { token?: string }, vars: { threadId: string; afterSeq?: number }) => subscribe(server.ws(who), Events, vars).rejection();
    expect(await rejection(auth(), { threadId: t.id, afterSeq: -1 })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(await rejection(auth(), { threadId: orgId, afterSeq: 0 })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const outsider = await registerUser(server);
    const member = await registerUser(server);
    await addMember(server, orgId, owner, member);
    for (const who of [outsider, member]) {
      for (const afterSeq of [undefined, 0, 1, 1000]) {
        const sub = subscribe(server.ws({ token: who.token }), Events, { threadId: t.id, afterSeq });
        expect(await sub.rejection()).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
        expect(sub.received.filter((r) => r.data)).toEqual([]);
      }
    }
  });
});

describe('ThreadUpdated and ThreadDeleted', () => {
  it('announces a change to the thread with the thread as it is now', async () => {
    const t = await createThread(server, owner.token, orgId);
    const sub = await live(t.id);
    await server.ok(UpdateThread, { input: { threadId: t.id, title: 'Renamed', status: 'ARCHIVED' } }, auth());
    const [e] = await until(sub, (x) => x.__typename === 'ThreadUpdated');
    expect(e.thread).toMatchObject({ id: t.id, title: 'Renamed', status: 'ARCHIVED' });
    // A refused change announces nothing.
    expect(await server.errorCode(UpdateThread, { input: { threadId: t.id, title: '' } }, auth())).toBe('BAD_USER_INPUT');
    await sub.expectSilence(100);
  });

  it('ends the subscription after ThreadDeleted, for a deleted thread and for the threads of a deleted project', async () => {
    const t = await createThread(server, owner.token, orgId);
    const sub = await live(t.id);
    const { deleteThread } = await server.ok(DeleteThread, { input: { threadId: t.id } }, auth());
    expect(deleteThread.deletedId).toBe(t.id);
    expect((await sub.next()).data!.threadEvents).toEqual({ __typename: 'ThreadDeleted', threadId: t.id });
    expect(await sub.ended).toBeUndefined();

    const { createProject: p } = await server.ok(CreateProject, { input: { orgId, name: 'goes' } }, auth());
    const inProject = await createThread(server, owner.token, orgId, 'in project', p.id);
    const sub2 = await live(inProject.id);
    expect((await server.ok(DeleteProject, { input: { projectId: p.id } }, auth())).deleteProject.deletedId).toBe(p.id);
    expect((await sub2.next()).data!.threadEvents).toEqual({ __typename: 'ThreadDeleted', threadId: inProject.id });
    expect(await sub2.ended).toBeUndefined();
  });

  it('a subscription to a thread deleted meanwhile is refused', async () => {
    const t = await createThread(server, owner.token, orgId);
    await server.ok(DeleteThread, { input: { threadId: t.id } }, auth());
    expect(await subscribe(server.ws(auth()), Events, { threadId: t.id, afterSeq: 0 }).rejection()).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });
});
