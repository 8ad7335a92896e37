import { mkdtempSync, readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVapidKeys } from '../src/modules/push/push.vapid.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { decryptPush, startFakePushService, type FakeBrowser, type FakePushService, type ReceivedPush } from './helpers/fake-push.ts';
import { addMember, createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, testConfig, type TestServer } from './helpers/server.ts';

const PushConfig = graphql(`
  query PushConfig { pushConfig { id enabled vapidPublicKey } }
`);
const Register = graphql(`
  mutation PushRegister($input: RegisterPushSubscriptionInput!) {
    registerPushSubscription(input: $input) { id endpoint userAgent createdAt lastPushAt }
  }
`);
const Unregister = graphql(`
  mutation PushUnregister($input: UnregisterPushSubscriptionInput!) { unregisterPushSubscription(input: $input) { deletedId } }
`);
const Mine = graphql(`
  query PushMine { me { pushSubscriptions { id endpoint userAgent lastPushAt } } }
`);
const Node = graphql(`
  query PushNode($id: ID!) { node(id: $id) { id ... on PushSubscription { endpoint } } }
`);
const Notify = graphql(`
  mutation PushNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }
`);
const OpenDm = graphql(`
  mutation PushOpenDm($input: OpenDirectRoomInput!) { openDirectRoom(input: $input) { id } }
`);
const CreateRoom = graphql(`
  mutation PushCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation PushSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }
`);
const Presence = graphql(`
  query PushPresence($id: ID!) { node(id: $id) { ... on User { presence } } }
`);
const Live = graphql(`
  subscription PushLive { notifications { id } }
`);

let fake: FakePushService;
let fakeOrigin: string;
let received: ReceivedPush[];
type Browser = FakeBrowser;
const browser = (prefix?: string) => fake.browser(prefix);
const pathOf = (b: Browser) => b.path;
const pushTo = (path: string) => fake.pushTo(path);
const decrypt = decryptPush;

// ── The server ──

let server: TestServer;
let dataDir: string;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;
let orgId: string;
let vapidPublicKey: string;

const MAX_PER_USER = 3;

beforeAll(async () => {
  fake = await startFakePushService();
  fakeOrigin = fake.origin;
  received = fake.received;
  dataDir = mkdtempSync(join(tmpdir(), 'confab-push-data-'));
  server = await startServer({ overrides: { dataDir, push: { allowPrivate: true, caFile: fake.caFile, ttlSec: 600, maxPerUser: MAX_PER_USER } } });
  const o = await orgWithMembers(server, 2);
  [owner, alice, bob] = [o.owner, ...o.members];
  orgId = o.org.id;
  vapidPublicKey = (await server.ok(PushConfig, {})).pushConfig.vapidPublicKey!;
});

afterAll(async () => {
  await fake?.close();
});

const register = async (user: TestUser, b: Browser) => (await server.ok(Register, { input: b.input }, { token: user.token })).registerPushSubscription;
const mine = async (user: TestUser) => (await server.ok(Mine, {}, { token: user.token })).me!.pushSubscriptions;
/** Polls the user's subscriptions until `done` holds (the removal or update happens after the push, in the background). */
async function mineUntil(user: TestUser, done: (subs: Awaited<ReturnType<typeof mine>>) => boolean) {
  for (let deadline = Date.now() + 10_000; ; ) {
    const subs = await mine(user);
    if (done(subs)) return subs;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${JSON.stringify(subs)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('delivery', () => {
  it('pushes a DM to the offline member: aes128gcm, TTL, VAPID with our key, and a payload the browser decrypts', async () => {
    const b = browser();
    const sub = await register(alice, b);
    expect(sub).toMatchObject({ endpoint: b.endpoint, userAgent: b.input.userAgent, lastPushAt: null });
    const room = (await server.ok(OpenDm, { input: { orgId, userId: alice.id } }, { token: owner.token })).openDirectRoom;
    await server.ok(Send, { input: { roomId: room.id, content: 'Lunch at noon?' } }, { token: owner.token });

    const push = await pushTo(pathOf(b));
    expect(push.headers['content-encoding']).toBe('aes128gcm');
    expect(push.headers.ttl).toBe('600');
    expect(push.headers.authorization).toMatch(new RegExp(`^vapid t=[\\w-]+\\.[\\w-]+\\.[\\w-]+, k=${vapidPublicKey}$`));
    const jwt = JSON.parse(Buffer.from(String(push.headers.authorization).slice('vapid t='.length).split('.')[1], 'base64url').toString());
    expect(jwt).toMatchObject({ aud: fakeOrigin, sub: 'mailto:admin@localhost' });
    expect(decrypt(b, push.body)).toEqual({ type: 'dm', title: 'Owner', body: 'Lunch at noon?', roomId: room.id, url: `/app/rooms/${room.id}`, orgId });
    // The sender has no subscription; the push service's 201 is recorded.
    const [after] = await mineUntil(alice, (s) => s[0]?.lastPushAt != null);
    expect(after.id).toBe(sub.id);
  });

  it('a DM that mentions its recipient is pushed once, as the mention', async () => {
    const carol = await registerUser(server, { name: 'Carol' });
    await addMember(server, orgId, owner, carol);
    const b = browser();
    await register(carol, b);
    const room = (await server.ok(OpenDm, { input: { orgId, userId: carol.id } }, { token: owner.token })).openDirectRoom;
    await server.ok(Send, { input: { roomId: room.id, content: 'hey @Carol', mentionIds: [carol.id] } }, { token: owner.token });
    await pushTo(pathOf(b));
    // A plain DM afterwards: once its push is in, any second push for the first message would have been sent too.
    await server.ok(Send, { input: { roomId: room.id, content: 'plain' } }, { token: owner.token });
    for (let deadline = Date.now() + 10_000; !fake.pushesTo(pathOf(b)).some((r) => (decrypt(b, r.body) as { body: string }).body === 'plain'); ) {
      if (Date.now() > deadline) throw new Error('the plain DM was not pushed');
      await new Promise((r) => setTimeout(r, 25));
    }
    const pushes = fake.pushesTo(pathOf(b)).map((r) => decrypt(b, r.body) as { type: string; body: string });
    expect(pushes.map((p) => `${p.type}:${p.body}`).sort()).toEqual(['dm:plain', 'mention:hey @Carol']);
  });

  it('pushes a message in a group room to nobody (only DMs are pushed)', async () => {
    const b = browser();
    await register(bob, b);
    const room = (await server.ok(CreateRoom, { input: { orgId, name: 'general', type: 'GROUP', memberIds: [bob.id] } }, { token: owner.token })).createRoom;
    await server.ok(Send, { input: { roomId: room.id, content: 'not pushed' } }, { token: owner.token });
    // A DM to bob afterwards is pushed; the group message before it never was.
    const dm = (await server.ok(OpenDm, { input: { orgId, userId: bob.id } }, { token: owner.token })).openDirectRoom;
    await server.ok(Send, { input: { roomId: dm.id, content: 'pushed' } }, { token: owner.token });
    await pushTo(pathOf(b));
    expect(received.filter((r) => r.path === pathOf(b)).map((r) => decrypt(b, r.body))).toEqual([expect.objectContaining({ type: 'dm', body: 'pushed' })]);
  });

  it('pushes a notification, and a mention, to offline users only: someone with an open socket gets none', async () => {
    const [carol, dave] = [await registerUser(server, { name: 'Carol' }), await registerUser(server, { name: 'Dave' })];
    const o = await orgWithMembers(server, 0);
    await addMember(server, o.org.id, o.owner, carol);
    await addMember(server, o.org.id, o.owner, dave);
    const [bc, bd] = [browser(), browser()];
    await register(carol, bc);
    await register(dave, bd);

    // Dave is online: a socket is open (presence says so to the org).
    const live = subscribe(server.ws({ token: dave.token }), Live, {});
    for (let deadline = Date.now() + 10_000; ; ) {
      const res = await server.ok(Presence, { id: dave.id }, { token: o.owner.token });
      if ((res.node as { presence?: string } | null)?.presence === 'ONLINE') break;
      if (Date.now() > deadline) throw new Error('dave never came online');
      await new Promise((r) => setTimeout(r, 50));
    }
    const sent = { orgId: o.org.id, topic: 'deploy.done', payload: { title: 'Deployed', body: 'v2 is live' }, targets: { userIds: [carol.id, dave.id] } };
    await server.ok(Notify, { input: sent }, { token: o.owner.token });
    // Carol's push was decided in the same pass as Dave's: once it arrived, Dave's would have been sent too.
    const push = await pushTo(pathOf(bc));
    expect(decrypt(bc, push.body)).toEqual({ type: 'notification', title: 'Deployed', body: 'v2 is live', notificationId: expect.any(String), orgId: o.org.id });
    expect((await live.next()).data!.notifications).toBeTruthy();
    live.close();
    expect(received.filter((r) => r.path === pathOf(bd))).toEqual([]);

    // A mention (a notification with topic `mention`, as sendMessage's mentionIds make them).
    const room = (await server.ok(CreateRoom, { input: { orgId: o.org.id, name: 'ops', type: 'GROUP', memberIds: [carol.id] } }, { token: o.owner.token })).createRoom;
    const payload = { roomId: room.id, messageId: 'Um9vbU1lc3NhZ2U6eA==', seq: 1, authorId: o.owner.id, snippet: '@Carol can you look?' };
    await server.ok(Notify, { input: { orgId: o.org.id, topic: 'mention', payload, targets: { userIds: [carol.id] } } }, { token: o.owner.token });
    for (let deadline = Date.now() + 10_000; received.filter((r) => r.path === pathOf(bc)).length < 2; ) {
      if (Date.now() > deadline) throw new Error('no mention push');
      await new Promise((r) => setTimeout(r, 50));
    }
    const mention = received.filter((r) => r.path === pathOf(bc))[1];
    expect(decrypt(bc, mention.body)).toEqual({
      type: 'mention', title: 'Owner mentioned you in ops', body: '@Carol can you look?', roomId: room.id, url: `/app/rooms/${room.id}`,
      notificationId: expect.any(String), orgId: o.org.id,
    });
  });

  it('removes a subscription the push service answers 404 or 410, and keeps one that failed otherwise', async () => {
    const erin = await registerUser(server, { name: 'Erin' });
    await addMember(server, orgId, owner, erin);
    const [gone, missing, broken] = [browser('gone'), browser('missing'), browser('broken')];
    for (const b of [gone, missing, broken]) await register(erin, b);
    expect(await mine(erin)).toHaveLength(3);
    await server.ok(Notify, { input: { orgId, topic: 'ping', payload: {}, targets: { userIds: [erin.id] } } }, { token: owner.token });
    await Promise.all([gone, missing, broken].map((b) => pushTo(pathOf(b))));
    const left = await mineUntil(erin, (s) => s.length === 1);
    expect(left).toEqual([expect.objectContaining({ endpoint: broken.endpoint, lastPushAt: null })]);
  });

  it('long bodies are cut so that a push stays small', async () => {
    const b = browser();
    const frank = await registerUser(server, { name: 'Frank' });
    await addMember(server, orgId, owner, frank);
    await register(frank, b);
    await server.ok(Notify, { input: { orgId, topic: 'big', payload: { body: '€'.repeat(2000) }, targets: { userIds: [frank.id] } } }, { token: owner.token });
    const push = await pushTo(pathOf(b));
    const got = decrypt(b, push.body) as { body: string };
    expect(push.body.length).toBeLessThan(3200);
    expect(got.body.endsWith('…')).toBe(true);
    expect(got.body.length).toBeLessThan(1001);
  });
});

describe('registering and unregistering', () => {
  it('is idempotent on the endpoint, and an endpoint moves to whoever registers it last', async () => {
    const b = browser();
    const first = await register(alice, b);
    const again = await register(alice, { ...b, input: { ...b.input, userAgent: 'renamed' } });
    expect(again).toMatchObject({ id: first.id, userAgent: 'renamed' });
    const moved = await register(bob, b);
    expect(moved.id).toBe(first.id);
    expect((await mine(alice)).map((s) => s.id)).not.toContain(first.id);
    expect((await mine(bob)).map((s) => s.id)).toContain(first.id);
  });

  it(`keeps ${MAX_PER_USER} per user: the oldest go, also when registrations race`, async () => {
    const gina = await registerUser(server, { name: 'Gina' });
    const made = [];
    for (let i = 0; i < MAX_PER_USER + 1; i++) made.push(await register(gina, browser()));
    expect((await mine(gina)).map((s) => s.id).sort()).toEqual(made.slice(1).map((s) => s.id).sort());

    const racing = await Promise.all(Array.from({ length: 8 }, () => register(gina, browser())));
    const kept = await mine(gina);
    expect(kept).toHaveLength(MAX_PER_USER);
    expect(racing.map((s) => s.id)).toEqual(expect.arrayContaining(kept.map((s) => s.id)));
  });

  it('refuses bad input with BAD_USER_INPUT and stores nothing', async () => {
    const hal = await registerUser(server, { name: 'Hal' });
    const good = browser().input;
    const point = Buffer.alloc(65, 7);
    point[0] = 4; // uncompressed, but not on the curve
    const bad = [
      { ...good, endpoint: good.endpoint.replace('https:', 'http:') },
      { ...good, endpoint: 'not a url' },
      { ...good, endpoint: `${good.endpoint}/${'x'.repeat(2048)}` },
      { ...good, endpoint: good.endpoint.replace('https://', 'https://user:pw@') },
      { ...good, p256dh: randomBytes(64).toString('base64url') },
      { ...good, p256dh: point.toString('base64url') },
      { ...good, p256dh: 'not base64!' },
      { ...good, auth: randomBytes(15).toString('base64url') },
    ];
    for (const input of bad) expect(await server.errorCode(Register, { input }, { token: hal.token }), JSON.stringify(input)).toBe('BAD_USER_INPUT');
    expect(await mine(hal)).toEqual([]);
    // Standard base64 (what btoa gives) is accepted and stored URL-safe.
    const std = browser().input;
    await register(hal, { input: { ...std, p256dh: Buffer.from(std.p256dh, 'base64url').toString('base64'), auth: Buffer.from(std.auth, 'base64url').toString('base64') } } as Browser);
    expect(await mine(hal)).toHaveLength(1);
  });

  it('unregisters by id or endpoint; someone else’s is NOT_FOUND; exactly one of the two', async () => {
    const [b1, b2] = [browser(), browser()];
    const s1 = await register(alice, b1);
    const s2 = await register(alice, b2);
    expect(await server.errorCode(Unregister, { input: { pushSubscriptionId: s1.id } }, { token: bob.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Unregister, { input: { endpoint: b1.endpoint } }, { token: bob.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Unregister, { input: {} }, { token: alice.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Unregister, { input: { pushSubscriptionId: s1.id, endpoint: b1.endpoint } }, { token: alice.token })).toBe('BAD_USER_INPUT');
    expect((await mine(alice)).map((s) => s.id)).toEqual(expect.arrayContaining([s1.id, s2.id]));

    expect((await server.ok(Unregister, { input: { pushSubscriptionId: s1.id } }, { token: alice.token })).unregisterPushSubscription.deletedId).toBe(s1.id);
    expect((await server.ok(Unregister, { input: { endpoint: b2.endpoint } }, { token: alice.token })).unregisterPushSubscription.deletedId).toBe(s2.id);
    expect(await server.errorCode(Unregister, { input: { pushSubscriptionId: s1.id } }, { token: alice.token })).toBe('NOT_FOUND');
    expect((await mine(alice)).map((s) => s.id)).not.toEqual(expect.arrayContaining([s1.id]));
  });

  it('a subscription is visible to its owner only (node), and the mutations are for signed-in users', async () => {
    const b = browser();
    const sub = await register(alice, b);
    expect((await server.ok(Node, { id: sub.id }, { token: alice.token })).node).toEqual({ id: sub.id, endpoint: b.endpoint });
    expect(await server.errorCode(Node, { id: sub.id }, { token: bob.token })).toBe('NOT_FOUND');

    expect(await server.errorCode(Register, { input: browser().input }, {})).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Unregister, { input: { pushSubscriptionId: sub.id } }, {})).toBe('UNAUTHENTICATED');
    const key = await createApiKey(server, owner, orgId, ['READ', 'WRITE', 'NOTIFY']);
    expect(await server.errorCode(Register, { input: browser().input }, { apiKey: key.key })).toBe('FORBIDDEN');
    expect(await server.errorCode(Unregister, { input: { pushSubscriptionId: sub.id } }, { apiKey: key.key })).toBe('FORBIDDEN');
    // pushConfig is public.
    expect((await server.ok(PushConfig, {}, {})).pushConfig).toMatchObject({ enabled: true, vapidPublicKey });
    expect((await mine(alice)).map((s) => s.id)).toContain(sub.id);
  });
});

// Last: these start other servers on the same database. The process has one database client (the last server's),
// which a server closes when it stops: the first server is not used after them.
describe('VAPID keys, and a server without push.allow_private', () => {
  it('are generated into the data directory on first start (0600), and the same key is served after a restart', async () => {
    const file = join(dataDir, 'vapid.json');
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored.publicKey).toBe(vapidPublicKey);
    expect(Buffer.from(vapidPublicKey, 'base64url')).toHaveLength(65);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = await startServer({ database: server.database, overrides: { dataDir } });
    try {
      expect((await again.ok(PushConfig, {})).pushConfig).toMatchObject({ enabled: true, vapidPublicKey });
    } finally {
      await again.stop();
    }
  });

  it('starting at once on a fresh data directory, every process ends with the one key pair written', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'confab-push-race-'));
    // What each of several processes does at start, all at once (one process here: the file system is what races).
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadVapidKeys(testConfig('file:unused.db', { dataDir: fresh }))));
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
    expect(JSON.parse(readFileSync(join(fresh, 'vapid.json'), 'utf8'))).toMatchObject(keys[0]);
    expect(readdirSync(fresh)).toEqual(['vapid.json']);
    const started = await startServer({ database: server.database, overrides: { dataDir: fresh } });
    try {
      expect((await started.ok(PushConfig, {})).pushConfig.vapidPublicKey).toBe(keys[0].publicKey);
    } finally {
      await started.stop();
    }
  });

  it('with push disabled: pushConfig says so, and no key is generated', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'confab-push-off-'));
    const off = await startServer({ database: server.database, overrides: { dataDir: fresh, push: { enabled: false } } });
    try {
      expect((await off.ok(PushConfig, {})).pushConfig).toMatchObject({ enabled: false, vapidPublicKey: null });
      expect(existsSync(join(fresh, 'vapid.json'))).toBe(false);
    } finally {
      await off.stop();
    }
  });

  it('refuses endpoints on private addresses unless push.allow_private', async () => {
    const strict = await startServer({ database: server.database, overrides: { dataDir } });
    try {
      const ivy = await registerUser(strict, { name: 'Ivy' });
      for (const endpoint of ['https://127.0.0.1/push/x', 'https://[::1]/push/x', 'https://10.0.0.8/push/x', 'https://169.254.169.254/x', 'https://localhost/push/x']) {
        const res = await strict.gql(Register, { input: { ...browser().input, endpoint } }, { token: ivy.token });
        expect(res.errors?.[0]?.extensions?.code, endpoint).toBe('BAD_USER_INPUT');
      }
      expect((await strict.ok(Mine, {}, { token: ivy.token })).me!.pushSubscriptions).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
