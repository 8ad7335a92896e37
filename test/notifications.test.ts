import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Notify = graphql(`
  mutation NotificationsNotify($input: NotifyInput!) { notify(input: $input) { topic recipientCount } }
`);
const SubscribeTopic = graphql(`
  mutation NotificationsSubscribeTopic($input: SubscribeTopicInput!) { subscribeTopic(input: $input) { id topic } }
`);
const UnsubscribeTopic = graphql(`
  mutation NotificationsUnsubscribeTopic($input: UnsubscribeTopicInput!) { unsubscribeTopic(input: $input) { deletedId } }
`);
const Ack = graphql(`
  mutation NotificationsAck($input: AckNotificationInput!) { ackNotification(input: $input) { id acked ackedAt } }
`);
const Mine = graphql(`
  query NotificationsMine($unackedOnly: Boolean) {
    me { notifications(first: 50, unackedOnly: $unackedOnly) { edges { node { id topic payload acked } } } }
  }
`);
const Node = graphql(`
  query NotificationsNode($id: ID!) { node(id: $id) { id } }
`);
const Live = graphql(`
  subscription NotificationsLive($orgId: ID) { notifications(orgId: $orgId) { id topic payload } }
`);
const CreateRoom = graphql(`
  mutation NotificationsCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);

let server: TestServer;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;
let orgId: string;

beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 2);
  owner = o.owner;
  [alice, bob] = o.members;
  orgId = o.org.id;
});

const mine = async (u: TestUser, unackedOnly = false) =>
  (await server.ok(Mine, { unackedOnly }, { token: u.token })).me!.notifications.edges.map((e) => e.node);

describe('notifications', () => {
  it('stores a notification per recipient until acknowledged, and delivers it to someone who connects later', async () => {
    const { notify } = await server.ok(Notify, { input: { orgId, topic: 'deploy', payload: { v: 1 }, targets: { userIds: [alice.id, alice.id] } } }, { token: owner.token });
    expect(notify).toEqual({ topic: 'deploy', recipientCount: 1 });
    const [stored] = await mine(alice);
    expect(stored).toMatchObject({ topic: 'deploy', payload: { v: 1 }, acked: false });
    expect(await mine(bob)).toEqual([]);

    const sub = subscribe(server.ws({ token: alice.token }), Live, {});
    expect((await sub.next()).data!.notifications).toEqual({ id: stored.id, topic: 'deploy', payload: { v: 1 } });
    await server.ok(Notify, { input: { orgId, topic: 'deploy', payload: { v: 2 }, targets: { userIds: [alice.id] } } }, { token: owner.token });
    expect((await sub.next()).data!.notifications).toMatchObject({ payload: { v: 2 } });
    await sub.expectSilence();
    sub.close();

    const { ackNotification } = await server.ok(Ack, { input: { notificationId: stored.id } }, { token: alice.token });
    expect(ackNotification.acked).toBe(true);
    const again = await server.ok(Ack, { input: { notificationId: stored.id } }, { token: alice.token });
    expect(again.ackNotification.ackedAt).toBe(ackNotification.ackedAt);
    expect((await mine(alice, true)).map((n) => n.payload)).toEqual([{ v: 2 }]);
    // After acknowledging, a new connection replays only what is still unacknowledged.
    const later = subscribe(server.ws({ token: alice.token }), Live, { orgId });
    expect((await later.next()).data!.notifications.payload).toEqual({ v: 2 });
    await later.expectSilence();
    later.close();

    expect(await server.errorCode(Ack, { input: { notificationId: stored.id } }, { token: bob.token })).toBe('NOT_FOUND');
    const hidden = await server.gql(Node, { id: stored.id }, { token: bob.token });
    expect(hidden.data?.node).toBeNull();
    expect(hidden.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect((await server.ok(Node, { id: stored.id }, { token: alice.token })).node).toEqual({ id: stored.id });
  });

  it('targets room members and topic subscribers, once each', async () => {
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'ops', memberIds: [alice.id] } }, { token: owner.token });
    const bobs = (await server.ok(SubscribeTopic, { input: { orgId, topic: 'alerts' } }, { token: bob.token })).subscribeTopic;
    const alices = (await server.ok(SubscribeTopic, { input: { orgId, topic: 'alerts' } }, { token: alice.token })).subscribeTopic;
    expect((await server.ok(SubscribeTopic, { input: { orgId, topic: 'alerts' } }, { token: alice.token })).subscribeTopic).toEqual(alices);
    // A subscription is a node its owner alone can read.
    expect((await server.ok(Node, { id: bobs.id }, { token: bob.token })).node).toEqual({ id: bobs.id });
    expect(await server.errorCode(Node, { id: bobs.id }, { token: alice.token })).toBe('NOT_FOUND');
    const { notify } = await server.ok(
      Notify,
      { input: { orgId, topic: 'alerts', payload: 'disk full', targets: { roomId: createRoom.id, topicSubscribers: true } } },
      { token: owner.token },
    );
    expect(notify.recipientCount).toBe(3);
    expect((await server.ok(UnsubscribeTopic, { input: { orgId, topic: 'alerts' } }, { token: bob.token })).unsubscribeTopic.deletedId).toBe(bobs.id);
    // Not subscribed (any more): nothing to remove.
    expect(await server.errorCode(UnsubscribeTopic, { input: { orgId, topic: 'alerts' } }, { token: bob.token })).toBe('NOT_FOUND');
    const second = await server.ok(Notify, { input: { orgId, topic: 'alerts', payload: 'again', targets: { topicSubscribers: true } } }, { token: owner.token });
    expect(second.notify.recipientCount).toBe(1);
    expect((await mine(bob)).filter((n) => n.topic === 'alerts').map((n) => n.payload)).toEqual(['disk full']);
  });

  it('lets org ADMINs and NOTIFY keys notify, and nobody else', async () => {
    const input = { orgId, topic: 'x', payload: {}, targets: { userIds: [bob.id] } };
    expect(await server.errorCode(Notify, { input }, { token: alice.token })).toBe('FORBIDDEN');
    const outsider = await registerUser(server);
    expect(await server.errorCode(Notify, { input }, { token: outsider.token })).toBe('NOT_FOUND');
    const readKey = await createApiKey(server, owner, orgId, ['READ']);
    expect(await server.errorCode(Notify, { input }, { apiKey: readKey.key })).toBe('FORBIDDEN');
    const notifyKey = await createApiKey(server, owner, orgId, ['NOTIFY']);
    expect((await server.ok(Notify, { input }, { apiKey: notifyKey.key })).notify.recipientCount).toBe(1);
    expect(await server.errorCode(Notify, { input: { ...input, targets: { userIds: [outsider.id] } } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Notify, { input: { ...input, targets: {} } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Notify, { input: { ...input, topic: 'bad topic!' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(SubscribeTopic, { input: { orgId, topic: 'x' } }, { token: outsider.token })).toBe('NOT_FOUND');
    const sub = subscribe(server.ws({ apiKey: notifyKey.key }), Live, {});
    await sub.ended;
    expect(sub.received[0].errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
