/**
 * A WebSocket keeps its credentials only while they hold (issue 17, items 2, 3 and 8): revocation, logout
 * everywhere and expiry close it with 4403, an operation sent in between is refused, every subscription ends
 * with FORBIDDEN once its subscriber loses access, and sockets and subscriptions are capped.
 */
import type { Client } from 'graphql-ws';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql } from './gql/index.ts';
import { connectSocket as connect } from './helpers/accounts.ts';
import { subscribe, type Auth } from './helpers/client.ts';
import { addMember, createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { kvWorld, SetKey } from './helpers/kv.ts';
import { leftovers } from './helpers/leftovers.ts';
import { scrape } from './helpers/metrics.ts';
import { startServer, twoInstances, type TestServer } from './helpers/server.ts';

const Me = graphql(`query SockCredMe { me { id } }`);
const Org = graphql(`query SockCredOrg($id: ID!) { org(id: $id) { id } }`);
const Revoke = graphql(`mutation SockCredRevoke($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id revokedAt } }`);
const Logout = graphql(`mutation SockCredLogout($input: LogoutInput!) { logout(input: $input) { revoked } }`);
const Unshare = graphql(`mutation SockCredUnshare($input: UnshareProjectInput!) { unshareProject(input: $input) { deletedId } }
`);
const SetPublic = graphql(`mutation SockCredSetPublic($input: SetProjectPublicAccessInput!) { setProjectPublicAccess(input: $input) { id } }`);
const RemoveMember = graphql(`mutation SockCredRemoveMember($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }`);
const CreateRoom = graphql(`mutation SockCredCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Room = graphql(`query SockCredRoom($id: ID!) { room(id: $id) { id } }`);
const UserPresence = graphql(`query SockCredUserPresence($id: ID!) { node(id: $id) { ... on User { presence } } }`);
const KvEvents = graphql(`subscription SockCredKvEvents($kvInstanceId: ID!) { kvEvents(kvInstanceId: $kvInstanceId) { __typename } }`);
const Presence = graphql(`subscription SockCredPresence($orgId: ID!) { presence(orgId: $orgId) { userId status } }`);

/** One query over the socket: its result, or how the socket closed under it. */
function query(client: Client, doc: unknown, variables?: Record<string, unknown>) {
  return new Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[]; closed?: number }>((resolve) => {
    let result: { data?: unknown; errors?: { extensions?: { code?: string } }[] } = {};
    client.subscribe(
      { query: String(doc), variables },
      {
        next: (r) => void (result = r as typeof result),
        error: (err) => {
          if (Array.isArray(err)) return resolve({ errors: err });
          const code = (err as { code?: number }).code;
          resolve(typeof code === 'number' ? { closed: code } : { errors: [{ extensions: { code: String(err) } }] });
        },
        complete: () => resolve(result),
      },
    );
  });
}

/** Refused: an UNAUTHENTICATED answer, or the socket closing with 4403 under it. */
const refused = (r: Awaited<ReturnType<typeof query>>) => r.closed === 4403 || r.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED';

/** Subscribes to kvEvents and returns once an event proves the subscription live. */
async function liveKvEvents(server: TestServer, client: Client, instanceId: string, writer: Auth) {
  const sub = subscribe(client, KvEvents, { kvInstanceId: instanceId });
  for (let i = 0; ; i++) {
    await server.ok(SetKey, { input: { kvInstanceId: instanceId, name: `probe${i}`, value: 'x' } }, writer);
    const event = await sub.next(1000).catch((err) => (i < 10 ? undefined : Promise.reject(err)));
    if (event) break;
  }
  // Drain what the probes raised.
  while (await sub.next(200).then(() => true, () => false));
  return sub;
}

const SetPresence = graphql(`mutation SockCredSetPresence($input: SetPresenceInput!) { setPresence(input: $input) { status } }`);

/** Subscribes to an org's presence and returns once an event (the owner toggling AWAY/ONLINE) proves it live. */
async function livePresence(server: TestServer, client: Client, orgId: string, owner: Auth) {
  const sub = subscribe(client, Presence, { orgId });
  // The owner must be connected for AWAY/ONLINE to change what others see.
  await connect(server, owner).acknowledged;
  for (let i = 0; ; i++) {
    await server.ok(SetPresence, { input: { status: i % 2 ? 'ONLINE' : 'AWAY' } }, owner);
    const event = await sub.next(1000).catch((err) => (i < 10 ? undefined : Promise.reject(err)));
    if (event) break;
  }
  while (await sub.next(200).then(() => true, () => false));
  return sub;
}

const Login = graphql(`mutation SockCredLogin($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }`);

describe('sockets and their credentials', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ overrides: { metrics: { enabled: true } } });
  });

  it('a revoked API key: its socket closes with 4403, an operation in between is refused, its subscription ends with FORBIDDEN', async () => {
    const { org, owner } = await orgWithMembers(server);
    const key = await createApiKey(server, owner, org.id, ['READ']);
    const { client, closed, acknowledged } = connect(server, { apiKey: key.key });
    await acknowledged;
    expect(await query(client, Org, { id: org.id })).toMatchObject({ data: { org: { id: org.id } } });
    const sub = await livePresence(server, client, org.id, { token: owner.token });

    await server.ok(Revoke, { input: { apiKeyId: key.apiKey.id } }, { token: owner.token });
    const inBetween = await query(client, Org, { id: org.id });
    expect(refused(inBetween), JSON.stringify(inBetween)).toBe(true);
    expect((await sub.rejection())?.extensions?.code).toBe('FORBIDDEN');
    expect((await closed).code).toBe(4403);
  });

  it('logout everywhere closes the user’s sockets with 4403 and voids their access tokens over HTTP too', async () => {
    const user = await registerUser(server);
    const second = (await server.ok(Login, { input: { email: user.email, password: 'correct horse battery' } })).login;
    const sockets = [connect(server, { token: user.token }), connect(server, { token: second.accessToken })];
    for (const s of sockets) await s.acknowledged;
    expect(await query(sockets[0].client, Me)).toMatchObject({ data: { me: { id: user.id } } });

    await server.ok(Logout, { input: { refreshToken: second.refreshToken, everywhere: true } });
    for (const s of sockets) expect((await s.closed).code).toBe(4403);
    expect(await server.errorCode(Me, {}, { token: user.token })).toBe('UNAUTHENTICATED');
    // A new login works again, with a fresh token.
    const again = (await server.ok(Login, { input: { email: user.email, password: 'correct horse battery' } })).login;
    expect(await server.ok(Me, {}, { token: again.accessToken })).toMatchObject({ me: { id: user.id } });
  });

  it('kvEvents ends with FORBIDDEN when the subscriber’s share is removed', async () => {
    const world = await kvWorld(server);
    const { client } = connect(server, world.actors.reader);
    const sub = await liveKvEvents(server, client, world.instanceId, world.actors.writer);
    const reader = await server.ok(Me, {}, world.actors.reader);
    await server.ok(Unshare, { input: { projectId: world.projectId, userId: reader.me!.id } }, world.actors.owner);
    expect((await sub.rejection())?.extensions?.code).toBe('FORBIDDEN');
  });

  it('kvEvents ends with FORBIDDEN when the org-wide access it relied on is removed', async () => {
    const world = await kvWorld(server);
    await server.ok(SetPublic, { input: { projectId: world.projectId, access: 'READ' } }, world.actors.owner);
    const { client } = connect(server, world.actors.stranger);
    const sub = await liveKvEvents(server, client, world.instanceId, world.actors.writer);
    await server.ok(SetPublic, { input: { projectId: world.projectId, access: null } }, world.actors.owner);
    expect((await sub.rejection())?.extensions?.code).toBe('FORBIDDEN');
  });

  it('presence ends with FORBIDDEN when the subscriber is removed from the org', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const { client } = connect(server, { token: members[0].token });
    const sub = await livePresence(server, client, org.id, { token: owner.token });
    await server.ok(RemoveMember, { input: { orgId: org.id, userId: members[0].id } }, { token: owner.token });
    expect((await sub.rejection())?.extensions?.code).toBe('FORBIDDEN');
  });

  it('an acting key’s socket keeps the key’s credentials: the member logging out everywhere does not close it, revoking the key does', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const member = members[0];
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, name: 'ops', type: 'GROUP', memberIds: [member.id] } }, { token: owner.token });
    const key = await createApiKey(server, owner, org.id, ['ACT_AS']);
    const { client, closed, acknowledged } = connect(server, { apiKey: key.key, connectionParams: { actingUser: member.id } });
    await acknowledged;
    expect(await query(client, Room, { id: createRoom.id })).toMatchObject({ data: { room: { id: createRoom.id } } });
    // The integration's connection is not the member being there.
    expect(await server.ok(UserPresence, { id: member.id }, { token: owner.token })).toMatchObject({ node: { presence: 'OFFLINE' } });
    await server.ok(Logout, { input: { refreshToken: member.refreshToken, everywhere: true } });
    expect(await query(client, Room, { id: createRoom.id })).toMatchObject({ data: { room: { id: createRoom.id } } });
    await server.ok(Revoke, { input: { apiKeyId: key.apiKey.id } }, { token: owner.token });
    expect((await closed).code).toBe(4403);
  });

  it('counts refusals in /metrics', async () => {
    const read = await scrape(server.origin);
    expect(read('confab_ws_refused_total', { reason: 'credentials_revoked' })).toBeGreaterThanOrEqual(1);
  });
});

describe('a socket opened with an access token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ overrides: { auth: { accessTokenTtl: 2 } } });
  });

  it('is closed with 4403 when the token expires', async () => {
    const user = await registerUser(server);
    const { client, closed, acknowledged } = connect(server, { token: user.token });
    await acknowledged;
    expect(await query(client, Me)).toMatchObject({ data: { me: { id: user.id } } });
    const c = await closed;
    expect(c).toMatchObject({ code: 4403 });
    expect(c.reason).toMatch(/expired/);
  });
});

describe('caps', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ overrides: { server: { wsMaxSubscriptionsPerSocket: 2, wsMaxSocketsPerClient: 3, wsMaxSocketsPerAddress: 8 } } });
  });

  it('a socket holds at most ws_max_subscriptions_per_socket operations; one ending frees its place', async () => {
    const { org, owner } = await orgWithMembers(server);
    const { client } = connect(server, { token: owner.token });
    const subs = [subscribe(client, Presence, { orgId: org.id }), subscribe(client, Presence, { orgId: org.id })];
    const third = subscribe(client, Presence, { orgId: org.id });
    const refusal = await third.rejection();
    expect(refusal?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'SUBSCRIPTION_LIMIT' });
    subs[0].close();
    // The place is free once the server has seen the complete: retry until it has.
    for (let i = 0; ; i++) {
      const r = await query(client, Me);
      if (r.data) break;
      expect(i, JSON.stringify(r)).toBeLessThan(50);
    }
  });

  it('racing connections of one user: at most ws_max_sockets_per_client are acknowledged, the rest close with 4429', async () => {
    const user = await registerUser(server);
    const sockets = Array.from({ length: 6 }, () => connect(server, { token: user.token }));
    const outcomes = await Promise.all(sockets.map((s) => Promise.race([s.acknowledged.then(() => 'open'), s.closed.then((c) => c.code)])));
    expect(outcomes.filter((o) => o === 'open')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 4429)).toHaveLength(3);
    // Another user is not affected.
    const other = await registerUser(server);
    await connect(server, { token: other.token }).acknowledged;
    for (const s of sockets) s.client.dispose();
  });

  it('racing upgrades from one address: at most ws_max_sockets_per_address are accepted, the rest get HTTP 429', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        leftovers.push(async () => socket.terminate());
        return new Promise<number | 'open'>((resolve) => {
          socket.once('open', () => resolve('open'));
          socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          socket.once('error', () => undefined);
        });
      }),
    );
    // Other sockets of this file may still be open from this address: the cap is never passed.
    expect(results.filter((r) => r === 'open').length).toBeLessThanOrEqual(8);
    expect(results.filter((r) => r === 429).length).toBeGreaterThanOrEqual(4);
    expect(results.every((r) => r === 'open' || r === 429)).toBe(true);
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('two instances on Redis', () => {
  const servers = twoInstances();

  it('a key revoked on one instance: on the other, an operation is refused at once, and the event closes its sockets', async () => {
    const { a, b } = servers;
    const { org, owner } = await orgWithMembers(a);
    const key = await createApiKey(a, owner, org.id, ['READ']);
    // One socket only listens (only the revocation's event can end it); the other sends right after the revocation.
    const listening = connect(b, { apiKey: key.key });
    const sending = connect(b, { apiKey: key.key });
    await Promise.all([listening.acknowledged, sending.acknowledged]);
    const sub = await livePresence(b, listening.client, org.id, { token: owner.token });

    await a.ok(Revoke, { input: { apiKeyId: key.apiKey.id } }, { token: owner.token });
    const revokedAt = Date.now();
    const inBetween = await query(sending.client, Org, { id: org.id });
    expect(refused(inBetween), JSON.stringify(inBetween)).toBe(true);
    expect((await sub.rejection())?.extensions?.code).toBe('FORBIDDEN');
    expect((await listening.closed).code).toBe(4403);
    // By design about 100 ms after the event arrives; the bound here is loose because CI machines are loaded
    // (nothing else would ever close this socket: it sends nothing, and sockets have no timer of their own).
    expect(Date.now() - revokedAt).toBeLessThan(10_000);
  });

  it('logout everywhere on one instance closes the user’s socket on the other', async () => {
    const { a, b } = servers;
    const user = await registerUser(a);
    const { closed, acknowledged } = connect(b, { token: user.token });
    await acknowledged;
    await a.ok(Logout, { input: { refreshToken: user.refreshToken, everywhere: true } });
    expect((await closed).code).toBe(4403);
  });

  it('a member removed on one instance: their presence stream on the other ends with FORBIDDEN', async () => {
    const { a, b } = servers;
    const { org, owner } = await orgWithMembers(a);
    const member = await registerUser(a);
    await addMember(a, org.id, owner, member);
    const { client } = connect(b, { token: member.token });
    const sub = await livePresence(b, client, org.id, { token: owner.token });
    await a.ok(RemoveMember, { input: { orgId: org.id, userId: member.id } }, { token: owner.token });
    expect((await sub.rejection())?.extensions?.code).toBe('FORBIDDEN');
  });
});
