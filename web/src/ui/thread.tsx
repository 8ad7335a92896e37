import { useEffect } from 'preact/hooks';
import { useClient, useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { WebChatMessageFragment } from '../gql/graphql';
import { ChatLog, useChat } from './chat';
import { ChatComposer } from './composer';

const ThreadQuery = graphql(`
  query WebThread($id: ID!) {
    thread(id: $id) { id title status messages(last: 100) { edges { node { ...WebChatMessage } } } }
    models { id name isDefault }
  }
`);
const ThreadEvents = graphql(`
  subscription WebThreadEvents($threadId: ID!) {
    threadEvents(threadId: $threadId) {
      __typename
      ... on MessageAdded { message { ...WebChatMessage } }
      ... on AssistantDelta { messageId delta index }
      ... on AssistantDone { message { ...WebChatMessage } }
      ... on AssistantFailed { messageId message { ...WebChatMessage } }
    }
  }
`);
const SendThreadMessage = graphql(`
  mutation WebSendThreadMessage($input: SendThreadMessageInput!) {
    sendThreadMessage(input: $input) { userMessage { ...WebChatMessage } assistantMessage { ...WebChatMessage } }
  }
`);

/** A thread: its messages, and the assistant's reply streaming in as you watch. */
export function ThreadView({ threadId }: { threadId: string }) {
  const [{ data }] = useQuery({ query: ThreadQuery, variables: { id: threadId }, requestPolicy: 'network-only' });
  if (!data) return <main class="page"><p role="status">Loading…</p></main>;
  return <ThreadChat threadId={threadId} title={data.thread.title} initial={data.thread.messages.edges.map((e) => e.node)} models={data.models.map((m) => m.name)} />;
}

function ThreadChat(props: { threadId: string; title: string; initial: WebChatMessageFragment[]; models: string[] }) {
  const client = useClient();
  const chat = useChat(props.initial);
  const [sent, send] = useMutation(SendThreadMessage);
  useEffect(() => client.subscription(ThreadEvents, { threadId: props.threadId }).subscribe((r) => r.data && chat.apply(r.data.threadEvents)).unsubscribe, [props.threadId]);

  return (
    <main class="room">
      <header>
        <h2>{props.title}</h2>
      </header>
      <ChatLog messages={chat.messages} />
      <ChatComposer
        models={props.models}
        streaming={chat.streaming}
        error={sent.error}
        onSend={async (content, model, clientMsgId) => {
          const r = await send({ input: { threadId: props.threadId, content, model, clientMsgId } });
          if (r.data) {
            chat.add(r.data.sendThreadMessage.userMessage);
            chat.add(r.data.sendThreadMessage.assistantMessage);
          }
          return !r.error;
        }}
      />
    </main>
  );
}
