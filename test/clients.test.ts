import { ApolloClient, HttpLink, InMemoryCache, split, type TypedDocumentNode } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { Client as UrqlClient, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { graphql } from './gql/index.ts';
import { orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { leftovers } from './helpers/leftovers.ts';
import { settle } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation ClientsCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id name } }
`);
const RoomMessages = graphql(`
  query ClientsRoom($id: ID!) { room(id: $id) { id name lastSeq messages(last: 20) { edges { node { id seq content } } } } }
`);
const Send = graphql(`
  mutation ClientsSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq content } }
`);
const Edit = graphql(`
  mutation ClientsEdit($input: EditMessageInput!) { editMessage(input: $input) { id content } }
`);
const Events = graphql(`
  subscription ClientsRoomEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq message { id seq content } }
      ... on RoomMessageEdited { seq message { id content } }
    }
  }
`);
const CreateThread = graphql(`
  mutation ClientsCreateThread($input: CreateThreadInput!) { createThread(input: $input) { id } }
`);
const ThreadEvents = graphql(`
  subscription ClientsThreadEvents($threadId: ID!) {
    threadEvents(threadId: $threadId) { __typename ... on AssistantDelta { messageId delta index } ... on AssistantDone { message { id content } } }
  }
`);
const SendThread = graphql(`
  mutation ClientsSendThread($input: SendThreadMessageInput!) { sendThreadMessage(input: $input) { assistantMessage { id content } } }
`);
const OpenPaid = graphql(`
  mutation ClientsOpenPaid($input: OpenPaidSessionInput!) { openPaidSession(input: $input) { session { id state } invoice { id paymentHash } } }
`);
const SessionEvents = graphql(`
  subscription ClientsSessionEvents($id: ID!) { sessionEvents(sessionId: $id) { __typename ... on SessionStateChanged { state balanceSats } } }
`);

/** test/gql emits documents as strings; Apollo wants parsed ones (types kept). */
const doc = <R, V>(d: { toString(): string; __apiType?: (v: V) => R }) => parse(String(d)) as unknown as TypedDocumentNode<R, V & Record<string, unknown>>;

let server: TestServer;
let owner: TestUser;
let member: TestUser;
let orgId: string;
beforeAll(async () => {
  server = await startServer({ overrides: { providers: { echo: { delayMs: 25 } } } });
  const o = await orgWithMembers(server, 1);
  [owner, member, orgId] = [o.owner, o.members[0], o.org.id];
});

/** Resolves with the first `n` events of a subscription observable (Apollo or urql). */
function take<T>(subscribe: (next: (v: T) => void) => { unsubscribe(): void }, n: number, until?: (v: T) => boolean) {
  return new Promise<T[]>((resolve) => {
    const got: T[] = [];
    const sub = subscribe((v) => {
      got.push(v);
      if (got.length >= n || until?.(v)) {
        setTimeout(() => sub.unsubscribe());
        resolve(got);
      }
    });
  });
}

describe('Apollo Client (HttpLink + GraphQLWsLink split, InMemoryCache)', () => {
  let client: ApolloClient;
  const warnings: string[] = [];
  beforeAll(() => {
    for (const level of ['warn', 'error'] as const) vi.spyOn(console, level).mockImplementation((...a: unknown[]) => void warnings.push(a.map(String).join(' ')));
    const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${owner.token}` } });
    leftovers.push(() => ws.dispose() as Promise<void>);
    const link = split(
      ({ query }) => {
        const d = getMainDefinition(query);
        return d.kind === 'OperationDefinition' && d.operation === 'subscription';
      },
      new GraphQLWsLink(ws),
      new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${owner.token}` } }),
    );
    client = new ApolloClient({ link, cache: new InMemoryCache() });
  });
  afterAll(() => {
    vi.restoreAllMocks();
    client.stop();
  });

  it('normalizes room messages, and a roomEvents subscription updates the cached query', async () => {
    const { data: created } = await client.mutate({ mutation: doc(CreateRoom), variables: { input: { orgId, type: 'GROUP', name: 'apollo', memberIds: [member.id] } } });
    const roomId = created!.createRoom.id;
    const sent = await client.mutate({ mutation: doc(Send), variables: { input: { roomId, content: 'first' } } });
    const { data } = await client.query({ query: doc(RoomMessages), variables: { id: roomId } });
    expect(data!.room!.messages.edges.map((e) => e.node.content)).toEqual(['first']);
    expect((client.cache.extract() as Record<string, unknown>)[`RoomMessage:${(sent.data as { sendMessage: { id: string } }).sendMessage.id}`]).toMatchObject({ content: 'first', seq: 1 });

    const got: { data?: unknown }[] = [];
    const sub = client.subscribe({ query: doc(Events), variables: { roomId, afterSeq: 0 } }).subscribe((e) => void got.push(e));
    await vi.waitFor(() => expect(got).toHaveLength(1)); // the replay of seq 1: the stream is live
    await server.ok(Send, { input: { roomId, content: 'second' } }, { token: member.token });
    await server.ok(Edit, { input: { messageId: (sent.data as { sendMessage: { id: string } }).sendMessage.id, content: 'first, edited' } }, { token: owner.token });
    await vi.waitFor(() => expect(got).toHaveLength(3), { timeout: 10_000 });
    sub.unsubscribe();
    expect(got.map((e) => (e.data as { roomEvents: { __typename: string } }).roomEvents.__typename)).toEqual(['RoomMessageAdded', 'RoomMessageAdded', 'RoomMessageEdited']);
    // The edit event carried the message's id and new content: the cached query sees it without a refetch.
    const cached = client.readQuery({ query: doc(RoomMessages), variables: { id: roomId } });
    expect(cached!.room!.messages.edges[0].node.content).toBe('first, edited');
  });

  it('streams a thread reply and reports a paid session turning ACTIVE', async () => {
    const { data: t } = await client.mutate({ mutation: doc(CreateThread), variables: { input: { orgId, title: 'apollo' } } });
    const threadId = t!.createThread.id;
    const events = take<{ data?: any }>((next) => client.subscribe({ query: doc(ThreadEvents), variables: { threadId } }).subscribe(next), 1000, (e) => e.data?.threadEvents.__typename === 'AssistantDone');
    await new Promise((r) => setTimeout(r, 300));
    const { data: reply } = await client.mutate({ mutation: doc(SendThread), variables: { input: { threadId, content: 'alpha beta gamma delta' } } });
    const got = await events;
    const deltas = got.filter((e) => e.data?.threadEvents.__typename === 'AssistantDelta').map((e) => e.data.threadEvents.delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(reply!.sendThreadMessage.assistantMessage.content);

    const { data: opened } = await client.mutate({ mutation: doc(OpenPaid), variables: { input: { amountSats: 500 } } });
    const states: any[] = [];
    const sub = client.subscribe({ query: doc(SessionEvents), variables: { id: opened!.openPaidSession.session.id } }).subscribe((e) => void states.push(e));
    await vi.waitFor(() => expect(states).toHaveLength(1)); // the current state comes first
    await settle(server, opened!.openPaidSession.invoice.paymentHash);
    await vi.waitFor(() => expect(states.map((e) => e.data.sessionEvents.state)).toEqual(['AWAITING_PAYMENT', 'ACTIVE']), { timeout: 10_000 });
    sub.unsubscribe();
    expect(warnings.filter((w) => /missing field/i.test(w))).toEqual([]);
  });
});

describe('urql (@urql/core with subscriptionExchange over graphql-ws)', () => {
  let client: UrqlClient;
  beforeAll(() => {
    const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${member.token}` } });
    leftovers.push(() => ws.dispose() as Promise<void>);
    client = new UrqlClient({
      url: server.url,
      fetchOptions: { headers: { authorization: `Bearer ${member.token}` } },
      exchanges: [
        cacheExchange,
        fetchExchange,
        subscriptionExchange({ forwardSubscription: (req) => ({ subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...req, query: req.query ?? '' }, sink) }) }) }),
      ],
    });
  });

  it('chats in a room, resumes with afterSeq, streams a thread reply and sees a session paid', async () => {
    const room = await client.mutation(doc(CreateRoom), { input: { orgId, type: 'GROUP', name: 'urql', memberIds: [owner.id] } }).toPromise();
    const roomId = room.data!.createRoom.id;
    for (const content of ['a', 'b', 'c']) await client.mutation(doc(Send), { input: { roomId, content } }).toPromise();
    const resumed = await take<any>((next) => client.subscription(doc(Events), { roomId, afterSeq: 1 }).subscribe(next), 2);
    expect(resumed.map((r) => r.data.roomEvents.seq)).toEqual([2, 3]);

    const t = await client.mutation(doc(CreateThread), { input: { orgId, title: 'urql' } }).toPromise();
    const threadId = t.data!.createThread.id;
    const events = take<any>((next) => client.subscription(doc(ThreadEvents), { threadId }).subscribe(next), 1000, (r) => r.data?.threadEvents.__typename === 'AssistantDone');
    await new Promise((r) => setTimeout(r, 300));
    const reply = await client.mutation(doc(SendThread), { input: { threadId, content: 'one two three four' } }).toPromise();
    const deltas = (await events).filter((r) => r.data.threadEvents.__typename === 'AssistantDelta').map((r) => r.data.threadEvents.delta);
    expect(deltas.join('')).toBe(reply.data!.sendThreadMessage.assistantMessage.content);

    const opened = await client.mutation(doc(OpenPaid), { input: { amountSats: 300 } }).toPromise();
    const states: any[] = [];
    const sub = client.subscription(doc(SessionEvents), { id: opened.data!.openPaidSession.session.id }).subscribe((r) => void states.push(r));
    await vi.waitFor(() => expect(states).toHaveLength(1)); // the current state comes first
    await settle(server, opened.data!.openPaidSession.invoice.paymentHash);
    await vi.waitFor(() => expect(states.map((r) => r.data.sessionEvents.state)).toEqual(['AWAITING_PAYMENT', 'ACTIVE']), { timeout: 10_000 });
    sub.unsubscribe();
  });
});
