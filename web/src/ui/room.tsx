import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useClient, useMutation, useQuery } from '@urql/preact';
import { graphql } from '../gql';
import type { RoomMemberLeftReason, WebPinnedMessageFragment, WebRoomMessageFragment, WebRoomStateFragment } from '../gql/graphql';
import { RoomLog } from '../room-log';
import { RoomMessageItem } from './room-message';
import { MembersPanel, PinnedList, RoomSettings } from './room-moderation';
import { atLeast, roomPowers } from './roles';
import { useApp } from './shell';
import { clientId, errorText, time } from './util';

graphql(`
  fragment WebRoomMessage on RoomMessage {
    id seq content deleted editedAt createdAt author { id name avatarUrl } reactions { emoji count reactedByViewer }
    parent { id } replyCount lastReplyAt mentionsViewer pinnedAt hiddenForViewer
    attachments { id filename contentType byteSize isImage url width height }
  }
`);
graphql(`
  fragment WebPinnedMessage on RoomMessage { id seq content deleted pinnedAt hiddenForViewer author { id name } parent { id } }
`);
graphql(`
  fragment WebRoomState on Room {
    id name topic type frozen archivedAt viewerRole viewerCanSend
    members(first: 100) { edges { node { ...WebRoomMember } } }
    pinnedMessages(first: 20) { edges { node { ...WebPinnedMessage } } }
  }
`);
const RoomQuery = graphql(`
  query WebRoom($id: ID!) {
    room(id: $id) { ...WebRoomState lastSeq messages(last: 50) { edges { node { ...WebRoomMessage } } } }
  }
`);
const RoomStateQuery = graphql(`
  query WebRoomState($id: ID!) { room(id: $id) { ...WebRoomState } }
`);
const MessagesFrom = graphql(`
  query WebRoomMessagesFrom($id: ID!, $afterSeq: Int!) {
    room(id: $id) { id messages(afterSeq: $afterSeq, first: 100) { edges { node { ...WebRoomMessage } } } }
  }
`);
const RoomEvents = graphql(`
  subscription WebRoomEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq message { ...WebRoomMessage } }
      ... on RoomMessageEdited { seq message { ...WebRoomMessage } }
      ... on RoomMessageDeleted { seq message { ...WebRoomMessage } }
      ... on RoomMessageRepliesUpdated { seq message { ...WebRoomMessage } }
      ... on ReactionChanged { message { ...WebRoomMessage } }
      ... on ReadReceiptUpdated { userId seq }
      ... on TypingChanged { userId typing user { name } }
      ... on RoomMemberJoined { userId }
      ... on RoomMemberLeft { userId reason }
      ... on RoomMemberUpdated { userId }
      ... on RoomUpdated { roomId }
      ... on RoomDeleted { roomId }
      ... on RoomMessagePinChanged { pinned message { ...WebRoomMessage } }
    }
  }
`);
const Send = graphql(`
  mutation WebSendMessage($input: SendMessageInput!) { sendMessage(input: $input) { ...WebRoomMessage } }
`);
const CreateUpload = graphql(`
  mutation WebCreateUpload($input: CreateUploadInput!) { createUpload(input: $input) { uploadUrl uploadHeaders { name value } attachment { id } } }
`);
const Replies = graphql(`
  query WebReplies($id: ID!) {
    node(id: $id) { __typename id ... on RoomMessage { ...WebRoomMessage replies(first: 100) { edges { node { ...WebRoomMessage } } } } }
  }
`);
const MarkRead = graphql(`
  mutation WebMarkRead($input: MarkReadInput!) { markRead(input: $input) { id lastReadSeq } }
`);
const SetTyping = graphql(`
  mutation WebSetTyping($input: SetTypingInput!) { setTyping(input: $input) { typing } }
`);

/** What to tell the viewer when they are no longer in the room they were looking at. */
const GONE: Partial<Record<RoomMemberLeftReason, string>> = {
  BANNED: 'You were banned from this room',
  REMOVED: 'You were removed from this room',
  ORG_REMOVED: 'You are no longer a member of this organization',
  ROOM_DELETED: 'This room was deleted',
};

/** Why the viewer cannot send here (the server's `viewerCanSend` is false), in words. */
function whyReadOnly(room: WebRoomStateFragment, myId: string): string {
  if (room.archivedAt) return 'This room is archived: it is read-only.';
  if (room.frozen && !atLeast(room.viewerRole, 'MODERATOR')) return 'This room is frozen: only moderators can send messages.';
  const me = room.members.edges.find((e) => e.node.user.id === myId)?.node;
  if (me?.muted) return `You are muted in this room${me.muteExpiresAt ? ` until ${time(me.muteExpiresAt)}` : ''}.`;
  if (room.type === 'DM') return 'You cannot send messages in this conversation.';
  return 'You cannot send messages in this room.';
}

/**
 * One room: history, then live events from `roomEvents`. When the socket drops and comes back, the
 * subscription is started again with `afterSeq` = the last seq on screen, and the log keyed by seq
 * keeps anything replayed twice from showing twice. Moderation events (roles, mutes, freezing,
 * archiving, pins) re-read the room's state; a ban, a removal or the room's deletion leaves the view.
 */
export function RoomView({ roomId, onGone }: { roomId: string; onGone(notice: string, roomName: string | null): void }) {
  const app = useApp();
  const client = useClient();
  const [{ data, error }, refetch] = useQuery({ query: RoomQuery, variables: { id: roomId }, requestPolicy: 'network-only' });
  const log = useMemo(() => new RoomLog<WebRoomMessageFragment>(), [roomId]);
  const [messages, setMessages] = useState<WebRoomMessageFragment[]>([]);
  const [state, setState] = useState<WebRoomStateFragment | null>(null);
  const [readBy, setReadBy] = useState<Record<string, number>>({});
  const [typing, setTyping] = useState<Record<string, string>>({});
  const [epoch, setEpoch] = useState(0);
  const [sent, send] = useMutation(Send);
  const [, createUpload] = useMutation(CreateUpload);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const [openReplies, setOpenReplies] = useState<string | null>(null);
  const [panel, setPanel] = useState(false);
  const [, markRead] = useMutation(MarkRead);
  const [, setTypingMutation] = useMutation(SetTyping);
  const lastTypingSent = useRef(0);
  const markedRead = useRef(0);
  const gone = useRef(false);
  const room = data?.room;

  // The first read (and any re-read: after blocking someone, whose messages then come back hidden).
  useEffect(() => {
    if (!room) return;
    for (const { node } of room.messages.edges) log.put(node);
    setMessages(log.list());
    setState(room);
  }, [room]);
  useEffect(() => {
    if (room) setReadBy(Object.fromEntries(room.members.edges.map((e) => [e.node.user.id, e.node.lastReadSeq])));
  }, [room?.id]);

  /** Re-reads the room's state (members, roles, mutes, frozen, archived, pins) after a moderation event. */
  function refreshState() {
    client
      .query(RoomStateQuery, { id: roomId }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((r) => !gone.current && r.data?.room && setState(r.data.room));
  }
  // The subscription's handler outlives renders: it reads the room's name from here.
  const name = useRef<string | null>(null);
  name.current = state?.name ?? null;
  function leave(notice: string) {
    if (gone.current) return;
    gone.current = true;
    onGone(notice, name.current);
  }

  // A mute with an end: the composer comes back by itself when it ends (nothing is published then).
  const myMember = state?.members.edges.find((e) => e.node.user.id === app.me.id)?.node;
  useEffect(() => {
    if (!myMember?.muted || !myMember.muteExpiresAt) return;
    const t = setTimeout(refreshState, Math.max(0, new Date(myMember.muteExpiresAt).getTime() - Date.now()) + 500);
    return () => clearTimeout(t);
  }, [myMember?.muted, myMember?.muteExpiresAt]);

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
        else if (
          e.__typename === 'RoomMessageEdited' ||
          e.__typename === 'RoomMessageDeleted' ||
          e.__typename === 'ReactionChanged' ||
          e.__typename === 'RoomMessageRepliesUpdated'
        )
          log.update(e.message);
        else if (e.__typename === 'ReadReceiptUpdated') setReadBy((m) => ({ ...m, [e.userId]: Math.max(m[e.userId] ?? 0, e.seq) }));
        else if (e.__typename === 'TypingChanged')
          setTyping((t) => {
            const { [e.userId]: _, ...rest } = t;
            return e.typing && e.userId !== app.me.id ? { ...rest, [e.userId]: e.user.name } : rest;
          });
        else if (e.__typename === 'RoomMemberLeft' && e.userId === app.me.id) leave(GONE[e.reason] ?? 'You left this room');
        else if (e.__typename === 'RoomDeleted') leave(GONE.ROOM_DELETED!);
        else if (e.__typename === 'RoomMessagePinChanged') (log.update(e.message), refreshState());
        else if (e.__typename === 'RoomMemberJoined' || e.__typename === 'RoomMemberLeft' || e.__typename === 'RoomMemberUpdated' || e.__typename === 'RoomUpdated')
          refreshState();
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

  if (error && !state) return <main class="page"><p role="alert">{errorText(error)}</p></main>;
  if (!state) return <main class="page"><p role="status">Loading…</p></main>;

  const memberNodes = state.members.edges.map((e) => e.node);
  const members = memberNodes.map((m) => m.user);
  const names = Object.fromEntries(members.map((u) => [u.id, u.name]));
  const typingNames = Object.values(typing);
  const powers = roomPowers(state.viewerRole, state.type, app.orgRole);
  const pinned = state.pinnedMessages.edges.map((e) => e.node);

  /** Opening a message's replies: reads them all (older ones may be before the page on screen) and the parent's counts. */
  function refreshParent(parentId: string) {
    client
      .query(Replies, { id: parentId }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((r) => {
        const node = r.data?.node;
        if (!node || node.__typename !== 'RoomMessage' || !('replies' in node)) return;
        for (const { node: reply } of node.replies.edges) log.put(reply);
        const { replies: _, ...parent } = node;
        log.update(parent);
        setMessages(log.list());
      });
  }

  /** Scrolls to a message (a pinned one), reading it and what follows first when it is older than the page on screen. */
  async function jumpTo(m: WebPinnedMessageFragment) {
    const target = m.parent ? m.parent.id : m.id;
    const find = () => document.querySelector<HTMLElement>(`.messages li[data-id="${CSS.escape(target)}"]`);
    if (!find() && !m.parent) {
      const r = await client.query(MessagesFrom, { id: roomId, afterSeq: m.seq - 1 }, { requestPolicy: 'network-only' }).toPromise();
      for (const { node } of r.data?.room?.messages.edges ?? []) log.put(node);
      setMessages(log.list());
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    if (m.parent) (setOpenReplies(m.parent.id), refreshParent(m.parent.id));
    const el = find();
    el?.scrollIntoView({ block: 'center' });
    el?.classList.add('flash');
    setTimeout(() => el?.classList.remove('flash'), 1500);
  }

  /** Each file: createUpload, then PUT its bytes to the URL it gives; returns the attachment ids. */
  async function upload(files: File[]): Promise<string[] | null> {
    const ids: string[] = [];
    for (const file of files) {
      const r = await createUpload({ input: { orgId: app.orgId!, filename: file.name, contentType: file.type || 'application/octet-stream', byteSize: file.size } });
      if (!r.data) {
        setUploadError(errorText(r.error));
        return null;
      }
      const { uploadUrl, uploadHeaders, attachment } = r.data.createUpload;
      const put = await fetch(uploadUrl, { method: 'PUT', headers: uploadHeaders.map((h) => [h.name, h.value] as [string, string]), body: file });
      if (!put.ok) {
        setUploadError(`${file.name}: ${(await put.json().catch(() => null))?.error ?? `upload failed (${put.status})`}`);
        return null;
      }
      ids.push(attachment.id);
    }
    return ids;
  }

  /** Members named as @Name in the text (longest names first, so "@Ann Lee" wins over "@Ann"). */
  function mentionsIn(content: string): string[] {
    const ids = new Set<string>();
    for (const u of [...members].sort((a, b) => b.name.length - a.name.length)) if (content.includes(`@${u.name}`)) ids.add(u.id);
    return [...ids];
  }

  async function submit(e: Event, parentId?: string) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const content = String(data.get('content')).trim();
    const files = data.getAll('files').filter((f): f is File => f instanceof File && f.size > 0);
    if (!content && !files.length) return;
    setUploadError(null);
    const attachmentIds = files.length ? await upload(files) : [];
    if (!attachmentIds) return;
    const mentionIds = mentionsIn(content);
    const r = await send({
      input: {
        roomId,
        content: content || files.map((f) => f.name).join(', '),
        clientMsgId: clientId(),
        ...(attachmentIds.length ? { attachmentIds } : {}),
        ...(mentionIds.length ? { mentionIds } : {}),
        ...(parentId ? { parentId } : {}),
      },
    });
    if (r.data) {
      form.reset();
      log.put(r.data.sendMessage);
      setMessages(log.list());
      lastTypingSent.current = 0;
      setTypingMutation({ input: { roomId, typing: false } });
    } else if (r.error?.graphQLErrors.some((g) => g.extensions?.code === 'FORBIDDEN')) refreshState();
  }

  const seenByOf = (m: WebRoomMessageFragment) =>
    Object.entries(readBy)
      .filter(([uid, seq]) => uid !== app.me.id && uid !== m.author.id && seq === m.seq)
      .map(([uid]) => names[uid])
      .filter(Boolean);
  const topLevel = messages.filter((m) => !m.parent);
  const parent = openReplies ? messages.find((m) => m.id === openReplies) : undefined;
  const replies = openReplies ? messages.filter((m) => m.parent?.id === openReplies) : [];
  const item = (m: WebRoomMessageFragment, onOpenReplies?: () => void) => (
    <RoomMessageItem
      key={m.seq}
      message={m}
      mine={m.author.id === app.me.id}
      seenBy={onOpenReplies ? seenByOf(m) : []}
      canPin={powers.pin && !state.archivedAt}
      onOpenReplies={onOpenReplies}
    />
  );

  return (
    <main class="room">
      <header>
        <h2>
          {state.name ?? 'Direct message'}
          {state.frozen && <small class="tag"> Frozen</small>}
          {state.archivedAt && <small class="tag"> Archived</small>}
        </h2>
        {state.topic && <p>{state.topic}</p>}
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
        <div class="room-tools">
          <button aria-expanded={panel} onClick={() => setPanel(!panel)}>{panel ? 'Hide members' : 'Manage members'}</button>
          <RoomSettings room={state} onChanged={refreshState} onDeleted={() => leave(GONE.ROOM_DELETED!)} />
        </div>
        {panel && <MembersPanel room={state} members={memberNodes} onChanged={() => (refreshState(), refetch({ requestPolicy: 'network-only' }))} />}
        <PinnedList pinned={pinned} canUnpin={powers.pin && !state.archivedAt} onJump={jumpTo} onChanged={refreshState} />
      </header>
      <div class="messages" role="log" aria-label="Messages" aria-live="polite">
      <ol>
        {topLevel.map((m) => item(m, () => (setOpenReplies(m.id), refreshParent(m.id))))}
      </ol>
      </div>
      <p class="typing" role="status" aria-live="polite">
        {typingNames.length ? `${typingNames.join(', ')} ${typingNames.length > 1 ? 'are' : 'is'} typing…` : ''}
      </p>
      {!state.viewerCanSend ? (
        <p class="read-only" role="status" aria-label="Cannot send">{whyReadOnly(state, app.me.id)}</p>
      ) : (
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
        <label class="attach">
          Attach files <input type="file" name="files" multiple />
        </label>
        <button type="submit" disabled={sent.fetching}>Send</button>
        {sent.error && <p role="alert">{errorText(sent.error)}</p>}
        {uploadError && <p role="alert">{uploadError}</p>}
      </form>
      )}
      {parent && (
        <section class="replies" aria-label="Replies">
          <header>
            <h3>Replies to {parent.author.name}</h3>
            <button onClick={() => setOpenReplies(null)}>Close replies</button>
          </header>
          <ol>
            {replies.map((m) => item(m))}
          </ol>
          {state.viewerCanSend && (
          <form class="composer" aria-label="Send a reply" onSubmit={(e) => submit(e, parent.id)}>
            <label>
              Reply <input name="content" autoComplete="off" />
            </label>
            <button type="submit">Send reply</button>
          </form>
          )}
        </section>
      )}
    </main>
  );
}
