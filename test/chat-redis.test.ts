import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { orgWithMembers } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Events = graphql(`
  subscription ChatRedisEvents($threadId: ID!) {
    threadEvents(threadId: $threadId) {
      __typename
      ... on AssistantDelta { messageId delta index }
      ... on AssistantDone { message { content } }
      ... on AssistantFailed { reason }
    }
  }
`);
const Resume = graphql(`
  subscription ChatRedisResume($threadId: ID!, $afterSeq: Int) {
    threadEvents(threadId: $threadId, afterSeq: $afterSeq) { __typename ... on ThreadMessageAdded { message { seq content } } ... on ThreadDeleted { threadId } }
  }
`);
const Append = graphql(`mutation ChatRedisAppend($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { message { seq } } }`);
const DeleteThread = graphql(`mutation ChatRedisDelete($input: DeleteThreadInput!) { deleteThread(input: $input) { deletedId } }`);
const Cancel = graphql(`mutation ChatRedisCancel($input: CancelGenerationInput!) { cancelGeneration(input: $input) { status error } }`);

describe.skipIf(!process.env.TEST_REDIS_URL)('thread chat across two instances (Redis)', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const overrides = { redis: { url: process.env.TEST_REDIS_URL }, providers: { echo: { delayMs: 30 } } };
    a = await startServer({ overrides });
    b = await startServer({ database: a.database, overrides });
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
  });

  it('streams a reply generated on A to a subscriber on B, and B can cancel it', async () => {
    const o = await orgWithMembers(a);
    const thread = await createThread(a, o.owner.token, o.org.id);
    const sub = subscribe(b.ws({ token: o.owner.token }), Events, { threadId: thread.id });
    await sub.expectSilence(200);
    const short = await send(a, { token: o.owner.token }, thread.id, 'across the instances');
    const deltas: string[] = [];
    for (;;) {
      const e = (await sub.next()).data!.threadEvents;
      if (e.__typename === 'AssistantDelta') deltas.push(e.delta);
      if (e.__typename === 'AssistantDone') break;
    }
    expect(deltas.join('')).toBe(short.assistantMessage.content);

    // 2,000 words at 30 ms each: the reply runs for a minute unless cancelled, so a loaded machine
    // cannot finish it before the cancel (published by B over Redis) reaches A.
    const long = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
    const pending = send(a, { token: o.owner.token }, thread.id, long);
    let e;
    do e = (await sub.next()).data!.threadEvents;
    while (e.__typename !== 'AssistantDelta');
    const { cancelGeneration } = await b.ok(Cancel, { input: { messageId: (e as { messageId: string }).messageId } }, { token: o.owner.token });
    expect(cancelGeneration).toEqual({ status: 'FAILED', error: 'Generation cancelled' });
    expect((await pending).assistantMessage.status).toBe('FAILED');
    sub.close();
  });

  it('resumes on B after messages written on A while away, then hears A live, and ThreadDeleted ends it', async () => {
    const o = await orgWithMembers(a);
    const thread = await createThread(a, o.owner.token, o.org.id);
    const auth = { token: o.owner.token };
    const append = async (content: string) => (await a.ok(Append, { input: { threadId: thread.id, role: 'USER', content } }, auth)).appendThreadMessage.message.seq!;
    for (const c of ['one', 'two']) await append(c);
    const away = await Promise.all(['three', 'four', 'five'].map(append));
    expect(away.sort((x, y) => x - y)).toEqual([3, 4, 5]);
    const sub = subscribe(b.ws(auth), Resume, { threadId: thread.id, afterSeq: 2 });
    const seqs: number[] = [];
    while (seqs.length < 3) {
      const e = (await sub.next(15_000)).data!.threadEvents;
      if (e.__typename === 'ThreadMessageAdded') seqs.push(e.message.seq!);
    }
    expect(seqs).toEqual([3, 4, 5]);
    const six = await append('six');
    expect((await sub.next(15_000)).data!.threadEvents).toMatchObject({ __typename: 'ThreadMessageAdded', message: { seq: six, content: 'six' } });
    await a.ok(DeleteThread, { input: { threadId: thread.id } }, auth);
    expect((await sub.next(15_000)).data!.threadEvents).toEqual({ __typename: 'ThreadDeleted', threadId: thread.id });
    expect(await sub.ended).toBeUndefined();
  });
});
