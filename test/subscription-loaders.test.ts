import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation LoadersCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation LoadersSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }
`);
const React = graphql(`
  mutation LoadersReact($input: AddReactionInput!) { addReaction(input: $input) { id } }
`);
const Events = graphql(`
  subscription LoadersEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { message { id reactions { emoji count } } }
      ... on ReactionChanged { message { id reactions { emoji count } } }
    }
  }
`);

/**
 * A subscription executes once per event on one context: data loaded for one event must not be
 * served from a cache to the next (this once showed a reaction count of 0 to whoever had seen the
 * message arrive live).
 */
describe('subscription events load fresh data', () => {
  let server: TestServer;
  let owner: TestUser;
  let member: TestUser;
  let roomId: string;
  beforeAll(async () => {
    server = await startServer();
    const o = await orgWithMembers(server, 1);
    owner = o.owner;
    member = o.members[0];
    roomId = (await server.ok(CreateRoom, { input: { orgId: o.org.id, type: 'GROUP', name: 'r', memberIds: [member.id] } }, { token: owner.token })).createRoom.id;
  });

  it('a reaction on a message the subscriber saw arrive carries the new count', async () => {
    const live = subscribe(server.ws({ token: owner.token }), Events, { roomId, afterSeq: 0 });
    const { sendMessage } = await server.ok(Send, { input: { roomId, content: 'hi' } }, { token: owner.token });
    const added = await live.next();
    expect(added.data?.roomEvents).toMatchObject({ __typename: 'RoomMessageAdded', message: { id: sendMessage.id, reactions: [] } });
    await server.ok(React, { input: { messageId: sendMessage.id, emoji: '🎉' } }, { token: member.token });
    const changed = await live.next();
    expect(changed.data?.roomEvents).toMatchObject({ __typename: 'ReactionChanged', message: { reactions: [{ emoji: '🎉', count: 1 }] } });
    live.close();
  });
});
