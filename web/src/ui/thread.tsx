import { useEffect, useState } from 'preact/hooks';
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
  subscription WebThreadEvents($threadId: ID!, $afterSeq: Int) {
    threadEvents(threadId: $threadId, afterSeq: $afterSeq) {
      __typename
      ... on ThreadMessageAdded { message { ...WebChatMessage } }
      ... on AssistantDelta { messageId delta index }
      ... on AssistantDone { message { ...WebChatMessage } }
      ... on AssistantFailed { messageId message { ...WebChatMessage } }
      ... on ThreadUpdated { thread { id title status } }
      ... on ThreadDeleted { threadId }
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
  if (!data.thread) return <main class="page"><p role="alert">This thread does not exist, or you cannot read it.</p></main>;
  return <ThreadChat threadId={threadId} title={data.thread.title} initial={data.thread.messages.edges.map((e) => e.node)} models={data.models.map((m) => m.name)} />;
}

function ThreadChat(props: { threadId: string; title: string; initial: WebChatMessageFragment[]; models: string[] }) {
  const client = useClient();
  const chat = useChat(props.initial);
  const [sent, send] = useMutation(SendThreadMessage);
  const [title, setTitle] = useState(props.title);
  const [deleted, setDeleted] = useState(false);
  // From the last message loaded: whatever was stored since comes first, then live events (no gap).
  const afterSeq = props.initial.reduce((max, m) => Math.max(max, m.seq ?? 0), 0);
  useEffect(
    () =>
      client.subscription(ThreadEvents, { threadId: props.threadId, afterSeq }).subscribe((r) => {
        const e = r.data?.threadEvents;
        if (e?.__typename === 'ThreadUpdated') setTitle(e.thread.title);
        else if (e?.__typename === 'ThreadDeleted') setDeleted(true);
        else if (e) chat.apply(e);
      }).unsubscribe,
    [props.threadId],
  );

  if (deleted) return <main class="page"><p role="alert">This thread was deleted.</p></main>;
  return (
    <main class="room">
      <header>
        <h2>{title}</h2>
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
