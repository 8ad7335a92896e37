import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Events = graphql(`subscription AccessThreadEvents($threadId: ID!) { threadEvents(threadId: $threadId) { __typename } }`);
const CreateProject = graphql(`mutation AccessCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const Share = graphql(`mutation AccessShare($input: ShareProjectInput!) { shareProject(input: $input) { id } }`);
const Unshare = graphql(`mutation AccessUnshare($input: UnshareProjectInput!) { unshareProject(input: $input) { deletedId } }`);
const SetPublic = graphql(`mutation AccessSetPublic($input: SetProjectPublicAccessInput!) { setProjectPublicAccess(input: $input) { id } }`);
const DeleteThread = graphql(`mutation AccessDeleteThread($input: DeleteThreadInput!) { deleteThread(input: $input) { deletedId } }`);
const RemoveMember = graphql(`mutation AccessRemoveMember($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }`);
const ThreadQ = graphql(`query AccessThread($id: ID!) { thread(id: $id) { id } }`);

let server: TestServer;
let owner: TestUser;
let orgId: string;
beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server);
  owner = o.owner;
  orgId = o.org.id;
});

/** A member of the org reading a thread of a project shared with them (or with the whole org). */
async function sharedThread(opts: { public?: boolean } = {}) {
  const reader = await registerUser(server);
  await addMember(server, orgId, owner, reader);
  const { createProject } = await server.ok(CreateProject, { input: { orgId, name: 'P' } }, { token: owner.token });
  if (opts.public) await server.ok(SetPublic, { input: { projectId: createProject.id, access: 'READ' } }, { token: owner.token });
  else await server.ok(Share, { input: { projectId: createProject.id, access: 'READ', userId: reader.id } }, { token: owner.token });
  const thread = await createThread(server, owner.token, orgId, 'T', createProject.id);
  return { reader, projectId: createProject.id, thread };
}

/** Subscribes as `user`, checks that events arrive, and returns the live stream. */
async function watching(user: TestUser, threadId: string) {
  const sub = subscribe(server.ws({ token: user.token }), Events, { threadId });
  // Until the subscription is live (a slow machine), a message is not heard: send until one is.
  for (let i = 0; ; i++) {
    await send(server, { token: owner.token }, threadId, 'hello');
    const first = await sub.next(1000).catch((err) => (i < 10 ? undefined : Promise.reject(err)));
    if (first) break;
  }
  // Drain this turn's events.
  while ((await sub.next()).data?.threadEvents.__typename !== 'AssistantDone');
  return sub;
}

describe('threadEvents ends when the viewer loses access', () => {
  it('when their share is removed', async () => {
    const { reader, projectId, thread } = await sharedThread();
    const sub = await watching(reader, thread.id);
    await server.ok(Unshare, { input: { projectId, userId: reader.id } }, { token: owner.token });
    await sub.ended;
    expect(await server.errorCode(ThreadQ, { id: thread.id }, { token: reader.token })).toBe('NOT_FOUND');
  });

  it('when the org-wide access is removed, but not for those who keep access', async () => {
    const { reader, projectId, thread } = await sharedThread({ public: true });
    const sub = await watching(reader, thread.id);
    const ownerSub = await watching(owner, thread.id);
    await server.ok(SetPublic, { input: { projectId, access: null } }, { token: owner.token });
    await sub.ended;
    // The owner's stream was re-checked too, and goes on.
    await send(server, { token: owner.token }, thread.id, 'still here');
    const seen: string[] = [];
    while (!seen.includes('AssistantDone')) seen.push((await ownerSub.next()).data!.threadEvents.__typename);
  });

  it('when they are removed from the org', async () => {
    const { reader, thread } = await sharedThread();
    const sub = await watching(reader, thread.id);
    await server.ok(RemoveMember, { input: { orgId, userId: reader.id } }, { token: owner.token });
    await sub.ended;
    // Their share no longer counts, and nobody outside the org can be given one.
    expect(await server.errorCode(ThreadQ, { id: thread.id }, { token: reader.token })).toBe('NOT_FOUND');
    const { projectId } = await sharedThread();
    expect(await server.errorCode(Share, { input: { projectId, userId: reader.id, access: 'READ' } }, { token: owner.token })).toBe('NOT_FOUND');
  });

  it('when the thread is deleted, after ThreadDeleted', async () => {
    const { reader, thread } = await sharedThread();
    const sub = await watching(reader, thread.id);
    const ownerSub = await watching(owner, thread.id);
    await server.ok(DeleteThread, { input: { threadId: thread.id } }, { token: owner.token });
    for (const s of [sub, ownerSub]) {
      // The reader also heard the owner's own warm-up turn before it.
      while ((await s.next()).data?.threadEvents.__typename !== 'ThreadDeleted');
      expect(await s.ended).toBeUndefined();
    }
  });

  it('a share changed to another access level keeps the stream', async () => {
    const { reader, projectId, thread } = await sharedThread();
    const sub = await watching(reader, thread.id);
    await server.ok(Share, { input: { projectId, userId: reader.id, access: 'WRITE' } }, { token: owner.token });
    await send(server, { token: owner.token }, thread.id, 'again');
    expect((await sub.next()).data?.threadEvents.__typename).toBe('ThreadMessageAdded');
    await sub.expectSilence(0).catch(() => undefined);
  });
});
