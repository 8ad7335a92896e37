import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useClient, useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { WebRoomMessageFragment } from '../gql/graphql';
import { RoomLog } from '../room-log';
import { RoomMessageItem } from './room-message';
import { useApp } from './shell';
import { clientId, errorText } from './util';

graphql(`
  fragment WebRoomMessage on RoomMessage {
    id seq content deleted editedAt createdAt author { id name } reactions { emoji count reactedByViewer }
  }
`);
const RoomQuery = graphql(`
  query WebRoom($id: ID!) {
    room(id: $id) {
      id name topic type lastSeq
      members(first: 100) { edges { node { id lastReadSeq user { id name presence } } } }
      messages(last: 50) { edges { node { ...WebRoomMessage } } }
    }
  }
`);
const RoomEvents = graphql(`
  subscription WebRoomEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq message { ...WebRoomMessage } }
      ... on RoomMessageEdited { seq message { ...WebRoomMessage } }
      ... on RoomMessageDeleted { seq message { ...WebRoomMessage } }
      ... on ReactionChanged { message { ...WebRoomMessage } }
      ... on ReadReceiptUpdated { userId seq }
      ... on TypingChanged { userId typing user { name } }
      ... on RoomMemberJoined { userId }
      ... on RoomMemberLeft { userId }
    }
  }
`);
const Send = graphql(`
  mutation WebSendMessage($input: SendMessageInput!) { sendMessage(input: $input) { ...WebRoomMessage } }
`);
const MarkRead = graphql(`
  mutation WebMarkRead($input: MarkReadInput!) { markRead(input: $input) { id lastReadSeq } }
`);
const SetTyping = graphql(`
  mutation WebSetTyping($input: SetTypingInput!) { setTyping(input: $input) { typing } }
`);

/**
 * One room: history, then live events from `roomEvents`. When the socket drops and comes back, the
 * subscription is started again with `afterSeq` = the last seq on screen, and the log keyed by seq
 * keeps anything replayed twice from showing twice.
 */
export function RoomView({ roomId }: { roomId: string }) {
  const app = useApp();
  const client = useClient();
  const [{ data, error }, refetch] = useQuery({ query: RoomQuery, variables: { id: roomId }, requestPolicy: 'network-only' });
  const log = useMemo(() => new RoomLog<WebRoomMessageFragment>(), [roomId]);
  const [messages, setMessages] = useState<WebRoomMessageFragment[]>([]);
  const [readBy, setReadBy] = useState<Record<string, number>>({});
  const [typing, setTyping] = useState<Record<string, string>>({});
  const [epoch, setEpoch] = useState(0);
  const [sent, send] = useMutation(Send);
  const [, markRead] = useMutation(MarkRead);
  const [, setTypingMutation] = useMutation(SetTyping);
  const lastTypingSent = useRef(0);
  const markedRead = useRef(0);
  const room = data?.room;

  useEffect(() => {
    if (!room) return;
    for (const { node } of room.messages.edges) log.put(node);
    setMessages(log.list());
    setReadBy(Object.fromEntries(room.members.edges.map((e) => [e.node.user.id, e.node.lastReadSeq])));
  }, [room?.id]);

  // Resubscribe after every reconnect, from the last seq on screen.
  useEffect(() => {
    let dropped = false;
    const offClosed = app.ws.on('closed', () => (dropped = true));
    const offConnected = app.ws.on('connected', () => dropped && ((dropped = false), setEpoch((n) => n + 1)));
    return () => (offClosed(), offConnected());
  }, [app.ws]);

  useEffect(() => {
    if (!room) return;
    const { unsubscribe } = client.subscription(RoomEvents, { roomId, afterSeq: log.lastSeq }).subscribe((r) => {
        const e = r.data?.roomEvents;
        if (!e) return;
        if (e.__typename === 'RoomMessageAdded') log.put(e.message);
        else if (e.__typename === 'RoomMessageEdited' || e.__typename === 'RoomMessageDeleted' || e.__typename === 'ReactionChanged') log.update(e.message);
        else if (e.__typename === 'ReadReceiptUpdated') setReadBy((m) => ({ ...m, [e.userId]: Math.max(m[e.userId] ?? 0, e.seq) }));
        else if (e.__typename === 'TypingChanged')
          setTyping((t) => {
            const { [e.userId]: _, ...rest } = t;
            return e.typing && e.userId !== app.me.id ? { ...rest, [e.userId]: e.user.name } : rest;
          });
        else if (e.__typename === 'RoomMemberJoined' || e.__typename === 'RoomMemberLeft') refetch({ requestPolicy: 'network-only' });
        setMessages(log.list());
      });
    return unsubscribe;
  }, [room?.id, epoch]);

  // What is on screen has been read.
  useEffect(() => {
    const last = log.lastSeq;
    if (last > markedRead.current && document.visibilityState === 'visible') {
      markedRead.current = last;
      markRead({ input: { roomId, seq: last } });
    }
  }, [messages]);

  if (error) return <main class="page"><p role="alert">{errorText(error)}</p></main>;
  if (!room) return <main class="page"><p role="status">Loading…</p></main>;

  const members = room.members.edges.map((e) => e.node.user);
  const names = Object.fromEntries(members.map((u) => [u.id, u.name]));
  const typingNames = Object.values(typing);

  async function submit(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const content = String(new FormData(form).get('content')).trim();
    if (!content) return;
    const r = await send({ input: { roomId, content, clientMsgId: clientId() } });
    if (r.data) {
      form.reset();
      log.put(r.data.sendMessage);
      setMessages(log.list());
      lastTypingSent.current = 0;
      setTypingMutation({ input: { roomId, typing: false } });
    }
  }

  return (
    <main class="room">
      <header>
        <h2>{room.name ?? 'Direct message'}</h2>
        {room.topic && <p>{room.topic}</p>}
        <ul class="members" aria-label="Members">
          {members.map((u) => {
            const status = app.presence[u.id] ?? u.presence;
            return (
              <li>
                <span class={`dot ${status.toLowerCase()}`} role="img" aria-label={status} /> {u.name}
              </li>
            );
          })}
        </ul>
      </header>
      <div class="messages" role="log" aria-label="Messages" aria-live="polite">
      <ol>
        {messages.map((m) => (
          <RoomMessageItem
            key={m.seq}
            message={m}
            mine={m.author.id === app.me.id}
            seenBy={Object.entries(readBy)
              .filter(([uid, seq]) => uid !== app.me.id && uid !== m.author.id && seq === m.seq)
              .map(([uid]) => names[uid])
              .filter(Boolean)}
          />
        ))}
      </ol>
      </div>
      <p class="typing" role="status" aria-live="polite">
        {typingNames.length ? `${typingNames.join(', ')} ${typingNames.length > 1 ? 'are' : 'is'} typing…` : ''}
      </p>
      <form class="composer" onSubmit={submit} aria-label="Send a message">
        <label for="composer-input" class="sr-only">Message</label>
        <textarea
          id="composer-input"
          name="content"
          rows={2}
          placeholder="Write a message (Enter sends, Shift+Enter for a new line)"
          onInput={() => {
            if (Date.now() - lastTypingSent.current < 2000) return;
            lastTypingSent.current = Date.now();
            setTypingMutation({ input: { roomId, typing: true } });
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
            }
          }}
        />
        <button type="submit" disabled={sent.fetching}>Send</button>
        {sent.error && <p role="alert">{errorText(sent.error)}</p>}
      </form>
    </main>
  );
}
