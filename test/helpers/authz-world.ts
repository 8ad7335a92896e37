import type { Auth } from './client.ts';
import { createThread, send } from './chat.ts';
import { addMember, createApiKey, createOrg, registerUser, type TestUser } from './fixtures.ts';
import { openSession, paidSession } from './paid.ts';
import type { TestServer } from './server.ts';

/**
 * Who tries to reach the victim org's data without being entitled to it. `actingOtherOrg`: the other
 * org's ACT_AS key acting as `dual`, an ADMIN of the victim org and a member of its room, who also
 * belongs to the other org: acting stays inside the key's org, so it reaches nothing of the victim's.
 */
export const OUTSIDERS = ['nonMember', 'otherOrg', 'keyNoScope', 'keyOtherProject', 'sessionToken', 'anonymous', 'actingOtherOrg'] as const;
export type Outsider = (typeof OUTSIDERS)[number];

/**
 * Two orgs and every kind of resource in the victim one, each with a spare where a mutation destroys
 * it (so members can prove the arguments valid after the outsiders failed). Everything readable carries
 * `mark`, so a response that contains it leaked.
 */
export interface AuthzWorld {
  mark: string;
  owner: TestUser;
  member: TestUser;
  /** Org member outside the room (added to it and removed again by members). */
  extra: TestUser;
  /** Org member that `removeMember` removes. */
  leaver: TestUser;
  /** Registered with the email of the pending invite `inviteToken`. */
  invitee: TestUser;
  /** ADMIN of the victim org and member of its room, and member of the other org (see `actingOtherOrg`). */
  dual: TestUser;
  orgId: string;
  roomId: string;
  channelId: string;
  /** A group that members archive and unarchive. */
  spareRoomId: string;
  /** A group that members delete. */
  doomedRoomId: string;
  messageId: string;
  spareMessageId: string;
  /** An entry of the org's audit log (the pin of spareMessageId). */
  auditEntryId: string;
  threadId: string;
  threadBId: string;
  spareThreadId: string;
  threadMessageId: string;
  assistantMessageId: string;
  contextNodeId: string;
  spareContextNodeId: string;
  /** A link from the thread to threadB. */
  threadRelationId: string;
  projectId: string;
  project2Id: string;
  spareProjectId: string;
  kvId: string;
  spareKvId: string;
  webhookId: string;
  spareWebhookId: string;
  deliveryId: string;
  apiKeyId: string;
  spareApiKeyId: string;
  inviteToken: string;
  spareInviteId: string;
  providerKeyId: string;
  notificationId: string;
  sessionId: string;
  sessionToken: string;
  invoiceId: string;
  otherOrgId: string;
  /** Keys of the victim org used as the members' API keys. */
  keys: { read: string; rw: string; notify: string };
  /** The victim org's own ACT_AS key acting as its OWNER: reaches the org's rooms, and nothing else. */
  auth: Record<Outsider | 'owner' | 'member' | 'invitee' | 'holder' | 'actingOwner', Auth & { connectionParams?: Record<string, unknown> }>;
  users: Record<Outsider, TestUser | undefined>;
}

const q = async (server: TestServer, doc: string, variables: Record<string, unknown>, auth: Auth) => server.ok<any, any>(doc, variables, auth);

export async function buildAuthzWorld(server: TestServer): Promise<AuthzWorld> {
  const mark = `VICTIM${Math.random().toString(36).slice(2, 10)}`;
  const [owner, member, extra, leaver, invitee, nonMember, otherOwner, dual] = await Promise.all(
    ['Owner', 'Member', 'Extra', 'Leaver', 'Invitee', 'Stranger', 'Other', 'Dual'].map((name) => registerUser(server, { name: name === 'Owner' ? `${name} ${mark}` : name })),
  );
  const org = await createOrg(server, owner, `Org ${mark}`);
  const orgId = org.id;
  for (const u of [member, extra, leaver]) await addMember(server, orgId, owner, u);
  await addMember(server, orgId, owner, dual, 'ADMIN');
  const otherOrg = await createOrg(server, otherOwner, 'Other org');
  await addMember(server, otherOrg.id, otherOwner, dual);
  const o = { token: owner.token };

  const { createRoom: room } = await q(server, `mutation($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, { input: { orgId, name: `Room ${mark}`, type: 'GROUP', memberIds: [member.id, dual.id] } }, o);
  const { createRoom: channel } = await q(server, `mutation($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, { input: { orgId, name: `Chan ${mark}`, type: 'CHANNEL' } }, o);
  const newGroup = async (name: string) =>
    (await q(server, `mutation($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, { input: { orgId, name: `${name} ${mark}`, type: 'GROUP', memberIds: [member.id] } }, o)).createRoom.id as string;
  const [spareRoomId, doomedRoomId] = [await newGroup('Spare room'), await newGroup('Doomed room')];
  const sendRoom = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
  const { sendMessage: msg } = await q(server, sendRoom, { input: { roomId: room.id, content: `hello ${mark}` } }, o);
  const { sendMessage: spareMsg } = await q(server, sendRoom, { input: { roomId: room.id, content: `bye ${mark}` } }, o);
  // A pin: an entry in the org's audit log.
  await q(server, `mutation($input: PinMessageInput!) { pinMessage(input: $input) { id } }`, { input: { messageId: spareMsg.id } }, o);
  const auditEntryId = (await q(server, `query($id: ID!) { org(id: $id) { auditLog(first: 1) { edges { node { id } } } } }`, { id: orgId }, o)).org.auditLog.edges[0].node.id as string;

  const project = `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`;
  const [p1, p2, p3] = await Promise.all(['P1', 'P2', 'P3'].map(async (n) => (await q(server, project, { input: { orgId, name: `${n} ${mark}` } }, o)).createProject.id));
  const thread = await createThread(server, owner.token, orgId, `Thread ${mark}`, p1);
  const threadB = await createThread(server, owner.token, orgId, `ThreadB ${mark}`, p1);
  const spareThread = await createThread(server, owner.token, orgId, `Spare ${mark}`, p1);
  const turn = await send(server, o, thread.id, `question ${mark}`);
  const ctx = `mutation($input: AddContextNodeInput!) { addContextNode(input: $input) { id } }`;
  const [c1, c2] = await Promise.all(['a', 'b'].map(async (n) => (await q(server, ctx, { input: { threadId: thread.id, kind: 'note', title: n, content: `ctx ${mark}` } }, o)).addContextNode.id));
  const link = `mutation($input: LinkThreadsInput!) { linkThreads(input: $input) { id } }`;
  const threadRelationId = (await q(server, link, { input: { fromThreadId: thread.id, toThreadId: threadB.id, kind: 'RELATES_TO' } }, o)).linkThreads.id;
  // A share of the project for unshareProject to remove.
  await q(server, `mutation($input: ShareProjectInput!) { shareProject(input: $input) { id } }`, { input: { projectId: p1, userId: extra.id, access: 'READ' } }, o);

  const kv = `mutation($input: CreateKvInstanceInput!) { createKvInstance(input: $input) { id } }`;
  const kvId = (await q(server, kv, { input: { projectId: p1, name: 'main' } }, o)).createKvInstance.id;
  const spareKvId = (await q(server, kv, { input: { projectId: p1, name: 'spare' } }, o)).createKvInstance.id;
  const setKey = `mutation($input: SetKvKeyInput!) { setKvKey(input: $input) { name } }`;
  for (const name of ['k1', 'k2']) await q(server, setKey, { input: { kvInstanceId: kvId, name, value: `value ${mark}` } }, o);
  await q(server, setKey, { input: { kvInstanceId: spareKvId, name: 'k', value: `value ${mark}` } }, o);

  const hook = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;
  const hookInput = (n: string) => ({ input: { orgId, url: 'http://127.0.0.1:9/hook', events: ['MEMBER_JOINED'], description: `${n} ${mark}` } });
  const webhookId = (await q(server, hook, hookInput('main'), o)).createWebhook.webhook.id;
  const spareWebhookId = (await q(server, hook, hookInput('spare'), o)).createWebhook.webhook.id;

  const invite = `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token invite { id } } }`;
  const { inviteMember: inv1 } = await q(server, invite, { input: { orgId, email: invitee.email, role: 'MEMBER' } }, o);
  const { inviteMember: inv2 } = await q(server, invite, { input: { orgId, email: `nobody-${mark.toLowerCase()}@example.com`, role: 'MEMBER' } }, o);
  // A member joining makes a webhook delivery (to read its id below).
  const joiner = await registerUser(server, { name: 'Joiner' });
  await addMember(server, orgId, owner, joiner);

  const apiKeyId = (await createApiKey(server, owner, orgId, ['READ'])).apiKey.id;
  const spareApiKeyId = (await createApiKey(server, owner, orgId, ['READ'])).apiKey.id;
  const keys = {
    read: (await createApiKey(server, owner, orgId, ['READ'])).key,
    rw: (await createApiKey(server, owner, orgId, ['READ', 'WRITE', 'CHAT'])).key,
    notify: (await createApiKey(server, owner, orgId, ['NOTIFY'])).key,
  };
  const actAs = (key: string, user: TestUser) => ({ apiKey: key, headers: { 'x-acting-user': user.id }, connectionParams: { actingUser: user.id } });
  const victimActKey = (await createApiKey(server, owner, orgId, ['ACT_AS'])).key;
  const otherActKey = (await createApiKey(server, otherOwner, otherOrg.id, ['ACT_AS'])).key;
  const projectKey = await q(
    server,
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`,
    { input: { orgId, projectId: p2, name: 'p2', scopes: ['READ', 'WRITE', 'CHAT'] } },
    o,
  );
  const providerKeyId = (await q(server, `mutation($input: AddProviderKeyInput!) { addProviderKey(input: $input) { id } }`, { input: { orgId, provider: 'openai', key: 'sk-test-0000000000001234' } }, o)).addProviderKey.id;
  await q(server, `mutation($input: NotifyInput!) { notify(input: $input) { __typename } }`, { input: { orgId, topic: 'news', payload: { text: mark }, targets: { userIds: [owner.id] } } }, o);
  const notificationId = (await q(server, `{ me { notifications(first: 5) { edges { node { id } } } } }`, {}, o)).me.notifications.edges[0].node.id;
  await q(server, `mutation($input: SubscribeTopicInput!) { subscribeTopic(input: $input) { id } }`, { input: { orgId, topic: 'alerts' } }, o);

  const paid = await paidSession(server, 1000, o);
  const outsiderSession = await openSession(server, 1000);

  let deliveryId: string | undefined;
  for (let i = 0; !deliveryId && i < 100; i++) {
    const r = await q(server, `query($id: ID!) { node(id: $id) { ... on Webhook { deliveries(first: 1) { edges { node { id } } } } } }`, { id: webhookId }, o);
    deliveryId = r.node.deliveries.edges[0]?.node.id;
    if (!deliveryId) await new Promise((r) => setTimeout(r, 50));
  }
  if (!deliveryId) throw new Error('no webhook delivery was recorded');

  return {
    mark,
    owner,
    member,
    extra,
    leaver,
    invitee,
    dual,
    orgId,
    roomId: room.id,
    channelId: channel.id,
    spareRoomId,
    doomedRoomId,
    messageId: msg.id,
    spareMessageId: spareMsg.id,
    auditEntryId,
    threadId: thread.id,
    threadBId: threadB.id,
    spareThreadId: spareThread.id,
    threadMessageId: turn.userMessage.id,
    assistantMessageId: turn.assistantMessage!.id,
    contextNodeId: c1,
    spareContextNodeId: c2,
    threadRelationId,
    projectId: p1,
    project2Id: p2,
    spareProjectId: p3,
    kvId,
    spareKvId,
    webhookId,
    spareWebhookId,
    deliveryId,
    apiKeyId,
    spareApiKeyId,
    inviteToken: inv1.token,
    spareInviteId: inv2.invite.id,
    providerKeyId,
    notificationId,
    sessionId: paid.session.id,
    sessionToken: paid.token,
    invoiceId: paid.invoice.id,
    otherOrgId: otherOrg.id,
    keys,
    auth: {
      owner: o,
      member: { token: member.token },
      invitee: { token: invitee.token },
      holder: { token: paid.token },
      nonMember: { token: nonMember.token },
      otherOrg: { token: otherOwner.token },
      keyNoScope: { apiKey: keys.notify },
      keyOtherProject: { apiKey: projectKey.createApiKey.key },
      sessionToken: { token: outsiderSession.token },
      anonymous: {},
      actingOtherOrg: actAs(otherActKey, dual),
      actingOwner: actAs(victimActKey, owner),
    },
    users: { nonMember, otherOrg: otherOwner, keyNoScope: undefined, keyOtherProject: undefined, sessionToken: undefined, anonymous: undefined, actingOtherOrg: undefined },
  };
}
