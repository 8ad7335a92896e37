import { createECDH, randomBytes } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import {
  getNamedType,
  isAbstractType,
  isInputType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { committedSchema } from './helpers/committed-schema.ts';
import { png, uploadFile } from './helpers/attachments.ts';
import { buildAuthzWorld, type AuthzWorld } from './helpers/authz-world.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/**
 * Apollo Client's InMemoryCache with no typePolicies: every object type a client caches must normalize by its
 * `id` (docs/api/conventions.md, "Caching"). Operations are generated from the committed schema: each object
 * of a populated org is fetched through `node(id)` and `me` with every field that needs no argument, a few
 * levels deep, twice (the second time after the data changed). The cache must hold every cached type as its
 * own entry, and Apollo must not warn (lost data when merging, missing fields).
 */
const schema = committedSchema();
/** The value objects eslint.config.js exempts from `id` (read only inside their owner). */
const { VALUE_TYPES } = (await import(String(new URL('../eslint.config.js', import.meta.url)))) as { VALUE_TYPES: string[] };
/** Pages and results carry no identity of their own: they are not cache entries. */
const NOT_CACHED = /(?:Connection|Edge|Payload)$|^PageInfo$/;

/** Object types a client caches: those with `id: ID!` that are not pages or results. */
function cachedTypes(): string[] {
  return Object.values(schema.getTypeMap())
    .filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__') && !NOT_CACHED.test(type.name))
    .filter((type) => String(type.getFields().id?.type) === 'ID!')
    .map((type) => type.name)
    .sort();
}

/** Values for required arguments, by name (filled from the populated org). */
const known: Record<string, string> = {};
/** The scalar each known argument must have (IDs end in `Id`; the rest are named here). */
const KNOWN_TYPES: Record<string, string> = { query: 'String', from: 'Date', to: 'Date' };

/** `first: 3` for pages, `known` values for required arguments. Returns null when a field needs what we cannot guess. */
function argumentsOf(field: ReturnType<GraphQLObjectType['getFields']>[string]): string | null {
  const given: string[] = [];
  for (const arg of field.args) {
    if (arg.name === 'first') given.push('first: 3');
    else if (isNonNullType(arg.type) && arg.defaultValue === undefined && isInputType(arg.type)) {
      if (!(arg.name in known) || getNamedType(arg.type).name !== (arg.name.endsWith('Id') ? 'ID' : KNOWN_TYPES[arg.name])) return null;
      given.push(`${arg.name}: ${JSON.stringify(known[arg.name])}`);
    }
  }
  return given.length ? `(${given.join(', ')})` : '';
}

/** Every field that needs no argument, `levels` objects deep; connections and edges do not count as levels. */
function selectionOf(type: GraphQLNamedType, levels: number, seen: string[] = []): string {
  if (isAbstractType(type)) {
    return `__typename ${schema
      .getPossibleTypes(type)
      .map((member) => `... on ${member.name} { ${selectionOf(member, levels, seen)} }`)
      .join(' ')}`;
  }
  if (!isObjectType(type)) return '';
  const parts = ['__typename'];
  for (const field of Object.values(type.getFields())) {
    const args = argumentsOf(field);
    if (args === null) continue;
    const named = getNamedType(field.type);
    if (isLeafType(named)) {
      parts.push(`${field.name}${args}`);
      continue;
    }
    const free = NOT_CACHED.test(named.name);
    if (!free && (levels === 0 || seen.includes(named.name))) continue;
    const inner = selectionOf(named, free ? levels : levels - 1, free ? seen : [...seen, named.name]);
    if (inner) parts.push(`${field.name}${args} { ${inner} }`);
  }
  return parts.join(' ');
}

/** Members of a `<Stream>Event` union: delivered by subscriptions, never read from the cache. */
function isEvent(name: string): boolean {
  return Object.values(schema.getTypeMap()).some((type) => isAbstractType(type) && type.name.endsWith('Event') && schema.getPossibleTypes(type).some((member) => member.name === name));
}

let server: TestServer;
let fake: FakeOpenAI;
let w: AuthzWorld;
const warnings: string[] = [];

beforeAll(async () => {
  // The assistant is a fake OpenAI server, so that a reply can carry tool calls.
  fake = await startFakeOpenAI();
  server = await startServer({
    overrides: {
      webhooks: { allowPrivate: true },
      push: { allowPrivate: true },
      models: { default: 'gpt-test', allowed: ['gpt-test'] },
      providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-test-key-1234' } },
      // Generated selections are wide: this test is about the cache, not the request limits.
      limits: { maxTokens: 200_000, maxCost: 100_000_000, maxDepth: 40, maxAliases: 1000 },
    },
  });
  w = await buildAuthzWorld(server);
  const today = new Date().toISOString().slice(0, 10);
  Object.assign(known, { orgId: w.orgId, roomId: w.roomId, threadId: w.threadId, projectId: w.projectId, query: w.mark, from: today, to: today });
  for (const level of ['warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' ')));
  }
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await server?.stop();
  await fake?.close();
});

describe('Apollo InMemoryCache without typePolicies', () => {
  it('normalizes every cached type and warns about nothing', async () => {
    const cache = new InMemoryCache();
    const clientOf = (token: string) => new ApolloClient({ link: new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${token}` } }), cache });
    const viewers = [w.auth.owner, w.auth.holder].map((auth) => clientOf(auth.token!));
    const ids = Object.entries(w)
      .filter(([key, value]) => key.endsWith('Id') && typeof value === 'string')
      .map(([, value]) => value as string);
    expect(ids.length).toBeGreaterThan(20);

    /** Every object type in the answers that is not a page, a result or a value object must normalize. */
    const answered = new Set<string>();
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(collect);
      if (!value || typeof value !== 'object') return;
      const typename = (value as { __typename?: string }).__typename;
      if (typename) answered.add(typename);
      Object.values(value).forEach(collect);
    };
    const read = async (client: ApolloClient, query: string, variables?: Record<string, unknown>) => {
      const result = await client.query<any>({ query: gql(query), variables, fetchPolicy: 'network-only', errorPolicy: 'all' });
      collect(result.data);
      return result;
    };

    // What only writes return, written through the same cache as a client would: a topic subscription, a KV
    // instance attached to a thread, a reply that called a tool, a prepaid session's request.
    const write = async (client: ApolloClient, mutation: string, input: Record<string, unknown>) => {
      const result = await client.mutate<any>({ mutation: gql(mutation), variables: { input } });
      collect(result.data);
    };
    const [owner, holder] = viewers;
    await write(owner, 'mutation Sub($input: SubscribeTopicInput!) { subscribeTopic(input: $input) { id topic } }', { orgId: w.orgId, topic: 'apollo' });
    await write(owner, 'mutation Attach($input: AttachKvInstanceInput!) { attachKvInstance(input: $input) { id thread { id } kvInstance { id } } }', { threadId: w.spareThreadId, kvInstanceId: w.kvId });
    fake.behavior.script = [{ toolCalls: [{ name: 'list_keys', arguments: {} }] }, { reply: ['done'] }];
    await write(owner, 'mutation Chat($input: SendThreadMessageInput!) { sendThreadMessage(input: $input) { assistantMessage { id toolCalls { id name } } } }', { threadId: w.spareThreadId, content: 'use a tool' });
    await write(holder, 'mutation Paid($input: SendSessionMessageInput!) { sendSessionMessage(input: $input) { request { id status } assistantMessage { id } } }', { sessionId: w.sessionId, content: 'hello' });
    const browser = createECDH('prime256v1');
    browser.generateKeys();
    await write(owner, 'mutation Push($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { id endpoint } }', {
      endpoint: 'https://127.0.0.1:9/push/apollo', p256dh: browser.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url'),
    });
    ids.push(w.spareThreadId);
    // A message with an attachment (an image, so that width and height are set).
    const attachmentId = await uploadFile(server, w.owner.token, w.orgId, 'apollo.png', 'image/png', png(4, 3));
    await write(owner, 'mutation SendFile($input: SendMessageInput!) { sendMessage(input: $input) { id attachments { id filename } } }', { roomId: w.roomId, content: 'a file', attachmentIds: [attachmentId] });
    ids.push(attachmentId);
    // Moderation: a ban, a mute and a report (read back through Room.bans, Room.mutes, Org.reports and node).
    await write(owner, 'mutation Ban($input: BanRoomMemberInput!) { banRoomMember(input: $input) { id reason } }', { roomId: w.roomId, userId: w.extra.id, reason: 'apollo' });
    await write(owner, 'mutation Mute($input: MuteRoomMemberInput!) { muteRoomMember(input: $input) { id reason } }', { roomId: w.roomId, userId: w.member.id, reason: 'apollo' });
    const reported = await server.ok<any, any>('mutation Report($input: ReportMessageInput!) { reportMessage(input: $input) { id } }', { input: { messageId: w.messageId, reason: 'apollo' } }, w.auth.member);
    ids.push(reported.reportMessage.id);

    const readEverything = async (levels: number) => {
      for (const client of viewers) {
        await read(client, `query Me { me { ${selectionOf(getNamedType(schema.getQueryType()!.getFields().me.type), levels + 1)} } }`);
      }
      // Root fields that need no argument beyond the org's (models, search, provider keys...).
      for (const field of Object.values(schema.getQueryType()!.getFields())) {
        const args = argumentsOf(field);
        const named = getNamedType(field.type);
        if (args === null || field.name === 'me' || isLeafType(named)) continue;
        await read(viewers[0], `query Root { ${field.name}${args} { ${selectionOf(named, levels)} } }`);
      }
      for (const id of ids) {
        for (const client of viewers) {
          const probe = await read(client, 'query Kind($id: ID!) { node(id: $id) { __typename id } }', { id });
          const typename = probe.data?.node?.__typename;
          if (!typename) continue;
          const type = schema.getType(typename)!;
          await read(client, `query Object($id: ID!) { node(id: $id) { __typename id ... on ${typename} { ${selectionOf(type, levels, [typename])} } } }`, { id });
          break;
        }
      }
    };

    await readEverything(2);
    // Change what was read, then read it all again, once as deep and once shallower (a list view after a
    // detail view): merging the new answers into the cached objects must not lose or mix data.
    await server.ok('mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { roomId: w.roomId, content: 'second pass' } }, w.auth.owner);
    await readEverything(2);
    await readEverything(1);

    const entries = Object.keys(cache.extract()).filter((key) => !key.startsWith('ROOT_'));
    const normalized = new Set(entries.map((key) => key.slice(0, key.indexOf(':'))));
    const missing = cachedTypes().filter((name) => !normalized.has(name));
    expect.soft(missing, 'cached types that no generated read reached (add a path to them) or that did not normalize').toEqual([]);
    const inline = [...answered].filter((name) => !normalized.has(name) && !NOT_CACHED.test(name) && !VALUE_TYPES.includes(name) && !isEvent(name)).sort();
    expect.soft(inline, 'object types answered without an id (Apollo stores them inside their parent)').toEqual([]);
    expect(warnings).toEqual([]);
  }, 300_000);
});
