import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { createECDH, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { schema } from '../src/modules/index.ts';
import { lightningModule } from '../src/modules/lightning/lightning.module.ts';
import { hideFields } from '../src/schema/hide.ts';
import { buildAuthzWorld, OUTSIDERS, type AuthzWorld, type Outsider } from './helpers/authz-world.ts';
import { subscribe, type Auth } from './helpers/client.ts';
import { addMember, createApiKey, PASSWORD, registerUser } from './helpers/fixtures.ts';
import { nostrChallenge, nostrKey, signChallenge } from './helpers/nostr.ts';
import { openSession } from './helpers/paid.ts';
import { startServer, testConfig, type TestServer } from './helpers/server.ts';

/**
 * Every root field of the schema, tried by each outsider against the victim org's resources: none may
 * see or change anything. Each entry builds valid arguments (a member succeeds with them afterwards,
 * which proves they are valid) and says who succeeds. `public`: anyone may call it, it reaches nothing
 * of the victim; `self`: it acts on the caller only. A root field without an entry fails the suite.
 */
type W = AuthzWorld;
type Vars = Record<string, unknown>;
interface Entry {
  args: (w: W) => Vars | Promise<Vars>;
  /** Who succeeds with these arguments (checked after every outsider failed); `skip` with the reason. */
  as?: 'owner' | 'member' | 'invitee' | 'holder' | 'anonymous' | { skip: string };
  /** The outsiders' expected outcome: refused (default), or allowed because the field reaches nothing of the victim's. */
  kind?: 'denied' | 'public' | 'self';
  /** What signed-in users outside the org get (default NOT_FOUND: an outsider cannot tell what exists). */
  strangers?: 'FORBIDDEN';
  /** The API key that lacks what the field needs (default: the NOTIFY-only one). */
  key?: 'read' | 'rw';
  /** Subscriptions: something of the victim that would be an event for the subscriber. */
  trigger?: (w: W) => Promise<unknown>;
}

const input = (f: (w: W) => Vars) => (w: W) => ({ input: f(w) });
/** Made on first use, then the same for every caller (the outsiders, then the member who succeeds). */
const once = <T,>(make: (w: W) => Promise<T>) => {
  let made: Promise<T> | undefined;
  return (w: W) => (made ??= make(w));
};
/** A fresh org member in the victim's room, for a moderation entry of its own (`then`: what the owner does to them first). */
const roomTarget = (name: string, then?: (w: W, userId: string) => Promise<unknown>) =>
  once(async (w) => {
    const u = await registerUser(server, { name });
    await addMember(server, w.orgId, w.owner, u);
    await gql(`mutation($input: AddRoomMembersInput!) { addRoomMembers(input: $input) { id } }`, { input: { roomId: w.roomId, userIds: [u.id] } }, w.auth.owner);
    await then?.(w, u.id);
    return u.id;
  });
const moderated = roomTarget('Moderated');
const banned = roomTarget('Banned');
const unbanned = roomTarget('Unbanned', (w, userId) =>
  gql(`mutation($input: BanRoomMemberInput!) { banRoomMember(input: $input) { id } }`, { input: { roomId: w.roomId, userId } }, w.auth.owner));
const unmuted = roomTarget('Unmuted', (w, userId) =>
  gql(`mutation($input: MuteRoomMemberInput!) { muteRoomMember(input: $input) { id } }`, { input: { roomId: w.roomId, userId } }, w.auth.owner));
/** An OPEN report of a fresh message of the owner's, filed by the member. */
const openReport = once(async (w) => {
  const { sendMessage } = await gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId: w.roomId, content: 'reported' } }, w.auth.owner);
  const { reportMessage } = await gql(`mutation($input: ReportMessageInput!) { reportMessage(input: $input) { id } }`, { input: { messageId: sendMessage.id, reason: 'spam' } }, w.auth.member);
  return reportMessage.id as string;
});
const fresh = () => Math.random().toString(36).slice(2, 10);
const gql = (doc: string, vars: Vars, auth: Auth) => server.ok<any, any>(doc, vars, auth);

const MATRIX: Record<'Query' | 'Mutation' | 'Subscription', Record<string, Entry>> = {
  Query: {
    me: { args: () => ({}), kind: 'self' },
    models: { args: () => ({}), kind: 'public' },
    node: { args: (w) => ({ id: w.threadId }), kind: 'self' },
    nodes: { args: (w) => ({ ids: victimIds(w) }), kind: 'self' },
    org: { args: (w) => ({ id: w.orgId }) },
    project: { args: (w) => ({ id: w.projectId }) },
    providerKeys: { args: (w) => ({ orgId: w.orgId }) },
    pushConfig: { args: () => ({}), kind: 'public' },
    room: { args: (w) => ({ id: w.roomId }) },
    searchMessages: { args: (w) => ({ orgId: w.orgId, query: 'hello' }) },
    session: { args: (w) => ({ id: w.sessionId }), as: 'holder' },
    thread: { args: (w) => ({ id: w.threadId }) },
  },
  Mutation: {
    // Whoever holds an invite's token knows it exists: someone else's is FORBIDDEN (another email).
    acceptInvite: { args: input((w) => ({ token: w.inviteToken })), as: 'invitee', strangers: 'FORBIDDEN' },
    ackNotification: { args: input((w) => ({ notificationId: w.notificationId })) },
    addContextNode: { args: input((w) => ({ threadId: w.threadId, kind: 'note', title: 't', content: 'c' })) },
    addProviderKey: { args: input((w) => ({ orgId: w.orgId, provider: 'openai', key: 'sk-test-0000000000005678' })) },
    addReaction: { args: input((w) => ({ messageId: w.messageId, emoji: '👍' })) },
    addRoomMembers: { args: input((w) => ({ roomId: w.roomId, userIds: [w.extra.id] })) },
    analyzeKvImage: { args: input((w) => ({ kvInstanceId: w.kvId, imageUrl: 'https://example.com/x.png', outputKey: 'out' })), as: { skip: 'needs a vision model' } },
    appendThreadMessage: { args: input((w) => ({ threadId: w.threadId, role: 'USER', content: 'appended' })) },
    archiveRoom: { args: input((w) => ({ roomId: w.spareRoomId })) },
    banRoomMember: { args: async (w) => ({ input: { roomId: w.roomId, userId: await banned(w), reason: 'spam' } }) },
    attachKvInstance: { args: input((w) => ({ threadId: w.threadId, kvInstanceId: w.kvId })) },
    blockUser: { args: input((w) => ({ userId: w.extra.id })) },
    cancelGeneration: { args: input((w) => ({ messageId: w.assistantMessageId })) },
    // A wrong current password: each caller acts on their own account only, and nobody's password changes.
    changePassword: { args: input(() => ({ currentPassword: 'not the password', newPassword: 'a new password!' })), kind: 'self', as: { skip: 'a wrong password is the point' } },
    clearKvInstance: { args: input((w) => ({ kvInstanceId: w.spareKvId })) },
    clearSessionHistory: { args: input((w) => ({ sessionId: w.sessionId })), as: 'holder' },
    createApiKey: { args: input((w) => ({ orgId: w.orgId, name: 'k', scopes: ['READ'] })) },
    createKvInstance: { args: input((w) => ({ projectId: w.projectId, name: `kv-${fresh()}` })) },
    // Public: a challenge is stored nowhere and reaches nothing; an answer proves a key the caller holds (each call signs a fresh challenge).
    createNostrChallenge: { args: input(() => ({})), kind: 'public', as: 'anonymous' },
    createOrg: { args: input(() => ({ name: 'Own org', slug: `own-${fresh()}` })), kind: 'self' },
    // Its OWNER deleting the org would end the matrix: test/org-lifecycle.test.ts deletes orgs as their OWNER.
    deleteOrg: { args: async (w) => ({ input: { orgId: w.orgId, confirmSlug: await victimSlug(w) } }), as: { skip: "it would delete the matrix's org" } },
    createProject: { args: input((w) => ({ orgId: w.orgId, name: 'p' })) },
    createRoom: { args: input((w) => ({ orgId: w.orgId, name: 'r', type: 'GROUP', memberIds: [w.owner.id] })) },
    createUpload: { args: input((w) => ({ orgId: w.orgId, filename: 'a.txt', contentType: 'text/plain', byteSize: 10 })) },
    createThread: { args: input((w) => ({ orgId: w.orgId, projectId: w.projectId, title: 't' })) },
    createWebhook: { args: input((w) => ({ orgId: w.orgId, url: 'http://127.0.0.1:9/x', events: ['MEMBER_JOINED'] })) },
    deleteAccount: { args: input(() => ({ password: 'not the password' })), kind: 'self', as: { skip: 'a wrong password is the point' } },
    deleteKvInstance: { args: input((w) => ({ kvInstanceId: w.spareKvId })) },
    deleteKvKey: { args: input((w) => ({ kvInstanceId: w.kvId, name: 'k2' })) },
    deleteMessage: { args: input((w) => ({ messageId: w.spareMessageId })) },
    deleteProject: { args: input((w) => ({ projectId: w.spareProjectId })) },
    deleteRoom: { args: input((w) => ({ roomId: w.doomedRoomId })) },
    deleteThread: { args: input((w) => ({ threadId: w.spareThreadId })) },
    deleteWebhook: { args: input((w) => ({ webhookId: w.spareWebhookId })) },
    detachKvInstance: { args: input((w) => ({ threadId: w.threadId, kvInstanceId: w.kvId })) },
    editMessage: { args: input((w) => ({ messageId: w.messageId, content: 'edited' })) },
    exportMyData: { args: input(() => ({})), kind: 'self' },
    generateKvImage: { args: input((w) => ({ kvInstanceId: w.kvId, prompt: 'a cat', outputKey: 'img' })), as: { skip: 'needs an image model' } },
    inviteMember: { args: input((w) => ({ orgId: w.orgId, email: `new-${fresh()}@example.com`, role: 'MEMBER' })) },
    joinRoom: { args: input((w) => ({ roomId: w.channelId })), as: 'member' },
    leaveRoom: { args: input((w) => ({ roomId: w.channelId })), as: 'member' },
    linkThreads: { args: input((w) => ({ fromThreadId: w.threadId, toThreadId: w.threadBId, kind: 'CHILD_OF' })) },
    login: { args: input((w) => ({ email: w.owner.email, password: 'not the password' })), kind: 'self', as: { skip: 'a wrong password is the point' } },
    logout: { args: input(() => ({ refreshToken: 'not-a-refresh-token' })), kind: 'self', as: 'anonymous' },
    markRead: { args: input((w) => ({ roomId: w.roomId, seq: 1 })) },
    notify: { args: input((w) => ({ orgId: w.orgId, topic: 'news', payload: { x: 1 }, targets: { userIds: [w.owner.id] } })), key: 'rw' },
    openDirectRoom: { args: input((w) => ({ orgId: w.orgId, userId: w.owner.id })), as: 'member' },
    openPaidSession: { args: input((w) => ({ amountSats: 1000, threadId: w.threadId })) },
    pinMessage: { args: input((w) => ({ messageId: w.messageId })) },
    // The member reports the owner's message (one may not report one's own).
    reportMessage: { args: input((w) => ({ messageId: w.messageId, reason: 'spam' })), as: 'member' },
    redeliverWebhookDelivery: { args: input((w) => ({ deliveryId: w.deliveryId })) },
    refreshAccessToken: { args: input(() => ({ refreshToken: 'not-a-refresh-token' })), kind: 'self', as: { skip: 'an unknown token is the point' } },
    register: { args: input(() => ({ email: `reg-${fresh()}@example.com`, password: PASSWORD, name: 'R' })), kind: 'self', as: 'anonymous' },
    // Each caller registers a browser of its own (a fresh endpoint: one registered by someone else would move to the caller).
    registerPushSubscription: { args: input(() => pushSubscriptionInput()), kind: 'self' },
    removeContextNode: { args: input((w) => ({ contextNodeId: w.spareContextNodeId })) },
    removeMember: { args: input((w) => ({ orgId: w.orgId, userId: w.leaver.id })) },
    removeProviderKey: { args: input((w) => ({ providerKeyId: w.providerKeyId })) },
    removeReaction: { args: input((w) => ({ messageId: w.messageId, emoji: '👍' })) },
    removeRoomMember: { args: input((w) => ({ roomId: w.roomId, userId: w.extra.id })) },
    resolveReport: { args: async (w) => ({ input: { reportId: await openReport(w), action: 'DISMISS' } }) },
    requestEmailVerification: { args: input(() => ({})), kind: 'self' },
    // The same answer for every address; a fresh one each time, so that the per-email limit is not what answers.
    requestPasswordReset: { args: input(() => ({ email: `nobody-${fresh()}@example.com` })), kind: 'public', as: 'anonymous' },
    resetPassword: { args: input(() => ({ token: 'cfp_not-a-token', newPassword: 'a new password!' })), kind: 'public', as: { skip: 'an unknown token is the point' } },
    revokeApiKey: { args: input((w) => ({ apiKeyId: w.spareApiKeyId })) },
    revokeInvite: { args: input((w) => ({ inviteId: w.spareInviteId })) },
    rotateWebhookSecret: { args: input((w) => ({ webhookId: w.webhookId })) },
    sendMessage: { args: input((w) => ({ roomId: w.roomId, content: 'hi' })) },
    sendSessionMessage: { args: input((w) => ({ sessionId: w.sessionId, content: 'hi' })), as: 'holder' },
    sendThreadMessage: { args: input((w) => ({ threadId: w.threadId, content: 'hi' })) },
    setKvKey: { args: input((w) => ({ kvInstanceId: w.kvId, name: 'k1', value: 'new' })) },
    setOrgPlan: { args: input((w) => ({ orgId: w.orgId, plan: 'PRO' })) },
    setPresence: { args: input(() => ({ status: 'AWAY' })), kind: 'self' },
    muteRoomMember: { args: async (w) => ({ input: { roomId: w.roomId, userId: await moderated(w), expiresAt: new Date(Date.now() + 3_600_000).toISOString() } }) },
    // Frozen: false is what the room is: the owner's call succeeds and changes nothing.
    setRoomFrozen: { args: input((w) => ({ roomId: w.roomId, frozen: false })) },
    setRoomMemberRole: { args: async (w) => ({ input: { roomId: w.roomId, userId: await moderated(w), role: 'MODERATOR' } }) },
    setTyping: { args: input((w) => ({ roomId: w.roomId, typing: true })) },
    // Paying is not a privilege (anyone holding a payment request may pay it), and it exists only with
    // the dev backend outside production (see the test below); each caller pays an invoice of its own.
    setProjectPublicAccess: { args: input((w) => ({ projectId: w.projectId, access: null })) },
    settleDevInvoice: { args: async () => ({ input: { paymentHash: (await openSession(server, 500)).invoice.paymentHash } }), kind: 'public', as: 'anonymous' },
    shareProject: { args: input((w) => ({ projectId: w.projectId, userId: w.member.id, access: 'READ' })) },
    subscribeTopic: { args: input((w) => ({ orgId: w.orgId, topic: 'news' })) },
    topUpSession: { args: input((w) => ({ sessionId: w.sessionId, amountSats: 500 })), as: 'holder' },
    transformKv: { args: input((w) => ({ kvInstanceId: w.kvId, template: 'say {{k1}}', outputKey: 'out' })) },
    // Its OWNER would become ADMIN, and the matrix needs its OWNER: test/org-lifecycle.test.ts transfers orgs.
    transferOrgOwnership: { args: input((w) => ({ orgId: w.orgId, userId: w.member.id })), as: { skip: "it would demote the matrix's owner" } },
    unarchiveRoom: { args: input((w) => ({ roomId: w.spareRoomId })) },
    unblockUser: { args: input((w) => ({ userId: w.extra.id })) },
    // The owner's own subscription, made fresh for each call: every outsider is refused (NOT_FOUND to people), the owner removes it.
    unregisterPushSubscription: { args: async (w) => ({ input: { pushSubscriptionId: await ownerPushSubscription(w) } }) },
    unbanRoomMember: { args: async (w) => ({ input: { roomId: w.roomId, userId: await unbanned(w) } }) },
    unmuteRoomMember: { args: async (w) => ({ input: { roomId: w.roomId, userId: await unmuted(w) } }) },
    unlinkThreads: { args: input((w) => ({ threadRelationId: w.threadRelationId })) },
    unpinMessage: { args: input((w) => ({ messageId: w.messageId })) },
    unshareProject: { args: input((w) => ({ projectId: w.projectId, userId: w.extra.id })) },
    // The owner subscribed to `alerts` in the world; outsiders unsubscribe themselves only (NOT_FOUND: they are not subscribed).
    unsubscribeTopic: { args: input((w) => ({ orgId: w.orgId, topic: 'alerts' })) },
    updateContextNode: { args: input((w) => ({ contextNodeId: w.contextNodeId, title: 'renamed' })) },
    updateKvInstance: { args: input((w) => ({ kvInstanceId: w.kvId, name: 'renamed' })) },
    updateMemberRole: { args: input((w) => ({ orgId: w.orgId, userId: w.member.id, role: 'MEMBER' })) },
    updateOrg: { args: input((w) => ({ orgId: w.orgId, retentionDays: 3650 })) },
    // Nothing to change: each caller's own profile stays as it is.
    updateProfile: { args: input(() => ({})), kind: 'self' },
    updateProject: { args: input((w) => ({ projectId: w.projectId, name: 'renamed' })) },
    updateRoom: { args: input((w) => ({ roomId: w.roomId, topic: 'renamed' })) },
    updateThread: { args: input((w) => ({ threadId: w.threadId, title: 'renamed' })) },
    updateWebhook: { args: input((w) => ({ webhookId: w.webhookId, enabled: false })) },
    verifyNostrChallenge: {
      args: async () => ({ input: { event: signChallenge(nostrKey().secretKey, (await nostrChallenge(server)).challenge) } }),
      kind: 'public',
      as: 'anonymous',
    },
    verifyEmail: { args: input(() => ({ token: 'cfv_not-a-token' })), kind: 'self', as: { skip: 'an unknown token is the point' } },
  },
  Subscription: {
    // A user's own inbox: outsiders may subscribe but hear nothing of the victim's rooms.
    inbox: { args: () => ({}), kind: 'self', trigger: (w) => gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId: w.roomId, content: 'inbox' } }, w.auth.owner) },
    invoiceUpdated: { args: (w) => ({ invoiceId: w.invoiceId }), as: 'holder' },
    kvEvents: { args: (w) => ({ kvInstanceId: w.kvId, afterVersion: 0 }), trigger: (w) => gql(`mutation($input: SetKvKeyInput!) { setKvKey(input: $input) { name } }`, { input: { kvInstanceId: w.kvId, name: 'k1', value: 'x' } }, w.auth.owner) },
    membershipChanged: { args: (w) => ({ orgId: w.orgId }), trigger: (w) => gql(`mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }`, { input: { orgId: w.orgId, userId: w.member.id, role: 'ADMIN' } }, w.auth.owner) },
    // A user's own notifications, optionally of one org: outsiders may subscribe but hear nothing of the victim's.
    notifications: { args: (w) => ({ orgId: w.orgId }), kind: 'self', trigger: (w) => gql(`mutation($input: NotifyInput!) { notify(input: $input) { __typename } }`, { input: { orgId: w.orgId, topic: 'news', payload: { x: 2 }, targets: { userIds: [w.owner.id, w.member.id] } } }, w.auth.owner) },
    presence: { args: (w) => ({ orgId: w.orgId }), trigger: (w) => memberOnlineThenAway(w) },
    roomEvents: { args: (w) => ({ roomId: w.roomId, afterSeq: 0 }), trigger: (w) => gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId: w.roomId, content: 'live' } }, w.auth.owner) },
    sessionEvents: { args: (w) => ({ sessionId: w.sessionId }), as: 'holder' },
    threadEvents: { args: (w) => ({ threadId: w.threadId }), trigger: (w) => gql(`mutation($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { __typename } }`, { input: { threadId: w.threadId, role: 'USER', content: 'live' } }, w.auth.owner) },
  },
};

/** The victim org's slug (deleteOrg's confirmation), read as its owner. */
const victimSlug = async (w: W): Promise<string> => (await gql(`query AuthzSlug($id: ID!) { org(id: $id) { slug } }`, { id: w.orgId }, w.auth.owner)).org.slug;

/** A browser's push subscription (on loopback: the matrix's server allows private push endpoints, and nothing listens on port 9). */
const pushSubscriptionInput = () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint: `https://127.0.0.1:9/push/${fresh()}${fresh()}`, p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
};
async function ownerPushSubscription(w: W): Promise<string> {
  const Register = `mutation AuthzRegisterPush($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { id } }`;
  return (await gql(Register, { input: pushSubscriptionInput() }, w.auth.owner)).registerPushSubscription.id;
}

/** The member connects (ONLINE), then alternates AWAY and ONLINE: each call is a presence change. */
let memberConnection: ReturnType<typeof subscribe> | undefined;
let away = false;
async function memberOnlineThenAway(w: W) {
  memberConnection ??= subscribe(server.ws(w.auth.member), `subscription { notifications { id } }`);
  away = !away;
  return gql(`mutation($input: SetPresenceInput!) { setPresence(input: $input) { __typename } }`, { input: { status: away ? 'AWAY' : 'ONLINE' } }, w.auth.member);
}

/** Ids of one record of each kind in the victim org: node(id)/nodes(ids) must answer null for each. */
const victimIds = (w: W) => [
  w.orgId, w.roomId, w.messageId, w.threadId, w.threadMessageId, w.contextNodeId, w.projectId, w.kvId, w.webhookId,
  w.deliveryId, w.apiKeyId, w.spareInviteId, w.providerKeyId, w.notificationId, w.sessionId, w.invoiceId, w.owner.id, w.auditEntryId,
];

type Root = keyof typeof MATRIX;
const ROOTS: Root[] = ['Query', 'Mutation', 'Subscription'];
const rootFields = (root: Root) =>
  Object.values({ Query: schema.getQueryType(), Mutation: schema.getMutationType(), Subscription: schema.getSubscriptionType() }[root]!.getFields());

/** The operation for a root field: all its arguments as variables, and the returned object's leaf fields. */
function operation(root: Root, field: GraphQLField<unknown, unknown>) {
  const defs = field.args.map((a) => `$${a.name}: ${a.type}`).join(', ');
  const uses = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const type = getNamedType(field.type);
  const leaves = isObjectType(type)
    ? Object.values(type.getFields()).filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type))).map((f) => f.name)
    : [];
  const selection = isLeafType(type) ? '' : `{ __typename ${type.name === 'Node' ? 'id' : leaves.join(' ')} }`;
  return `${root.toLowerCase()} Authz${field.name}${defs ? `(${defs})` : ''} { ${field.name}${uses ? `(${uses})` : ''} ${selection} }`;
}

const REFUSED = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'];

/** Everything of the victim's an owner reads: any outsider's mutation that changed it shows here. */
const SNAPSHOT = [
  `query AuthzSnapOrg($org: ID!) {
    me { rooms(first: 30) { edges { node { id name } } } projects(first: 30) { edges { node { id name } } }
         notifications(first: 30) { edges { node { id acked } } } }
    org(id: $org) { name slug plan
      members(first: 30) { edges { node { role user { id } } } }
      invites(first: 30) { edges { node { id status role } } }
      apiKeys(first: 30) { edges { node { id name scopes revokedAt } } }
      threads(first: 30) { edges { node { id title status metadata messageCount } } } }
    providerKeys(orgId: $org) { id provider } }`,
  `query AuthzSnapHooks($org: ID!) {
    org(id: $org) { webhooks(first: 5) { edges { node { id url enabled description events deliveries(first: 20) { edges { node { id } } } } } } } }`,
  `query AuthzSnapRooms($room: ID!, $channel: ID!, $spareRoom: ID!, $doomedRoom: ID!) {
    room(id: $room) { name topic lastSeq archivedAt members(first: 30) { edges { node { role user { id } } } }
      messages(first: 50) { edges { node { seq content deleted reactions { emoji count } pinnedAt } } } }
    channel: room(id: $channel) { members(first: 30) { edges { node { user { id } } } } }
    spareRoom: room(id: $spareRoom) { archivedAt } doomedRoom: room(id: $doomedRoom) { id }
    me { blockedUsers(first: 10) { edges { node { id } } } } }`,
  `query AuthzSnapProject($project: ID!) {
    project(id: $project) { name description publicAccess shares { access user { id } }
      kvInstances(first: 5) { edges { node { id name version keys(first: 10) { edges { node { name value } } } } } } } }`,
  `query AuthzSnapThreads($thread: ID!, $threadB: ID!) {
    thread(id: $thread) { title status messageCount relations { kind to { id } } contexts { id title content } kvAttachments { kvInstance { id } }
      sessions(first: 20) { edges { node { id state } } } }
    threadB: thread(id: $threadB) { relations { kind } } }`,
];

let server: TestServer;
let w: W;
let baseline: unknown;
const snapshot = async () => {
  const vars = { org: w.orgId, room: w.roomId, channel: w.channelId, spareRoom: w.spareRoomId, doomedRoom: w.doomedRoomId, project: w.projectId, thread: w.threadId, threadB: w.threadBId };
  const [held, ...owned] = await Promise.all([
    gql(`query($id: ID!) { session(id: $id) { state balanceSats historyTokens invoices(first: 100) { edges { node { id state } } } } }`, { id: w.sessionId }, w.auth.holder),
    ...SNAPSHOT.map((doc) => gql(doc, vars, w.auth.owner)),
  ]);
  return { owned, held };
};

beforeAll(async () => {
  server = await startServer({ overrides: { webhooks: { allowPrivate: true }, push: { allowPrivate: true } } });
  w = await buildAuthzWorld(server);
  // The moderation entries' own members and report, made before the baseline (they change the room).
  for (const make of [moderated, banned, unbanned, unmuted, openReport]) await make(w);
  baseline = await snapshot();
});

describe('the matrix covers the schema', () => {
  it.each(ROOTS)('every %s field has an entry, and every entry a field', (root) => {
    expect(Object.keys(MATRIX[root]).sort()).toEqual(rootFields(root).map((f) => f.name).sort());
  });

  it('settleDevInvoice exists only with the dev backend outside production', () => {
    const served = (overrides: object) => hideFields(schema, lightningModule.hiddenFields!(testConfig('file:x.db', overrides)));
    expect(served({}).getMutationType()!.getFields().settleDevInvoice).toBeDefined();
    expect(served({ env: 'production', auth: { secretKey: 'x'.repeat(40) } }).getMutationType()!.getFields().settleDevInvoice).toBeUndefined();
    expect(served({ lightning: { backend: 'lnbits', lnbitsUrl: 'http://127.0.0.1:9', lnbitsApiKey: 'k' } }).getMutationType()!.getFields().settleDevInvoice).toBeUndefined();
  });
});

const cases = ROOTS.flatMap((root) => rootFields(root).map((field) => ({ root, name: field.name, field, entry: MATRIX[root][field.name] })));

/** The auth an outsider uses for this entry (the API key lacks what the entry needs). */
const authOf = (who: Outsider, entry: Entry): Auth => (who === 'keyNoScope' && entry.key ? { apiKey: w.keys[entry.key] } : w.auth[who]);

/** What an outsider got must not show the victim's data, nor carry codes outside the documented refusals. */
function expectNoLeak(root: Root, name: string, { kind, strangers }: Entry, who: Outsider, res: { data?: any; errors?: any[] }) {
  const body = JSON.stringify(res);
  expect(body, `${name} as ${who} shows the victim's data`).not.toContain(w.mark);
  if (kind === 'public') return;
  if (name === 'me') return expect(res.data?.me?.id ?? null).toBe(w.users[who]?.id ?? null);
  if (name === 'node' || name === 'nodes') {
    const got = name === 'node' ? [res.data?.node] : (res.data?.nodes ?? []);
    return expect(got.filter((n: unknown) => n != null), `${name} as ${who}`).toEqual([]);
  }
  if (kind === 'self') return;
  expect(res.data?.[name] ?? null, `${root}.${name} as ${who} answered`).toBeNull();
  expect(res.errors?.length, `${root}.${name} as ${who}: ${body}`).toBe(1);
  expectRefusal(`${root}.${name} as ${who}: ${body}`, who, strangers, res.errors![0].extensions);
}

/**
 * A documented refusal; people outside the org cannot tell what exists, nobody anonymous is told FORBIDDEN.
 * Another org's acting key finds nothing (NOT_FOUND) in room operations, and is refused everything else as
 * out of its reach, whatever exists.
 */
function expectRefusal(label: string, who: Outsider, strangers: Entry['strangers'], extensions: Record<string, unknown> | undefined) {
  const code = extensions?.code;
  expect(REFUSED, label).toContain(code);
  if (who === 'anonymous') expect(code, label).not.toBe('FORBIDDEN');
  if (who === 'nonMember' || who === 'otherOrg') expect(code, label).toBe(strangers ?? 'NOT_FOUND');
  if (who === 'actingOtherOrg' && code !== 'NOT_FOUND') expect(extensions?.reason, label).toBe('ACT_AS_NOT_ALLOWED');
}

// Outsiders' mutations are checked against the owner's view after every few fields (re-reading it after
// each one is most of the file's time); a difference names the fields of its batch.
const SNAPSHOT_EVERY = 8;
const operations = cases.filter((c) => c.root !== 'Subscription' && c.entry);
let unchecked: string[] = [];
for (const [i, { root, name, field, entry }] of operations.entries()) {
  describe(`${root}.${name}`, () => {
    it.concurrent.each(OUTSIDERS)('%s gets nothing of the victim', async (who) => {
      const res = await server.gql<any, any>(operation(root, field), await entry.args(w), authOf(who, entry));
      expectNoLeak(root, name, entry, who, res);
    });
    if (root === 'Mutation') unchecked.push(name);
    const last = i === operations.length - 1;
    if (unchecked.length && (unchecked.length === SNAPSHOT_EVERY || last)) {
      const batch = unchecked.join(', ');
      unchecked = [];
      it(`leaves the victim unchanged (${batch})`, async () => expect(await snapshot(), batch).toEqual(baseline));
    }
  });
}

describe.each(cases.filter((c) => c.root === 'Subscription' && c.entry))('Subscription.$name', ({ name, field, entry }) => {
  it.concurrent.each(OUTSIDERS)('%s is refused or hears nothing of the victim', async (who) => {
    const sub = subscribe<any, any>(server.ws(authOf(who, entry)), operation('Subscription', field), await entry.args(w));
    const outcome = await Promise.race([sub.ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('open'), entry.kind === 'self' ? 500 : 3000))]);
    if (outcome === 'open') {
      expect(entry.kind, `${name} as ${who} stayed open`).toBe('self');
      await entry.trigger?.(w);
      await sub.expectSilence(500);
      sub.close();
    } else {
      const err = await sub.rejection();
      expect(JSON.stringify(sub.received)).not.toContain(w.mark);
      expect(sub.received.filter((e) => e.data), `${name} as ${who}`).toEqual([]);
      expectRefusal(`${name} as ${who}: ${JSON.stringify(err)}`, who, entry.strangers, err?.extensions);
    }
  });
});

// ── Acting keys (X-Acting-User), field by field (issue 17.4) ──
// The other org's acting key is an outsider above (`actingOtherOrg`); here the victim org's own ACT_AS key
// acts as its OWNER. It reaches the org's rooms and nothing else, at any depth: every `Type.field` that an
// operation can name from a root field is tried, and all but those listed here are refused whole before
// anything runs, naming the field. A field added to a type below an acting root fails here until listed.

/** The root fields an acting key may use. */
const ACTING_ROOTS: Record<Root, string[]> = {
  Query: ['room', 'node', 'nodes'],
  Mutation: [
    'createRoom', 'openDirectRoom', 'joinRoom', 'addRoomMembers', 'removeRoomMember', 'leaveRoom', 'updateRoom', 'markRead',
    'sendMessage', 'editMessage', 'deleteMessage', 'addReaction', 'removeReaction', 'setTyping',
    // A bot acting as a member sends files too: it uploads them first.
    'createUpload',
  ],
  Subscription: ['roomEvents'],
};
/** What it may select below them (`*`: the whole type); `__typename` and connections, edges and PageInfo are open. */
const ACTING_REACH: Record<string, '*' | string[]> = {
  Node: ['id'],
  Room: ['id', 'type', 'name', 'topic', 'lastSeq', 'lastActivityAt', 'createdAt', 'viewerRole', 'unreadCount', 'mentionCount', 'lastMessage', 'members', 'messages', 'prunedThroughSeq'],
  User: ['id', 'name'],
  ...Object.fromEntries(
    ['Attachment', 'RoomHistoryPruned', 'CreateUploadPayload', 'UploadHeader', 'RoomMember', 'RoomMessage', 'RoomMessageEdit', 'ReactionSummary', 'LeaveRoomPayload', 'RemoveRoomMemberPayload', 'DeleteMessagePayload', 'SetTypingPayload', 'RoomMessageAdded', 'RoomMessageEdited', 'RoomMessageDeleted', 'RoomMessageRepliesUpdated', 'ReactionChanged', 'ReadReceiptUpdated', 'TypingChanged', 'RoomMemberJoined', 'RoomMemberLeft'].map((t) => [t, '*']),
  ),
};
const inReach = (type: string, field: string) =>
  field === '__typename' || type === 'PageInfo' || /(?:Connection|Edge)$/.test(type) || ACTING_REACH[type] === '*' || (ACTING_REACH[type] || []).includes(field);

/** A literal for a required argument: never executed (the gate refuses first), only validated. */
function literal(type: GraphQLInputType): string {
  if (isNonNullType(type)) return literal(type.ofType);
  if (isListType(type)) return `[${literal(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    const required = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${required.map((f) => `${f.name}: ${literal(f.type)}`).join(', ')} }`;
  }
  return { Int: '1', Float: '1', Boolean: 'true', DateTime: '"2026-01-01T00:00:00Z"', Date: '"2026-01-01"', JSON: '{}', ID: JSON.stringify(w.roomId) }[type.name] ?? '"x"';
}
/** A field's call: its required arguments, and `first: 2` on connections (within the cost limit). */
const call = (field: GraphQLField<unknown, unknown>) => {
  const args = field.args.filter((a) => (isNonNullType(a.type) && a.defaultValue === undefined) || a.name === 'first');
  return `${field.name}${args.length ? `(${args.map((a) => `${a.name}: ${a.name === 'first' ? '2' : literal(a.type)}`).join(', ')})` : ''}`;
};

interface ActingProbe {
  root: Root;
  /** The `Type.field` it reaches that is out of reach: the refusal names it. */
  field: string;
  doc: string;
}

/** For each root kind, one operation per out-of-reach `Type.field` reachable from the acting root fields (breadth first: the shortest). */
function actingProbes(): ActingProbe[] {
  const probes: ActingProbe[] = [];
  for (const root of ROOTS) {
    const tried = new Set<string>();
    const expanded = new Set<string>();
    const queue: { type: GraphQLCompositeType; wrap: (inner: string) => string }[] = [];
    for (const field of rootFields(root).filter((f) => ACTING_ROOTS[root].includes(f.name))) {
      const type = getNamedType(field.type);
      if (isCompositeType(type)) queue.push({ type, wrap: (inner) => `${root.toLowerCase()} { ${call(field)} { ${inner} } }` });
    }
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { type, wrap } = next;
      if (expanded.has(type.name)) continue;
      expanded.add(type.name);
      if (isAbstractType(type)) for (const t of schema.getPossibleTypes(type)) queue.push({ type: t, wrap: (inner) => wrap(`... on ${t.name} { ${inner} }`) });
      if (!isObjectType(type) && !isInterfaceType(type)) continue;
      for (const field of Object.values(type.getFields())) {
        const to = getNamedType(field.type);
        const selection = `${call(field)}${isCompositeType(to) ? ' { __typename }' : ''}`;
        if (inReach(type.name, field.name)) {
          if (isCompositeType(to)) queue.push({ type: to, wrap: (inner) => wrap(`${call(field)} { ${inner} }`) });
        } else if (!tried.has(`${type.name}.${field.name}`)) {
          tried.add(`${type.name}.${field.name}`);
          probes.push({ root, field: `${type.name}.${field.name}`, doc: wrap(selection) });
        }
      }
    }
  }
  return probes;
}

/** Everything within reach below `type`, `depth` objects deep: what an acting client may ask for at once. */
function allInReach(type: GraphQLCompositeType, depth: number): string {
  if (!isObjectType(type) || depth === 0) return '__typename';
  const fields = Object.values(type.getFields()).filter((f) => inReach(type.name, f.name) && f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined));
  return fields.map((f) => {
    const to = getNamedType(f.type);
    return isCompositeType(to) ? `${call(f)} { ${allInReach(to, depth - 1)} }` : call(f);
  }).join(' ');
}

/** A refusal before execution: one error, FORBIDDEN for ACT_AS_NOT_ALLOWED, naming `field`; no data, nothing of the victim's. */
function expectActingRefusal(label: string, field: string, res: { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }) {
  expect(res.errors?.length, `${label}: ${JSON.stringify(res)}`).toBe(1);
  expect(res.errors![0].extensions, label).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
  expect(res.errors![0].message, label).toContain(field);
  expect(res.data ?? null, label).toBeNull();
  expect(JSON.stringify(res), label).not.toContain(w.mark);
}

describe('an acting key of the org itself, acting as its OWNER', () => {
  it('the reach listed here names types and fields that exist', () => {
    for (const [type, fields] of Object.entries(ACTING_REACH)) {
      const t = schema.getType(type);
      expect(t && (isObjectType(t) || isInterfaceType(t)), type).toBeTruthy();
      if (fields !== '*') for (const f of fields) expect((t as GraphQLObjectType).getFields()[f], `${type}.${f}`).toBeDefined();
    }
  });

  it.each(ROOTS)('is refused every other %s root field, and passes the acting ones (the next root field is the one refused)', async (root) => {
    const [other] = rootFields(root).filter((f) => !ACTING_ROOTS[root].includes(f.name));
    for (const field of rootFields(root)) {
      const to = getNamedType(field.type);
      const sel = (f: GraphQLField<unknown, unknown>) => `${call(f)}${isCompositeType(getNamedType(f.type)) ? ' { __typename }' : ''}`;
      const acting = ACTING_ROOTS[root].includes(field.name);
      // A subscription has one root field: an acting one passes unless something below it is out of reach (probes below).
      if (acting && root === 'Subscription') continue;
      const doc = `${root.toLowerCase()} { ${sel(field)}${acting ? ` ${sel(other)}` : ''} }`;
      const expected = `${root}.${acting ? other.name : field.name}`;
      const res = root === 'Subscription' ? await overSocket(doc) : await server.gql<any, any>(doc, {}, w.auth.actingOwner);
      expectActingRefusal(`${doc} (${isCompositeType(to) ? to.name : 'leaf'})`, expected, res);
    }
  });

  it('is refused, whole and before anything runs, every field out of reach below the acting root fields, at any depth', async () => {
    const probes = actingProbes();
    // The subscriptions' triggers above changed the world: this test compares with the world as it finds it.
    const before = await snapshot();
    expect(probes.map((p) => p.field)).toEqual(expect.arrayContaining(['Room.org', 'User.email', 'User.createdAt', 'TopicSubscription.topic', 'Org.apiKeys', 'Org.webhooks', 'WebhookDelivery.payload', 'Thread.title']));
    for (let i = 0; i < probes.length; i += 8) {
      await Promise.all(
        probes.slice(i, i + 8).map(async ({ root, field, doc }) =>
          expectActingRefusal(doc, field, root === 'Subscription' ? await overSocket(doc) : await server.gql<any, any>(doc, {}, w.auth.actingOwner)),
        ),
      );
    }
    // The mutations among them changed nothing.
    expect(await snapshot()).toEqual(before);
  });

  it('gets everything within reach at once, through room(id), node(id) and nodes(ids)', async () => {
    const room = schema.getType('Room') as GraphQLObjectType;
    const message = schema.getType('RoomMessage') as GraphQLObjectType;
    const doc = `query($room: ID!, $ids: [ID!]!) {
      room(id: $room) { ${allInReach(room, 3)} }
      node(id: $room) { id ... on Room { ${allInReach(room, 2)} } }
      nodes(ids: $ids) { id ... on RoomMessage { ${allInReach(message, 2)} } ... on Room { name } } }`;
    const res = await server.gql<any, any>(doc, { room: w.roomId, ids: [w.messageId, w.roomId, w.orgId, w.threadId] }, w.auth.actingOwner);
    // Of the org's other objects, node(id) shows an acting key nothing (NOT_FOUND at their index): it cannot select them anyway.
    expect(res.errors?.map((e: any) => [e.path.join('.'), e.extensions.code]).sort(), doc).toEqual([['nodes.2', 'NOT_FOUND'], ['nodes.3', 'NOT_FOUND']]);
    expect(res.data.room).toMatchObject({ id: w.roomId, viewerRole: 'OWNER' });
    expect(res.data.nodes[0].author).toEqual({ id: w.owner.id, name: w.owner.name });
    expect(res.data.node.id).toBe(w.roomId);
    expect(res.data.nodes.map((n: any) => n?.id ?? null)).toEqual([w.messageId, w.roomId, null, null]);
  });
});

/** One operation on a socket opened by the acting key: its result, or the error it was refused with. */
async function overSocket(doc: string) {
  const sub = subscribe<any, any>(server.ws(w.auth.actingOwner), doc, {});
  await sub.ended;
  const error = await sub.rejection();
  return { data: sub.received.find((r) => r.data)?.data ?? null, errors: error ? [error as { message: string; extensions?: Record<string, unknown> }] : undefined };
}

// Last, since members change the world: the same arguments work for who may use them.
// ── Operations on a socket whose credentials were revoked (issue 17.2) ──
// An admin of the victim org opens a socket, its credentials are revoked (the key, or every login), and then every
// root field is sent on that socket at once, as raw graphql-ws messages: each is refused (UNAUTHENTICATED) or the
// socket closes under it (4403), none is answered with data, and the victim is unchanged. Before the members below.

/** Sends every operation on a raw graphql-ws socket opened with `params`, after `revoke` ran; returns each id's outcome. */
async function afterRevocation(params: Record<string, unknown>, revoke: () => Promise<unknown>, ops: { query: string; variables: Vars }[]) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const outcomes = new Map<string, string>();
  let closedWith: number | undefined;
  const closed = new Promise<void>((resolve) =>
    socket.addEventListener('close', (e) => {
      closedWith = e.code;
      resolve();
    }),
  );
  const acked = new Promise<void>((resolve, reject) => {
    socket.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.type === 'connection_ack') return resolve();
      if (msg.type === 'next') outcomes.set(msg.id, msg.payload.data && Object.values(msg.payload.data).some((v) => v != null) ? 'DATA' : (msg.payload.errors?.[0]?.extensions?.code ?? 'NULL'));
      else if (msg.type === 'error') outcomes.set(msg.id, msg.payload[0]?.extensions?.code ?? 'ERROR');
    });
    socket.addEventListener('close', (e) => reject(new Error(`closed before acknowledgement: ${e.code}`)));
  });
  await new Promise((resolve) => socket.addEventListener('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: params }));
  await acked;
  await revoke();
  ops.forEach((op, i) => socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: op })));
  await closed;
  return { closedWith, outcomes: ops.map((_, i) => outcomes.get(String(i)) ?? 'CLOSED') };
}

describe('operations sent on a socket after its credentials were revoked', () => {
  const ops = async () =>
    Promise.all(cases.filter((c) => c.entry).map(async (c) => ({ query: operation(c.root, c.field), variables: await c.entry!.args(w) })));

  it.each(['a revoked API key', 'an admin who logged out everywhere'])('%s: every root field is refused and nothing changes', async (how) => {
    let params: Record<string, unknown>;
    let revoke: () => Promise<unknown>;
    if (how === 'a revoked API key') {
      const key = await createApiKey(server, w.owner, w.orgId, ['READ', 'WRITE', 'NOTIFY', 'CHAT']);
      params = { apiKey: key.key };
      revoke = () => gql(`mutation AuthzRevokeKey($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id } }`, { input: { apiKeyId: key.apiKey.id } }, w.auth.owner);
    } else {
      const admin = await registerUser(server, { name: 'Revoked admin' });
      await addMember(server, w.orgId, w.owner, admin, 'ADMIN');
      params = { authorization: `Bearer ${admin.token}` };
      revoke = () => gql(`mutation AuthzLogoutAll($input: LogoutInput!) { logout(input: $input) { revoked } }`, { input: { refreshToken: admin.refreshToken, everywhere: true } }, {});
    }
    // The revocation itself sets the key's revokedAt; nothing else may change.
    const seen = async () => JSON.stringify(await snapshot()).replaceAll(/"revokedAt":"[^"]*"/g, '"revokedAt":null');
    const before = await seen();
    const { closedWith, outcomes } = await afterRevocation(params, revoke, await ops());
    expect(closedWith).toBe(4403);
    expect(outcomes.filter((o) => o !== 'UNAUTHENTICATED' && o !== 'CLOSED')).toEqual([]);
    expect(outcomes).toContain('UNAUTHENTICATED');
    expect(await seen()).toEqual(before);
  });
});

describe.each(cases.filter((c) => c.entry && c.root !== 'Subscription'))('$root.$name for a member', ({ root, name, field, entry }) => {
  const as = entry.as ?? 'owner';
  it.skipIf(typeof as === 'object')(`works as ${typeof as === 'string' ? as : as.skip}`, async () => {
    const res = await server.gql<any, any>(operation(root, field), await entry.args(w), as === 'anonymous' ? {} : w.auth[as as 'owner']);
    expect(res.errors, `${root}.${name} as ${String(as)}`).toBeUndefined();
    expect(res.data?.[name]).not.toBeNull();
  });
});

describe.each(cases.filter((c) => c.entry && c.root === 'Subscription'))('Subscription.$name for a member', ({ name, field, entry }) => {
  it(`works as ${String(entry.as ?? 'owner')}`, async () => {
    const sub = subscribe<any, any>(server.ws(w.auth[(entry.as as 'owner') ?? 'owner']), operation('Subscription', field), await entry.args(w));
    let first = await sub.next(entry.trigger ? 1000 : 5000).catch(() => undefined);
    for (let i = 0; !first && i < 10; i++) {
      await entry.trigger?.(w);
      first = await sub.next(1000).catch(() => undefined);
    }
    expect(first?.errors, name).toBeUndefined();
    expect(first?.data?.[name], name).toBeTruthy();
    sub.close();
  });
});

describe('regressions', () => {
  it('node(id) shows a User to READ keys of their org, not to NOTIFY-only or project-scoped keys', async () => {
    const doc = `query($id: ID!) { node(id: $id) { id } }`;
    expect((await gql(doc, { id: w.owner.id }, { apiKey: w.keys.read })).node).toEqual({ id: w.owner.id });
    for (const auth of [w.auth.keyNoScope, w.auth.keyOtherProject]) expect(await server.errorCode(doc, { id: w.owner.id }, auth)).toBe('NOT_FOUND');
  });
});

describe('a prepaid session of a thread', () => {
  it("shows its payer the state only, and its token holder the session's messages but never the thread", async () => {
    const Open = `mutation($input: OpenPaidSessionInput!) { openPaidSession(input: $input) { token session { id } invoice { id paymentHash } } }`;
    const { invoice, token, session } = (await gql(Open, { input: { amountSats: 500, threadId: w.threadId } }, w.auth.owner)).openPaidSession;
    const Settle = `mutation($input: SettleDevInvoiceInput!) { settleDevInvoice(input: $input) { state session { id state balanceSats } } }`;
    const nosy = `mutation($input: SettleDevInvoiceInput!) {
      settleDevInvoice(input: $input) { state session { summary thread { title messages(first: 20) { edges { node { content } } } }
        messages(first: 20) { edges { node { content } } } } } }`;
    const res = await server.gql<any, any>(nosy, { input: { paymentHash: invoice.paymentHash } }, w.auth.nonMember);
    expect(JSON.stringify(res)).not.toContain(w.mark);
    expect(res.errors?.map((e) => e.extensions?.code)).toContain('NOT_FOUND');
    // The payment went through all the same; asking for the state only is answered.
    const again = await server.gql<any, any>(Settle, { input: { paymentHash: invoice.paymentHash } }, w.auth.nonMember);
    expect(again.data?.settleDevInvoice.state).toBe('PAID');
    expect((await gql(`query($id: ID!) { node(id: $id) { ... on Invoice { state } } }`, { id: invoice.id }, w.auth.owner)).node.state).toBe('PAID');

    // The session's token opens that session, never its thread.
    await gql(`mutation($input: SendThreadMessageInput!) { sendThreadMessage(input: $input) { __typename } }`, { input: { threadId: w.threadId, content: 'paid turn' } }, w.auth.owner);
    const held = await server.gql<any, any>(
      `query($id: ID!) { session(id: $id) { state thread { title } messages(first: 20) { edges { node { content thread { title messages(first: 20) { edges { node { content } } } } } } } } }`,
      { id: session.id },
      { token },
    );
    expect(JSON.stringify(held)).not.toContain(w.mark);
    expect(held.data?.session.state).toBe('ACTIVE');
    expect(held.data?.session.thread).toBeNull();
    const own = held.data?.session.messages.edges.map((e: any) => e.node);
    expect(own.map((m: any) => m.content)).toContain('paid turn');
    expect(own.map((m: any) => m.thread)).toEqual(own.map(() => null));
  });
});
