/**
 * What GraphiQL (/graphql in a browser) opens with the first time, before it has tabs of its own saved:
 * a walk through the product, one operation per step, each runnable from the Run button's menu. The
 * first tab holds the whole walk; the second only the message to send while the first tab's
 * subscription is running. test/web-serving.browser.test.ts checks the page carries them and that the
 * document is valid against schema.graphql.
 */

/** The walk: sign up, create an org, create a room, subscribe to its events, send a message. */
export const GRAPHIQL_EXAMPLES = `# Welcome to Confab. Run these in order (the Run button's menu picks one); the Variables pane holds their inputs.

# 1. Sign up, then paste the accessToken into Headers as {"Authorization": "Bearer <accessToken>"}.
mutation SignUp($email: String!, $password: String!, $name: String!) {
  register(input: { email: $email, password: $password, name: $name }) {
    accessToken
    user { id name }
  }
}

# 2. Create an organization (you become its owner); put its id in the variables as orgId.
mutation CreateOrg($orgName: String!, $orgSlug: String!) {
  createOrg(input: { name: $orgName, slug: $orgSlug }) { id name slug }
}

# 3. Create a room in it; put its id in the variables as roomId.
mutation CreateRoom($orgId: ID!, $roomName: String!) {
  createRoom(input: { orgId: $orgId, name: $roomName, type: CHANNEL }) { id name }
}

# 4. Subscribe to the room's events from its start; leave it running and send from the SendMessage tab.
subscription RoomEvents($roomId: ID!) {
  roomEvents(roomId: $roomId, afterSeq: 0) {
    __typename
    ... on RoomMessageAdded { seq message { id content createdAt } }
  }
}

# 5. Send a message to the room; a running RoomEvents subscription receives it.
mutation SendMessage($roomId: ID!, $content: String!) {
  sendMessage(input: { roomId: $roomId, content: $content }) { id seq content createdAt }
}
`;

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** The walk's variables: what to sign up with and name things, and where the ids from steps 2 and 3 go. */
export const GRAPHIQL_EXAMPLE_VARIABLES = pretty({
  email: 'ada@example.com',
  password: 'correct horse battery staple',
  name: 'Ada',
  orgName: 'Acme',
  orgSlug: 'acme',
  orgId: 'the id CreateOrg returned',
  roomName: 'general',
  roomId: 'the id CreateRoom returned',
  content: 'Hello, room!',
});

/** The second tab: step 5 alone, to run while the first tab's subscription is listening. */
export const GRAPHIQL_SEND_EXAMPLE = `# Send a message while RoomEvents runs in the first tab (this tab needs the same Authorization header).
mutation SendMessage($roomId: ID!, $content: String!) {
  sendMessage(input: { roomId: $roomId, content: $content }) { id seq content createdAt }
}
`;

/** yoga's GraphiQL options that open the page on the examples (used only while no tabs are saved). */
export const graphiqlExampleOptions = {
  defaultQuery: GRAPHIQL_EXAMPLES,
  defaultTabs: [
    { query: GRAPHIQL_EXAMPLES, variables: GRAPHIQL_EXAMPLE_VARIABLES },
    { query: GRAPHIQL_SEND_EXAMPLE, variables: pretty({ roomId: 'the id CreateRoom returned', content: 'Hello from the second tab!' }) },
  ],
};
